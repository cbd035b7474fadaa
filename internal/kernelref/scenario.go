package kernelref

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
)

// Scenario is one parsed scenario file: one host under test.
type Scenario struct {
	Name    string // the file name without .scn
	Ifaces  []Iface
	Setup   []Command // run lines before the first packet
	Listen  []Listen
	Neigh   []Neigh
	Packets []Packet
}

// Iface is an interface of the host, a veth whose other end is the peer.
type Iface struct {
	Name    string
	MAC     [6]byte // the host's end
	PeerMAC [6]byte // the peer's end: source of injected frames, next hop of emitted ones
}

// Command is a run line: argv and what it reads on standard input (a
// here-document or a file given with <).
type Command struct {
	Line  int
	Args  []string
	Stdin string
}

// Listen is a socket on the host: a listening TCP socket or a bound UDP
// socket. An invalid Addr means every address of both families.
type Listen struct {
	Proto uint8 // packet.ProtoTCP or packet.ProtoUDP
	Port  uint16
	Addr  netip.Addr
}

// Neigh is a static neighbour entry: Addr on Iface resolves to the peer.
type Neigh struct {
	Iface string
	Addr  netip.Addr
}

// Packet is one packet the scenario sends: its line, its text and the
// parsed spec (Dir is always set). Run lines after the previous packet
// run before it.
type Packet struct {
	Line int
	Text string
	Spec pktspec.Spec
	Run  []Command
}

// Tools a run line may call: what both the kernel and the twin know.
var runTools = map[string]bool{
	"ip": true, "sysctl": true, "iptables": true, "ip6tables": true,
	"iptables-restore": true, "ip6tables-restore": true, "conntrack": true,
}

// LoadScenario reads and parses a scenario file; a "< FILE" redirection
// is read relative to the file's directory.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(path), ".scn")
	dir := filepath.Dir(path)
	return ParseScenario(name, string(b), func(f string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, f))
		return string(b), err
	})
}

// ParseScenario parses the text of a scenario; readFile resolves "< FILE"
// redirections (nil: not allowed).
func ParseScenario(name, text string, readFile func(string) (string, error)) (*Scenario, error) {
	s := &Scenario{Name: name}
	lines := strings.Split(text, "\n")
	var pending []Command
	fail := func(n int, f string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(f, a...))
	}
	for i := 0; i < len(lines); i++ {
		n := i + 1
		words, err := splitWords(lines[i])
		if err != nil {
			return nil, fail(n, "%v", err)
		}
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "iface":
			if len(s.Packets) > 0 || len(s.Setup) > 0 {
				return nil, fail(n, "iface after run lines or packets")
			}
			ifc, err := parseIface(words, len(s.Ifaces))
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			for _, x := range s.Ifaces {
				if x.Name == ifc.Name {
					return nil, fail(n, "iface %s twice", ifc.Name)
				}
			}
			s.Ifaces = append(s.Ifaces, ifc)
		case "run":
			c := Command{Line: n, Args: words[1:]}
			if len(c.Args) == 0 || !runTools[c.Args[0]] {
				return nil, fail(n, "run wants one of ip, sysctl, iptables, ip6tables, iptables-restore, ip6tables-restore, conntrack")
			}
			if k := len(c.Args); k >= 1 && strings.HasPrefix(c.Args[k-1], "<<") {
				end := strings.Trim(c.Args[k-1][2:], `'"`)
				if end == "" {
					return nil, fail(n, "here-document without a terminator word")
				}
				c.Args = c.Args[:k-1]
				j := i + 1
				for ; j < len(lines) && strings.TrimRight(lines[j], " \t\r") != end; j++ {
					c.Stdin += lines[j] + "\n"
				}
				if j == len(lines) {
					return nil, fail(n, "here-document not terminated by %s", end)
				}
				i = j
			} else if k >= 2 && c.Args[k-2] == "<" {
				if readFile == nil {
					return nil, fail(n, "no files to read %s from", c.Args[k-1])
				}
				in, err := readFile(c.Args[k-1])
				if err != nil {
					return nil, fail(n, "%v", err)
				}
				c.Stdin, c.Args = in, c.Args[:k-2]
			}
			if len(s.Packets) == 0 {
				s.Setup = append(s.Setup, c)
			} else {
				pending = append(pending, c)
			}
		case "listen":
			if len(s.Packets) > 0 {
				return nil, fail(n, "listen after the first packet")
			}
			l, err := parseListen(words)
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			s.Listen = append(s.Listen, l)
		case "neigh":
			if len(s.Packets) > 0 {
				return nil, fail(n, "neigh after the first packet")
			}
			if len(words) != 3 {
				return nil, fail(n, "neigh IFACE ADDRESS")
			}
			a, err := netip.ParseAddr(words[2])
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			s.Neigh = append(s.Neigh, Neigh{Iface: words[1], Addr: a})
		case "logpkt":
			// A packet given as a kernel LOG line (the rest of the line).
			text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i]), "logpkt"))
			sp, err := pktspec.ParseLog(text)
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			if err := s.addPacket(n, "logpkt "+text, sp, &pending); err != nil {
				return nil, fail(n, "%v", err)
			}
		default:
			text := strings.Join(words, " ")
			sp, err := pktspec.Parse(stripComment(lines[i]))
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			if err := s.addPacket(n, text, sp, &pending); err != nil {
				return nil, fail(n, "%v", err)
			}
		}
	}
	if len(pending) > 0 {
		return nil, fail(pending[0].Line, "run lines after the last packet")
	}
	if len(s.Ifaces) == 0 {
		return nil, fmt.Errorf("%s: no iface", name)
	}
	for _, nb := range s.Neigh {
		if s.iface(nb.Iface) < 0 {
			return nil, fmt.Errorf("%s: neigh on unknown iface %s", name, nb.Iface)
		}
	}
	return s, nil
}

