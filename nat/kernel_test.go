package nat_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/nat"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The differential test: testdata/record.sh ran traffic through a router
// namespace of the real kernel, capturing every packet it received and
// sent (kernel/NAME.pcap) and its conntrack table and per-state FORWARD
// counters afterwards (kernel/NAME.txt). Here the packets the router
// received go, in order and at their capture times, through a model of
// the same router built on conntrack and nat; the packets it sends, the
// table listed at the recorded time and the counters must be the
// kernel's. Where the kernel drew a random port or id, the model's random
// source returns the draw that gives the recorded choice (see Setup).

// router is the recorded router: addresses, routes by prefix, the nat
// rules (MASQUERADE out of rs, one DNAT), FORWARD counters per state.
type router struct {
	t        *conntrack.Table
	rnd      map[string]uint32
	cur      *conntrack.Conn // the entry being set up
	counters map[string]int
	out      [][]byte
	local    map[netip.Addr]bool
}

var (
	masqV4   = netip.MustParseAddr("192.0.2.1")
	masqV6   = netip.MustParseAddr("fd00:9::1")
	serverV4 = netip.MustParsePrefix("192.0.2.0/24")
	serverV6 = netip.MustParsePrefix("fd00:9::/64")
	dnatTo   = netip.MustParseAddr("10.0.1.2")
	snatLo4  = netip.MustParseAddr("198.51.100.10")
	snatHi4  = netip.MustParseAddr("198.51.100.20")
	snatLo6  = netip.MustParseAddr("fd00:8::10")
	snatHi6  = netip.MustParseAddr("fd00:8::20")
)

func newRouter(g golden) *router {
	cfg := conntrack.DefaultConfig()
	cfg.TCPLoose, cfg.Acct = g.loose, g.acct
	rnd := draws(g.list)
	r := &router{t: conntrack.New(cfg, 1), rnd: rnd, counters: map[string]int{}, local: map[netip.Addr]bool{}}
	for _, a := range []string{"10.0.1.1", "10.0.2.1", "192.0.2.1", "fd00:1::1", "fd00:2::1", "fd00:9::1"} {
		r.local[netip.MustParseAddr(a)] = true
	}
	return r
}

func (r *router) random() uint32 { return r.rnd[drawKey(r.cur)] }

func (r *router) isLocal(a netip.Addr) bool {
	return r.local[a] || a.IsLinkLocalUnicast() || a.IsMulticast()
}

func stateName(c *conntrack.Conn, info xtables.CtInfo) string {
	switch info {
	case xtables.CtNew:
		return "NEW"
	case xtables.CtEstablished:
		return "ESTABLISHED"
	case xtables.CtRelated:
		return "RELATED"
	case xtables.CtUntracked:
		return "UNTRACKED"
	}
	return "INVALID"
}

// receive is the router's path for one received packet.
func (r *router) receive(t *testing.T, buf []byte, now int64) {
	var p packet.Packet
	if err := p.Decode(buf); err != nil && p.Layers&(packet.LayerIPv4|packet.LayerIPv6) == 0 {
		return
	}
	fam := "iptables"
	if p.IsIPv6() {
		fam = "ip6tables"
	}
	// raw PREROUTING: -p udp --dport/--sport 5004 -j CT --zone 7
	zone := uint16(0)
	if p.IsIPv4() && p.Layers&packet.LayerUDP != 0 && (p.UDP.DstPort == 5004 || p.UDP.SrcPort == 5004) {
		zone = 7
	}
	c, info, v := r.t.In(&p, zone, now)
	if v == conntrack.Drop {
		return
	}
	// nat PREROUTING (nf_nat_ipv4_fn): DNAT rule or null binding.
	if c != nil {
		if !r.natHook(t, &p, c, info, xtables.HookPrerouting, "") {
			return
		}
	}
	if r.isLocal(p.Dst()) {
		if c != nil {
			if !r.natHook(t, &p, c, info, xtables.HookInput, "") {
				return
			}
			r.t.Confirm(c, now)
		}
		return
	}
	// Forward: TTL, the FORWARD counters, POSTROUTING.
	if p.IsIPv4() {
		p.SetTTL(p.IPv4.TTL - 1)
	} else {
		p.SetTTL(p.IPv6.HopLimit - 1)
	}
	r.counters[fam+" "+stateName(c, info)]++
	out := "r"
	if serverV4.Contains(p.Dst()) || serverV6.Contains(p.Dst()) {
		out = "rs"
	}
	if c != nil {
		if !r.natHook(t, &p, c, info, xtables.HookPostrouting, out) {
			return
		}
		if !r.t.Confirm(c, now) {
			return
		}
	}
	r.out = append(r.out, slices.Clone(p.Data))
}

