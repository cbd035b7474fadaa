package kernelref

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/state"
)

// twin runs scenarios on a twin host: the same setup commands through
// iptwin's multi-call commands on a state directory, then the packets
// through package stack.
type twin struct{}

func init() { Twin = twin{} }

// hostRun is one scenario's twin host and what it emitted.
type hostRun struct {
	dir   string
	sd    *state.Dir
	h     *stack.Host
	peers map[string][6]byte // iface → peer MAC
	neigh map[neighKey]bool
	step  *Step
}

type neighKey struct {
	dev  string
	addr netip.Addr
}

func (twin) Run(s *Scenario) (*Result, error) {
	dir, err := os.MkdirTemp("", "iptwin-twin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	hr := &hostRun{dir: dir, peers: map[string][6]byte{}, neigh: map[neighKey]bool{}}
	// lo is up, as on any booted host (the kernel runner does the same).
	if err := hr.command(Command{Args: []string{"ip", "link", "set", "lo", "up"}}); err != nil {
		return nil, err
	}
	for _, ifc := range s.Ifaces {
		hr.peers[ifc.Name] = ifc.PeerMAC
		for _, c := range [][]string{
			{"ip", "link", "add", ifc.Name, "type", "dummy"},
			{"ip", "link", "set", ifc.Name, "address", macString(ifc.MAC)},
			{"ip", "link", "set", ifc.Name, "up"},
		} {
			if err := hr.command(Command{Args: c}); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range s.Setup {
		if err := hr.command(c); err != nil {
			return nil, err
		}
	}
	if err := hr.load(); err != nil {
		return nil, err
	}
	// The kernel runner installs permanent neighbour entries for the next
	// hop of every address the packets carry, and for the neigh lines.
	for _, n := range s.Neigh {
		hr.neigh[neighKey{n.Iface, n.Addr}] = true
	}
	for _, p := range s.Packets {
		for sp := &p.Spec; sp != nil; sp = sp.Inner {
			hr.addNeigh(sp.Src)
			hr.addNeigh(sp.Dst)
		}
	}
	for _, l := range s.Listen {
		hr.h.Sockets = append(hr.h.Sockets, stack.Socket{Proto: l.Proto, Addr: l.Addr, Port: l.Port})
	}
	res := &Result{}
	for _, p := range s.Packets {
		if len(p.Run) > 0 {
			// Commands between packets see the counters so far and change
			// the rules; the host keeps its connections and clock.
			if err := stack.SaveRuntime(hr.sd, hr.h, hr.sd.Names()); err != nil {
				return nil, err
			}
			for _, c := range p.Run {
				if err := hr.command(c); err != nil {
					return nil, err
				}
			}
			if err := hr.reload(); err != nil {
				return nil, err
			}
		}
		// The kernel runner sends a packet once the previous one has
		// settled (80 ms without a frame); the twin's clock moves on by
		// as much, for what is timed (rate limits of ICMP and redirects).
		hr.h.Now += 100e6
		sp, _ := res.Resolve(p.Spec)
		ip, err := sp.Append(nil)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", p.Line, err)
		}
		res.Steps = append(res.Steps, Step{Text: p.Text, Packet: ip})
		hr.step = &res.Steps[len(res.Steps)-1]
		if sp.Dir == pktspec.DirOut {
			// A raw socket of root's.
			r, err := hr.h.Send(ip, &stack.Socket{})
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", p.Line, err)
			}
			hr.step.Err = r.SendErr
			continue
		}
		frame := make([]byte, 0, 14+len(ip))
		mac := hr.ifaceMAC(sp.Iface)
		peer := hr.peers[sp.Iface]
		if sp.HasMAC {
			mac, peer = sp.DstMAC, sp.SrcMAC
		}
		frame = append(frame, mac[:]...)
		frame = append(frame, peer[:]...)
		if sp.IsIPv6() {
			frame = append(frame, 0x86, 0xdd)
		} else {
			frame = append(frame, 0x08, 0x00)
		}
		frame = append(frame, ip...)
		if _, err := hr.h.Receive(sp.Iface, frame); err != nil {
			return nil, fmt.Errorf("line %d: %v", p.Line, err)
		}
	}
	if err := stack.SaveRuntime(hr.sd, hr.h, hr.sd.Names()); err != nil {
		return nil, err
	}
	var err4, err6 error
	res.Save4, err4 = hr.output("iptables-save", "-c")
	res.Save6, err6 = hr.output("ip6tables-save", "-c")
	if err4 != nil {
		return nil, err4
	}
	if err6 != nil {
		return nil, err6
	}
	res.Conntrack = hr.h.ConntrackLines()
	return res, nil
}

// addNeigh adds the next hop towards a, as "ip route get" gives it.
func (hr *hostRun) addNeigh(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	r, _, err := hr.h.Net.Lookup(a, netip.Addr{}, "", "", 0)
	if err != nil || r.Dev == 0 {
		return
	}
	l := hr.h.Net.LinkByIndex(r.Dev)
	if l == nil || l.Kind == "loopback" {
		return
	}
	hop := a
	if r.Gw.IsValid() {
		hop = r.Gw
	}
	hr.neigh[neighKey{l.Name, hop}] = true
}

func (hr *hostRun) ifaceMAC(dev string) [6]byte {
	var m [6]byte
	if l := hr.h.Net.LinkByName(dev); l != nil {
		fmt.Sscanf(l.MAC, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5])
	}
	return m
}

// load builds the host from the state directory and attaches the
// scenario's neighbours and the capture of what it sends.
func (hr *hostRun) load() error {
	sd, err := state.Open(hr.dir)
	if err != nil {
		return err
	}
	h, err := stack.Load(sd, "twin", 1)
	if err != nil {
		return err
	}
	hr.sd, hr.h = sd, h
	h.Neigh = func(dev string, a netip.Addr) ([6]byte, bool) {
		if hr.neigh[neighKey{dev, a}] {
			return hr.peers[dev], true
		}
		return [6]byte{}, false
	}
	h.Emit = func(dev string, f []byte) {
		hr.step.Frames = append(hr.step.Frames, Frame{Iface: dev, Data: append([]byte(nil), f...)})
	}
	h.Log = func(level uint8, line []byte) {
		hr.step.Logs = append(hr.step.Logs, LogLine{Level: level, Text: string(line)})
	}
	return nil
}

// reload takes the rules and network configuration the commands changed.
func (hr *hostRun) reload() error {
	fresh, err := stack.Load(hr.sd, "twin", 1)
	if err != nil {
		return err
	}
	return hr.h.Replace(fresh.Net, fresh.Rules[0], fresh.Rules[1])
}

func (hr *hostRun) command(c Command) error {
	_, err := hr.run(c.Args, c.Stdin)
	if err != nil && c.Line > 0 {
		return fmt.Errorf("line %d: %v", c.Line, err)
	}
	return err
}

func (hr *hostRun) output(args ...string) (string, error) { return hr.run(args, "") }

func (hr *hostRun) run(args []string, stdin string) (string, error) {
	var out, errb bytes.Buffer
	argv := append([]string{"iptwin", "--state", hr.dir}, args...)
	if rc := cli.Main(argv, strings.NewReader(stdin), &out, &errb); rc != 0 {
		return "", fmt.Errorf("%s: exit %d: %s", strings.Join(args, " "), rc, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
