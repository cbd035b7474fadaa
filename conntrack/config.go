package conntrack

import (
	"strconv"
	"strings"
)

// TCP conntrack states (enum tcp_conntrack), in the kernel's order: the
// state table and the timeout array are indexed by them.
const (
	TCPNone uint8 = iota
	TCPSynSent
	TCPSynRecv
	TCPEstablished
	TCPFinWait
	TCPCloseWait
	TCPLastAck
	TCPTimeWait
	TCPClose
	TCPSynSent2
	tcpStates         // TCP_CONNTRACK_MAX: sIV in the state table
	tcpIgnore         // TCP_CONNTRACK_IGNORE: sIG
	tcpTimeoutRetrans // TCP_CONNTRACK_RETRANS: the max_retrans timeout
	tcpTimeoutUnack   // TCP_CONNTRACK_UNACK: the unacknowledged timeout
)

var tcpStateNames = [tcpStates]string{
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
}

// TCPStateName is the state's name as /proc and conntrack -L print it.
func TCPStateName(s uint8) string {
	if s < tcpStates {
		return tcpStateNames[s]
	}
	return tcpStateNames[TCPNone]
}

// Config is the per-namespace conntrack settings: the net.netfilter.*
// sysctls that change what the tracker does. Timeouts are in seconds, as
// the sysctls give them (the kernel keeps them in jiffies).
type Config struct {
	// Max is nf_conntrack_max: allocation beyond it tries early_drop and
	// drops the packet when that fails. 0 means no limit.
	Max int
	// Buckets is nf_conntrack_buckets, the kernel's hash size: early_drop
	// scans 8 of these buckets, so it decides how often a full table can
	// make room.
	Buckets int
	// Checksum is nf_conntrack_checksum: verify TCP, UDP and ICMP
	// checksums of packets in PREROUTING (bad ones are INVALID).
	Checksum bool
	// Acct is nf_conntrack_acct: count packets and bytes per direction
	// of the connections created while it is set.
	Acct bool
	// TCPLoose is nf_conntrack_tcp_loose: pick up connections from a
	// mid-stream packet (otherwise only a SYN starts one).
	TCPLoose bool
	// TCPBeLiberal is nf_conntrack_tcp_be_liberal: out-of-window packets
	// are accepted (only out-of-window RSTs stay INVALID).
	TCPBeLiberal bool
	// TCPIgnoreInvalidRST is nf_conntrack_tcp_ignore_invalid_rst.
	TCPIgnoreInvalidRST bool
	// TCPMaxRetrans is nf_conntrack_tcp_max_retrans: after that many
	// identical retransmissions the shorter max_retrans timeout applies.
	TCPMaxRetrans int

	// TCPTimeout is indexed by TCP state (TCPSynSent … TCPSynSent2);
	// TCPTimeoutMaxRetrans and TCPTimeoutUnack are the two extra ones.
	TCPTimeout           [tcpStates]int
	TCPTimeoutMaxRetrans int
	TCPTimeoutUnack      int
	UDPTimeout           int // unreplied (and replied within 2 s)
	UDPTimeoutStream     int // seen both ways for more than 2 s
	ICMPTimeout          int
	ICMPv6Timeout        int
	GRETimeout           int // unreplied
	GRETimeoutStream     int // seen both ways
	GenericTimeout       int
}

// DefaultConfig is a fresh namespace of Linux 6.x on the reference host
// (nf_conntrack_max and the bucket count follow the host's memory; the
// reference host, with more than 4 GiB, has 262144 of both).
func DefaultConfig() Config {
	c := Config{
		Max: 262144, Buckets: 262144, Checksum: true, TCPLoose: true, TCPMaxRetrans: 3,
		TCPTimeoutMaxRetrans: 300, TCPTimeoutUnack: 300,
		UDPTimeout: 30, UDPTimeoutStream: 120, ICMPTimeout: 30, ICMPv6Timeout: 30,
		GRETimeout: 30, GRETimeoutStream: 180, GenericTimeout: 600,
	}
	// tcp_timeouts[] of nf_conntrack_proto_tcp.c; [NONE] is unused and
	// set like SYN_SENT by nf_conntrack_tcp_init_net.
	c.TCPTimeout = [tcpStates]int{
		TCPNone: 120, TCPSynSent: 120, TCPSynRecv: 60, TCPEstablished: 432000,
		TCPFinWait: 120, TCPCloseWait: 60, TCPLastAck: 30, TCPTimeWait: 120,
		TCPClose: 10, TCPSynSent2: 120,
	}
	return c
}