// natHook is nf_nat_ipv4_fn / nf_nat_ipv6_fn at one hook with the
// recorded nat table.
func (r *router) natHook(t *testing.T, p *packet.Packet, c *conntrack.Conn, info xtables.CtInfo, hook int, out string) bool {
	m := nat.ManipOf(hook)
	related := info == xtables.CtRelated && (p.Proto == packet.ProtoICMP || p.Proto == packet.ProtoICMPv6)
	if !related && (info == xtables.CtNew || info == xtables.CtRelated) && !nat.Initialized(c, m) {
		var err error
		r.cur = c
		switch {
		case hook == xtables.HookPrerouting && p.IsIPv4() && p.Dst() == masqV4 && p.Proto == packet.ProtoTCP && p.TCP.DstPort == 8080:
			err = nat.Setup(r.t, c, nat.Dst, xtables.NATRange{
				Flags:   xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified,
				MinAddr: dnatTo, MaxAddr: dnatTo, MinPort: 80, MaxPort: 80}, r.random)
		case hook == xtables.HookPostrouting && out == "rs" && p.Proto == packet.ProtoUDP && (p.UDP.DstPort == 5001 || p.UDP.DstPort == 5002 && p.IsIPv4()):
			// -j SNAT --to-source 198.51.100.10-198.51.100.20 [--persistent]
			rng := xtables.NATRange{Flags: xtables.NATRangeMapIPs, MinAddr: snatLo4, MaxAddr: snatHi4}
			if p.IsIPv6() {
				rng.MinAddr, rng.MaxAddr = snatLo6, snatHi6
			}
			if p.UDP.DstPort == 5002 {
				rng.Flags |= xtables.NATRangePersistent
			}
			err = nat.Setup(r.t, c, nat.Src, rng, r.random)
		case hook == xtables.HookPostrouting && out == "rs" && p.IsIPv4() && p.Proto == packet.ProtoUDP && p.UDP.DstPort == 5003:
			// -j SNAT --to-source 192.0.2.1:2000-2010
			err = nat.Setup(r.t, c, nat.Src, xtables.NATRange{Flags: xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified,
				MinAddr: masqV4, MaxAddr: masqV4, MinPort: 2000, MaxPort: 2010}, r.random)
		case hook == xtables.HookPostrouting && out == "rs":
			a := masqV4
			if p.IsIPv6() {
				a = masqV6
			}
			err = nat.Setup(r.t, c, nat.Src, xtables.NATRange{Flags: xtables.NATRangeMapIPs, MinAddr: a, MaxAddr: a}, r.random)
		default:
			err = nat.NullBinding(r.t, c, hook, r.random)
		}
		if err != nil {
			t.Errorf("setup: %v", err)
			return false
		}
	}
	return nat.Packet(p, c, hook, c.Reply()) == nil
}

// pcapPacket is one captured packet: time, direction, the IP packet.
type pcapPacket struct {
	ns       int64
	outgoing bool
	data     []byte
}

