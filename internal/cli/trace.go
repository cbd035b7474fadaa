package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/nflog"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/xtables"
)

// iptwin trace: one or more packets through the twin host, every step
// shown. Packets are given in pktspec's notation, separated by ";", or as
// kernel LOG lines with --log.
func init() { Register("trace", runTrace) }

const traceUsage = `Usage: iptwin trace [--state DIR] [--json] [--no-save] [--wait DURATION] PACKET [; PACKET ...]
       iptwin trace [options] --log 'IN=eth0 OUT= MAC=... SRC=... DST=... ...'

Sends packets into the twin host and shows every hook, table, chain and rule
they meet, the routing decisions, conntrack and NAT, LOG lines, the packets
the host sends in answer and each packet's fate. A PACKET is written as
tcpdump prints it, e.g.

  tcp 10.1.77.146:55724 > 10.1.51.165:22 syn in eth0
  icmp 10.0.0.1 > 10.0.0.2 echo-request out
  udp [2001:db8::1]:500 > [2001:db8::2]:500 len 1596 in eth0

"in IFACE" is a packet arriving on IFACE, "out" one a local socket sends;
without either, a packet from one of the host's own addresses is sent
out, any other arrives on the interface of the route back to its source.
Several packets (separated by ";") share the host's connection tracking
and counters, which are saved in the state directory unless --no-save.

Options:
  --json          machine-readable output (see docs/trace.md)
  --log LINE      the packet of a kernel LOG line (repeatable)
  --wait DURATION advance the host's clock before the packets (e.g. 30s)
  --no-save       leave the state directory as it was
  --monitor       print what xtables-monitor --trace prints for the packets
                  that meet a TRACE rule
  --syslog HOST   show LOG lines as /var/log/messages does, from host HOST
  --date TIME     the host's wall clock at the first packet (RFC 3339,
                  default 2026-01-01T00:00:00Z), for --syslog
`

func runTrace(env *Env, prog string, args []string) int {
	var asJSON, noSave, monitor bool
	var syslogHost string
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wait time.Duration
	var specs []string
	var logs []string
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(env.Stdout, traceUsage)
			return 0
		case a == "--json":
			asJSON = true
		case a == "--no-save":
			noSave = true
		case a == "--monitor":
			monitor = true
		case a == "--log" || a == "--wait" || a == "--syslog" || a == "--date":
			if i+1 >= len(args) {
				fmt.Fprintf(env.Stderr, "iptwin trace: %s needs an argument\n", a)
				return 2
			}
			i++
			if a == "--syslog" {
				syslogHost = args[i]
				continue
			}
			if a == "--date" {
				d, err := time.Parse(time.RFC3339, args[i])
				if err != nil {
					fmt.Fprintf(env.Stderr, "iptwin trace: --date %q: not a time such as 2025-09-02T08:58:57Z\n", args[i])
					return 2
				}
				date = d
				continue
			}
			if a == "--log" {
				logs = append(logs, args[i])
				continue
			}
			d, err := time.ParseDuration(args[i])
			if err != nil || d < 0 {
				fmt.Fprintf(env.Stderr, "iptwin trace: --wait %q: not a duration such as 30s\n", args[i])
				return 2
			}
			wait = d
		case a == "--":
			words = append(words, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			fmt.Fprintf(env.Stderr, "iptwin trace: unknown option %s\n%s", a, traceUsage)
			return 2
		default:
			words = append(words, a)
		}
	}
	for _, s := range strings.Split(strings.Join(words, " "), ";") {
		if s = strings.TrimSpace(s); s != "" {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 && len(logs) == 0 {
		fmt.Fprint(env.Stderr, "iptwin trace: no packet given\n"+traceUsage)
		return 2
	}
	var parsed []pktspec.Spec
	for i, s := range specs {
		sp, err := pktspec.Parse(s)
		if err != nil {
			fmt.Fprintf(env.Stderr, "iptwin trace: packet %d: %v\n", i+1, err)
			return 2
		}
		parsed = append(parsed, sp)
	}
	for i, l := range logs {
		sp, err := pktspec.ParseLog(l)
		if err != nil {
			fmt.Fprintf(env.Stderr, "iptwin trace: --log %d: %v\n", i+1, err)
			return 2
		}
		parsed = append(parsed, sp)
	}

	d, rc := openState(env, prog)
	if rc != 0 {
		return rc
	}
	defer d.Unlock()
	h, err := stack.Load(d, "twin", 1)
	if err != nil {
		fmt.Fprintf(env.Stderr, "iptwin trace: %v\n", err)
		return 1
	}
	if err := stack.LoadRuntime(d, h); err != nil {
		fmt.Fprintf(env.Stderr, "iptwin trace: %v\n", err)
		return 1
	}
	h.Now += int64(wait)
	// --date is the wall clock at the first packet (the xfrm SAs' times).
	h.WallBase = date.UnixNano() - h.Now
	// Neighbours answer: a traced packet's replies reach their next hop.
	h.Neigh = func(dev string, _ netip.Addr) ([6]byte, bool) {
		if l := h.Net.LinkByName(dev); l != nil {
			return [6]byte(peerMAC(l.MAC)), true
		}
		return [6]byte{}, false
	}
	names := d.Names()
	var all []*stack.Trace
	var mon *stack.Monitor
	if monitor {
		mon = stack.NewMonitor(names)
	}
	for i := range parsed {
		tr := stack.NewTrace(names)
		if syslogHost != "" {
			start := h.Now
			tr.Syslog = func(line []byte) string {
				t := date.UnixNano() + (h.Now - start)
				return string(nflog.AppendSyslog(nil, t, syslogHost, line, nflog.SyslogOptions{}))
			}
		}
		h.Obs = tr
		if mon != nil {
			h.Obs = mon.Attach(h, tr)
		}
		if err := sendSpec(h, tr, &parsed[i]); err != nil {
			fmt.Fprintf(env.Stderr, "iptwin trace: packet %d: %v\n", i+1, err)
			return 1
		}
		h.Obs = nil
		if mon != nil {
			if err := mon.WriteTrace(env.Stdout, tr); err != nil {
				// Where the real xtables-monitor exits (rules it cannot
				// print), so does this output.
				var exit *stack.MonitorExit
				if errors.As(err, &exit) {
					fmt.Fprint(env.Stderr, exit.Stderr)
					return exit.Code
				}
				fmt.Fprintf(env.Stderr, "iptwin trace: %v\n", err)
				return 1
			}
			continue
		}
		all = append(all, tr)
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"runs": all})
	} else {
		for i, tr := range all {
			if i > 0 {
				fmt.Fprintln(env.Stdout)
			}
			tr.WriteText(env.Stdout)
		}
	}
	if !noSave {
		if err := stack.SaveRuntime(d, h, names); err != nil {
			fmt.Fprintf(env.Stderr, "iptwin trace: saving the state: %v\n", err)
			return 1
		}
	}
	return 0
}