// sysctlKeys maps the net.netfilter.* names to the settings they change.
var sysctlKeys = map[string]func(c *Config, v int){
	"nf_conntrack_max":                        func(c *Config, v int) { c.Max = v },
	"nf_conntrack_buckets":                    func(c *Config, v int) { c.Buckets = v },
	"nf_conntrack_checksum":                   func(c *Config, v int) { c.Checksum = v != 0 },
	"nf_conntrack_acct":                       func(c *Config, v int) { c.Acct = v != 0 },
	"nf_conntrack_tcp_loose":                  func(c *Config, v int) { c.TCPLoose = v != 0 },
	"nf_conntrack_tcp_be_liberal":             func(c *Config, v int) { c.TCPBeLiberal = v != 0 },
	"nf_conntrack_tcp_ignore_invalid_rst":     func(c *Config, v int) { c.TCPIgnoreInvalidRST = v != 0 },
	"nf_conntrack_tcp_max_retrans":            func(c *Config, v int) { c.TCPMaxRetrans = v },
	"nf_conntrack_tcp_timeout_syn_sent":       func(c *Config, v int) { c.TCPTimeout[TCPSynSent], c.TCPTimeout[TCPNone] = v, v },
	"nf_conntrack_tcp_timeout_syn_recv":       func(c *Config, v int) { c.TCPTimeout[TCPSynRecv] = v },
	"nf_conntrack_tcp_timeout_established":    func(c *Config, v int) { c.TCPTimeout[TCPEstablished] = v },
	"nf_conntrack_tcp_timeout_fin_wait":       func(c *Config, v int) { c.TCPTimeout[TCPFinWait] = v },
	"nf_conntrack_tcp_timeout_close_wait":     func(c *Config, v int) { c.TCPTimeout[TCPCloseWait] = v },
	"nf_conntrack_tcp_timeout_last_ack":       func(c *Config, v int) { c.TCPTimeout[TCPLastAck] = v },
	"nf_conntrack_tcp_timeout_time_wait":      func(c *Config, v int) { c.TCPTimeout[TCPTimeWait] = v },
	"nf_conntrack_tcp_timeout_close":          func(c *Config, v int) { c.TCPTimeout[TCPClose] = v },
	"nf_conntrack_tcp_timeout_max_retrans":    func(c *Config, v int) { c.TCPTimeoutMaxRetrans = v },
	"nf_conntrack_tcp_timeout_unacknowledged": func(c *Config, v int) { c.TCPTimeoutUnack = v },
	"nf_conntrack_udp_timeout":                func(c *Config, v int) { c.UDPTimeout = v },
	"nf_conntrack_udp_timeout_stream":         func(c *Config, v int) { c.UDPTimeoutStream = v },
	"nf_conntrack_icmp_timeout":               func(c *Config, v int) { c.ICMPTimeout = v },
	"nf_conntrack_icmpv6_timeout":             func(c *Config, v int) { c.ICMPv6Timeout = v },
	"nf_conntrack_gre_timeout":                func(c *Config, v int) { c.GRETimeout = v },
	"nf_conntrack_gre_timeout_stream":         func(c *Config, v int) { c.GRETimeoutStream = v },
	"nf_conntrack_generic_timeout":            func(c *Config, v int) { c.GenericTimeout = v },
}

// ConfigFromSysctls reads the settings from a host's sysctl map (keys
// like "net.netfilter.nf_conntrack_tcp_loose"; "net.nf_conntrack_max" is
// the alias of nf_conntrack_max). Missing keys keep DefaultConfig's
// values; values that are not integers are ignored, as the kernel refuses
// to store them.
func ConfigFromSysctls(m map[string]string) Config {
	c := DefaultConfig()
	if v, ok := m["net.nf_conntrack_max"]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			c.Max = n
		}
	}
	for k, set := range sysctlKeys {
		v, ok := m["net.netfilter."+k]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		set(&c, n)
	}
	return c
}