// readPcap reads a pcap file of LINUX_SLL2 frames (tcpdump -i any).
func readPcap(t *testing.T, name string) []pcapPacket {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("%s: short pcap", name)
	}
	le := binary.LittleEndian
	nano := false
	switch le.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	default:
		t.Fatalf("%s: not a little-endian pcap", name)
	}
	if lt := le.Uint32(b[20:]); lt != 276 {
		t.Fatalf("%s: link type %d, want LINUX_SLL2", name, lt)
	}
	var pkts []pcapPacket
	for b = b[24:]; len(b) >= 16; {
		sec, frac, n := int64(le.Uint32(b)), int64(le.Uint32(b[4:])), int(le.Uint32(b[8:]))
		if len(b) < 16+n || n < 20 {
			t.Fatalf("%s: truncated record", name)
		}
		rec := b[16 : 16+n]
		b = b[16+n:]
		ns := sec*1e9 + frac*1000
		if nano {
			ns = sec*1e9 + frac
		}
		proto := binary.BigEndian.Uint16(rec)
		if proto != 0x0800 && proto != 0x86dd {
			continue
		}
		pkts = append(pkts, pcapPacket{ns: ns, outgoing: rec[10] == 4, data: rec[20:]})
	}
	return pkts
}

// golden is a kernel/NAME.txt file.
type golden struct {
	loose    bool
	acct     bool
	now      int64
	list     []string
	summary  []string
	counters map[string]int
}

func readGolden(t *testing.T, name string) golden {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := golden{counters: map[string]int{}}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# tcp_loose "):
			g.loose = strings.TrimPrefix(line, "# tcp_loose ") == "1"
		case strings.HasPrefix(line, "# acct "):
			g.acct = strings.TrimPrefix(line, "# acct ") == "1"
		case strings.HasPrefix(line, "# now "):
			g.now, _ = strconv.ParseInt(strings.TrimPrefix(line, "# now "), 10, 64)
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case strings.HasPrefix(line, "#"):
		case section == "conntrack -L":
			g.list = append(g.list, line)
		case section == "stderr":
			g.summary = append(g.summary, line)
		case section == "counters":
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[2])
			if n != 0 {
				g.counters[f[0]+" "+f[1]] = n
			}
		}
	}
	return g
}

// draws are the random draws that give the kernel's remapped ports and
// ids (first attempt: port = min + r % range), by the entry's original
// tuple as conntrack -L prints it.
func draws(list []string) map[string]uint32 {
	r := map[string]uint32{}
	for _, l := range list {
		f := strings.Fields(l)
		kv := map[string][]string{}
		var orig []string
		for _, x := range f {
			if k, v, ok := strings.Cut(x, "="); ok {
				if len(kv[k]) == 0 && k != "packets" && k != "bytes" {
					orig = append(orig, x)
				}
				kv[k] = append(kv[k], v)
			}
		}
		key := f[0] + " " + strings.Join(orig, " ")
		num := func(k string, i int) int {
			if len(kv[k]) <= i {
				return -1
			}
			n, _ := strconv.Atoi(kv[k][i])
			return n
		}
		switch f[0] {
		case "icmp", "icmpv6":
			if a, b := num("id", 0), num("id", 1); a != b {
				r[key] = uint32(b)
			}
		case "tcp", "udp":
			if a, b := num("sport", 0), num("dport", 1); a != b && num("dport", 0) == num("sport", 1) {
				min := 1024
				switch {
				case num("dport", 0) == 5003: // the SNAT rule's 2000-2010
					min = 2000
				case a < 512:
					min = 1
				case a < 1024:
					min = 600
				}
				r[key] = uint32(b - min)
			}
		}
	}
	return r
}

// drawKey is the key of draws for an entry.
func drawKey(c *conntrack.Conn) string {
	f := strings.Fields(string(c.AppendEntry(nil, 0)))
	seen := map[string]bool{}
	var orig []string
	for _, x := range f {
		if k, _, ok := strings.Cut(x, "="); ok && !seen[k] && k != "packets" && k != "bytes" {
			seen[k] = true
			orig = append(orig, x)
		}
	}
	return f[0] + " " + strings.Join(orig, " ")
}