// sendSpec builds the packet and hands it to the host in its direction.
func sendSpec(h *stack.Host, tr *stack.Trace, sp *pktspec.Spec) error {
	ip, err := sp.Append(nil)
	if err != nil {
		return err
	}
	dir, dev := sp.Dir, sp.Iface
	if dir == pktspec.DirUnset {
		dir, dev, err = guessDir(h, sp.Src)
		if err != nil {
			return err
		}
	}
	if dir == pktspec.DirOut {
		tr.Start("output", "", ip)
		res, err := h.Send(ip, nil)
		if err != nil {
			return err
		}
		tr.Finish(res)
		return nil
	}
	l := h.Net.LinkByName(dev)
	if l == nil {
		return fmt.Errorf("Cannot find device %q", dev)
	}
	frame := make([]byte, 14, 14+len(ip))
	if sp.HasMAC {
		copy(frame[0:6], sp.DstMAC[:])
		copy(frame[6:12], sp.SrcMAC[:])
	} else {
		copy(frame[0:6], parseMACString(l.MAC))
		copy(frame[6:12], peerMAC(l.MAC))
	}
	if sp.IsIPv6() {
		frame[12], frame[13] = 0x86, 0xdd
	} else {
		frame[12], frame[13] = 0x08, 0x00
	}
	frame = append(frame, ip...)
	tr.Start("input", dev, ip)
	res, err := h.Receive(dev, frame)
	if err != nil {
		return err
	}
	tr.Finish(res)
	return nil
}

// guessDir: a packet from one of the host's addresses is sent by it;
// any other arrives by the interface of the route back to its source.
func guessDir(h *stack.Host, src netip.Addr) (pktspec.Dir, string, error) {
	if h.AddrType(src) == xtables.RTNLocal {
		return pktspec.DirOut, "", nil
	}
	r, _, err := h.Net.Lookup(src, netip.Addr{}, "", "", 0)
	if err != nil || r.Dev == 0 {
		return 0, "", fmt.Errorf("no route back to %s to guess the interface: say \"in IFACE\" or \"out\"", src)
	}
	return pktspec.DirIn, h.Net.LinkByIndex(r.Dev).Name, nil
}

func parseMACString(s string) []byte {
	b := make([]byte, 6)
	for i := 0; i < 6 && i*3+2 <= len(s); i++ {
		v, _ := strconv.ParseUint(s[i*3:i*3+2], 16, 8)
		b[i] = byte(v)
	}
	return b
}

// peerMAC is the MAC address of the unnamed neighbour a traced packet
// comes from: the interface's with the last byte complemented, so that
// it is stable and never the interface's own.
func peerMAC(own string) []byte {
	m := parseMACString(own)
	m[0] = m[0]&^1 | 2
	m[5] ^= 0xff
	return m
}
