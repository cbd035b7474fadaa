package kernelref

import (
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
)

// Runner runs a scenario on one host: the real kernel (Kernel) or a twin.
type Runner interface {
	Run(s *Scenario) (*Result, error)
}

// Twin is the twin host's runner, registered by the packet path (in
// twin.go); TestTwin compares it with the kernel's goldens.
var Twin Runner

// Result is what a runner observed, raw; Text normalises it into the
// golden form. Runners fill one Step per packet of the scenario, in
// order, then the listings.
type Result struct {
	Steps []Step
	// Save4 and Save6 are the outputs of iptables-save -c and
	// ip6tables-save -c; Conntrack the lines of conntrack -L (both
	// families, in any order).
	Save4, Save6 string
	Conntrack    []string
}

// Step is what one injected packet caused.
type Step struct {
	Text   string // the packet's line in the scenario
	Packet []byte // the IP packet injected (ack peer+N resolved)
	// Err is the error the raw socket's sendto returned for an "out"
	// packet (a packet dropped in OUTPUT gives "operation not
	// permitted"), as strerror words.
	Err    string
	Frames []Frame
	Logs   []LogLine
}

// Frame is an Ethernet frame the host transmitted on an interface, in the
// order the peer received it.
type Frame struct {
	Iface string
	Data  []byte
}

// LogLine is a kernel LOG line: its syslog level and the text dmesg shows
// after the timestamp (prefix included).
type LogLine struct {
	Level uint8
	Text  string
}

// Resolve returns the spec of packet i with "ack peer+N" made absolute:
// the peer is the host's side of the connection, whose initial sequence
// number is the sequence number of the last SYN the host sent from the
// packet's destination to its source (a SYN-ACK of a listener) in the
// steps so far. Both runners call it before building the packet.
func (r *Result) Resolve(sp pktspec.Spec) (pktspec.Spec, bool) {
	if !sp.AckPeer {
		return sp, true
	}
	var p packet.Packet
	for i := len(r.Steps) - 1; i >= 0; i-- {
		fr := r.Steps[i].Frames
		for j := len(fr) - 1; j >= 0; j-- {
			if p.DecodeEthernet(fr[j].Data) != nil || p.Layers&packet.LayerTCP == 0 || p.TCP.Flags&packet.TCPSyn == 0 {
				continue
			}
			if p.Src() == sp.Dst && p.Dst() == sp.Src && p.TCP.SrcPort == sp.DstPort && p.TCP.DstPort == sp.SrcPort {
				return sp.Resolve(p.TCP.Seq), true
			}
		}
	}
	return sp, false
}