func (s *Scenario) addPacket(n int, text string, sp pktspec.Spec, pending *[]Command) error {
	switch sp.Dir {
	case pktspec.DirUnset:
		return fmt.Errorf("packet without direction: \"in IFACE\" or \"out\"")
	case pktspec.DirIn:
		if s.iface(sp.Iface) < 0 {
			return fmt.Errorf("in %s: no such iface", sp.Iface)
		}
	}
	if _, err := sp.Resolve(1).Append(nil); err != nil {
		return err
	}
	s.Packets = append(s.Packets, Packet{Line: n, Text: text, Spec: sp, Run: *pending})
	*pending = nil
	return nil
}

// Addresses lists the addresses the packets carry (and the packets they
// quote), unicast and not link-local, without repeats: the kernel runner
// gives each of their next hops a neighbour entry to the peer.
func (s *Scenario) Addresses() []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, p := range s.Packets {
		addrs := []netip.Addr{p.Spec.Src, p.Spec.Dst}
		if p.Spec.Inner != nil {
			addrs = append(addrs, p.Spec.Inner.Src, p.Spec.Inner.Dst)
		}
		for _, a := range addrs {
			if seen[a] || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
				continue
			}
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func (s *Scenario) iface(name string) int {
	for i, x := range s.Ifaces {
		if x.Name == name {
			return i
		}
	}
	return -1
}

// parseIface parses "iface NAME [MAC [peer MAC]]"; the default MACs of
// the i-th iface are 02:00:00:00:0i:01 (host) and 02:00:00:00:0i:02 (peer).
func parseIface(w []string, i int) (Iface, error) {
	if len(w) < 2 || len(w) > 5 || len(w) == 4 || (len(w) == 5 && w[3] != "peer") {
		return Iface{}, fmt.Errorf("iface NAME [MAC [peer MAC]]")
	}
	if len(w[1]) > 15 || strings.ContainsAny(w[1], "/: ") || w[1] == "lo" {
		return Iface{}, fmt.Errorf("bad iface name %q", w[1])
	}
	ifc := Iface{Name: w[1], MAC: [6]byte{2, 0, 0, 0, byte(i), 1}, PeerMAC: [6]byte{2, 0, 0, 0, byte(i), 2}}
	var err error
	if len(w) >= 3 {
		if ifc.MAC, err = parseMAC(w[2]); err != nil {
			return ifc, err
		}
	}
	if len(w) == 5 {
		if ifc.PeerMAC, err = parseMAC(w[4]); err != nil {
			return ifc, err
		}
	}
	if ifc.MAC == ifc.PeerMAC || ifc.MAC[0]&1 != 0 || ifc.PeerMAC[0]&1 != 0 {
		return ifc, fmt.Errorf("iface %s: the two MACs must differ and be unicast", w[1])
	}
	return ifc, nil
}

func parseMAC(s string) (m [6]byte, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, fmt.Errorf("bad MAC %q", s)
	}
	for i, x := range parts {
		v, perr := strconv.ParseUint(x, 16, 8)
		if perr != nil || len(x) != 2 {
			return m, fmt.Errorf("bad MAC %q", s)
		}
		m[i] = byte(v)
	}
	return m, nil
}

// parseListen parses "listen tcp|udp PORT [ADDRESS]".
func parseListen(w []string) (Listen, error) {
	if len(w) != 3 && len(w) != 4 {
		return Listen{}, fmt.Errorf("listen tcp|udp PORT [ADDRESS]")
	}
	var l Listen
	switch w[1] {
	case "tcp":
		l.Proto = packet.ProtoTCP
	case "udp":
		l.Proto = packet.ProtoUDP
	default:
		return l, fmt.Errorf("listen tcp or udp, not %q", w[1])
	}
	p, err := strconv.ParseUint(w[2], 10, 16)
	if err != nil || p == 0 {
		return l, fmt.Errorf("bad port %q", w[2])
	}
	l.Port = uint16(p)
	if len(w) == 4 {
		if l.Addr, err = netip.ParseAddr(w[3]); err != nil {
			return l, err
		}
	}
	return l, nil
}

// stripComment removes a "#" comment that starts a word.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// splitWords splits a line as sh would split a simple command: blanks,
// '...' and "..." quotes, backslash escapes, and "#" starting a comment.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated '")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("unterminated \"")
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