// sameListing compares conntrack -L lines, the timeout column within one
// second (the kernel counts in jiffies from its own clock).
func sameListing(got, want []string) string {
	g, w := slices.Clone(got), slices.Clone(want)
	key := func(l string) string {
		f := strings.Fields(l)
		if len(f) > 2 {
			f[2] = "T"
		}
		return strings.Join(f, " ")
	}
	slices.SortFunc(g, func(a, b string) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(w, func(a, b string) int { return strings.Compare(key(a), key(b)) })
	var diff strings.Builder
	if len(g) != len(w) {
		fmt.Fprintf(&diff, "%d entries, want %d\n", len(g), len(w))
	}
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if key(a) != key(b) || !closeTimeout(a, b) {
			fmt.Fprintf(&diff, "got  %s\nwant %s\n", a, b)
		}
	}
	return diff.String()
}

func closeTimeout(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) < 3 || len(fb) < 3 {
		return len(fa) == len(fb)
	}
	x, _ := strconv.Atoi(fa[2])
	y, _ := strconv.Atoi(fb[2])
	return x-y <= 1 && y-x <= 1
}

func TestKernelScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/kernel/*.txt")
	if len(files) == 0 {
		t.Skip("no recordings: run testdata/record.sh as root")
	}
	for _, txt := range files {
		name := strings.TrimSuffix(filepath.Base(txt), ".txt")
		t.Run(name, func(t *testing.T) {
			g := readGolden(t, txt)
			pkts := readPcap(t, strings.TrimSuffix(txt, ".txt")+".pcap")
			r := newRouter(g)
			var sent [][]byte
			for _, p := range pkts {
				if p.outgoing {
					sent = append(sent, p.data)
					continue
				}
				r.receive(t, slices.Clone(p.data), p.ns)
			}
			list := strings.Split(strings.TrimSuffix(string(r.t.AppendList(nil, g.now)), "\n"), "\n")
			if list[0] == "" {
				list = nil
			}
			if d := sameListing(list, g.list); d != "" {
				t.Errorf("conntrack -L:\n%s", d)
			}
			n := r.t.Len(g.now)
			if s := string(conntrack.AppendSummary(nil, n)); len(g.summary) == 0 || s != g.summary[0]+"\n" {
				t.Errorf("summary %q, want %q", s, g.summary)
			}
			for k, v := range g.counters {
				if r.counters[k] != v {
					t.Errorf("counter %s = %d, want %d", k, r.counters[k], v)
				}
			}
			for k, v := range r.counters {
				if g.counters[k] == 0 && v != 0 {
					t.Errorf("counter %s = %d, want 0", k, v)
				}
			}
			n = compareSent(t, r.out, sent)
			t.Logf("%d packets received, %d forwarded (the kernel's %d), %d entries", len(pkts)-len(sent), len(r.out), n, len(g.list))
		})
	}
}

// compareSent matches the model's forwarded packets with the kernel's
// (as multisets; neighbour discovery and MLD of the router itself are
// left out of the kernel's).
func compareSent(t *testing.T, got, sent [][]byte) int {
	var want []string
	for _, b := range sent {
		var p packet.Packet
		p.Decode(b)
		if p.Layers&packet.LayerICMPv6 != 0 && (p.ICMP.Type >= 130 && p.ICMP.Type <= 137 || p.ICMP.Type == 143) {
			continue
		}
		want = append(want, hex.EncodeToString(b))
	}
	var have []string
	for _, b := range got {
		have = append(have, hex.EncodeToString(b))
	}
	slices.Sort(want)
	slices.Sort(have)
	if slices.Equal(have, want) {
		return len(want)
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			b, _ := hex.DecodeString(h)
			var p packet.Packet
			p.Decode(b)
			t.Errorf("sent by the model only: %s\n  %s", p.String(), h)
		}
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			b, _ := hex.DecodeString(w)
			var p packet.Packet
			p.Decode(b)
			t.Errorf("sent by the kernel only: %s\n  %s", p.String(), w)
		}
	}
	return len(want)
}
