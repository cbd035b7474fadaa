// Package kerntest has the fakes the packet-semantics tests of the
// extension packages share: a host environment (xtables.Env) with a
// settable clock and random sequence, a conntrack entry (xtables.Conn),
// packet builders, and rule parsing through the real iptables parser.
// Only tests import it.
package kerntest

import (
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Env is a fake host: time, a cycle of random numbers, address types by
// address, and the LOG/REJECT calls it received.
type Env struct {
	NowNs int64
	Rand  []uint32 // returned in turn; empty: 0
	ri    int
	Types map[netip.Addr]int

	Logs    []xtables.LogRequest
	Rejects []xtables.RejectType

	// Conns answers FindConn (confirmed entries by original tuple and
	// zone).
	Conns map[ConnKey]*Conn
	// Groups are device groups (DevGroup).
	Groups map[string]uint32
	// MTU is the route MTU answers (RouteMTU): out, reverse.
	MTUOut, MTURev uint32
}

// ConnKey is a conntrack lookup key.
type ConnKey struct {
	T    xtables.Tuple
	Zone uint16
}

func (e *Env) Now() int64 { return e.NowNs }

func (e *Env) Random() uint32 {
	if len(e.Rand) == 0 {
		return 0
	}
	v := e.Rand[e.ri%len(e.Rand)]
	e.ri++
	return v
}

func (e *Env) AddrType(a netip.Addr, dev string) int {
	if t, ok := e.Types[a]; ok {
		return t
	}
	return xtables.RTNUnicast
}

func (e *Env) Log(st *xtables.PacketState, req xtables.LogRequest) { e.Logs = append(e.Logs, req) }

func (e *Env) Reject(st *xtables.PacketState, t xtables.RejectType) {
	e.Rejects = append(e.Rejects, t)
}

// FindConn is nf_conntrack_find_get over confirmed entries.
func (e *Env) FindConn(t xtables.Tuple, zone uint16) xtables.Conn {
	if c, ok := e.Conns[ConnKey{t, zone}]; ok {
		return c
	}
	return nil
}

// DevGroup is a device's group (0 when not set).
func (e *Env) DevGroup(dev string) uint32 { return e.Groups[dev] }

// RouteMTU is the MTU of the packet's route and of the route back to its
// source.
func (e *Env) RouteMTU(st *xtables.PacketState) (out, reverse uint32) { return e.MTUOut, e.MTURev }

// AddConn registers c as a confirmed entry findable by its original tuple.
func (e *Env) AddConn(c *Conn) {
	if e.Conns == nil {
		e.Conns = map[ConnKey]*Conn{}
	}
	c.IsConfirmed = true
	e.Conns[ConnKey{c.Orig, c.ZoneID}] = c
}

// Conn is a fake conntrack entry.
type Conn struct {
	Orig, Repl  xtables.Tuple
	St          uint32
	IsReply     bool
	MarkV       uint32
	Exp         uint32
	Pkts, Bytes [2]uint64
	HelperName  string
	Lab         [2]uint64
	NoLabels    bool
	ZoneID      uint16
	MasterConn  *Conn
	IsClosed    bool // TCP TIME_WAIT or CLOSE
	IsConfirmed bool
}

func (c *Conn) Tuple(dir int) xtables.Tuple {
	if dir == 1 {
		return c.Repl
	}
	return c.Orig
}
func (c *Conn) Status() uint32 {
	if c.IsConfirmed {
		return c.St | xtables.IPSConfirmed
	}
	return c.St
}
func (c *Conn) Reply() bool      { return c.IsReply }
func (c *Conn) Mark() uint32     { return c.MarkV }
func (c *Conn) SetMark(m uint32) { c.MarkV = m }
func (c *Conn) Expires() uint32  { return c.Exp }
func (c *Conn) Counters(dir int) (uint64, uint64) {
	return c.Pkts[dir&1], c.Bytes[dir&1]
}
func (c *Conn) Helper() string { return c.HelperName }
func (c *Conn) Labels() *[2]uint64 {
	if c.NoLabels {
		return nil
	}
	return &c.Lab
}
func (c *Conn) Zone() uint16 { return c.ZoneID }
func (c *Conn) Master() xtables.Conn {
	if c.MasterConn == nil {
		return nil
	}
	return c.MasterConn
}
func (c *Conn) Closed() bool { return c.IsClosed }

// Flow makes a conntrack entry for a TCP/UDP flow with the reply tuple
// mirrored.
func Flow(proto uint8, src string, sport uint16, dst string, dport uint16) *Conn {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return &Conn{
		Orig: xtables.Tuple{Src: s, Dst: d, Proto: proto, SrcPort: sport, DstPort: dport},
		Repl: xtables.Tuple{Src: d, Dst: s, Proto: proto, SrcPort: dport, DstPort: sport},
	}
}

// Pkt describes a packet to build.
type Pkt struct {
	Src, Dst   string
	Proto      uint8
	Sport      uint16
	Dport      uint16
	Flags      uint8 // TCP flags
	TTL        uint8
	TOS        uint8
	Payload    int
	TCPOptions []byte
	ICMPType   uint8
	ICMPCode   uint8
	ICMPRest   uint32
	FragOff    uint16 // IPv4 fragment offset in 8-byte units
	MF         bool
}

// Build encodes and decodes p (lengths and checksums computed); the
// buffer has spare capacity.
func Build(t testing.TB, p Pkt) *packet.Packet {
	t.Helper()
	src, dst := netip.MustParseAddr(p.Src), netip.MustParseAddr(p.Dst)
	var h packet.Headers
	ttl := p.TTL
	if ttl == 0 {
		ttl = 64
	}
	if src.Is4() {
		h.Layers = packet.LayerIPv4
		h.IPv4 = packet.IPv4{TTL: ttl, TOS: p.TOS, ID: 0x1234, Src: src, Dst: dst, FragOff: p.FragOff}
		if p.MF {
			h.IPv4.Flags = packet.IPv4MF
		}
	} else {
		h.Layers = packet.LayerIPv6
		h.IPv6 = packet.IPv6{HopLimit: ttl, TrafficClass: p.TOS, Src: src, Dst: dst}
	}
	h.Proto = p.Proto
	switch p.Proto {
	case packet.ProtoTCP:
		h.Layers |= packet.LayerTCP
		h.TCP = packet.TCP{SrcPort: p.Sport, DstPort: p.Dport, Seq: 1000, Flags: p.Flags, Window: 512, Options: p.TCPOptions}
	case packet.ProtoUDP:
		h.Layers |= packet.LayerUDP
		h.UDP = packet.UDP{SrcPort: p.Sport, DstPort: p.Dport}
	case packet.ProtoICMP:
		h.Layers |= packet.LayerICMPv4
		h.ICMP = packet.ICMP{Type: p.ICMPType, Code: p.ICMPCode, Rest: p.ICMPRest}
	case packet.ProtoICMPv6:
		h.Layers |= packet.LayerICMPv6
		h.ICMP = packet.ICMP{Type: p.ICMPType, Code: p.ICMPCode, Rest: p.ICMPRest}
	}
	h.Payload = make([]byte, p.Payload)
	for i := range h.Payload {
		h.Payload[i] = byte(i)
	}
	if p.FragOff != 0 {
		// A later fragment: no transport header of its own.
		h.Layers &^= packet.LayerTCP | packet.LayerUDP | packet.LayerICMPv4
	}
	b, err := h.Append(make([]byte, 0, 2048), packet.FixAll)
	if err != nil {
		t.Fatal(err)
	}
	pk := new(packet.Packet)
	if err := pk.Decode(b); err != nil {
		t.Fatal(err)
	}
	return pk
}

// State returns a packet state for pk at hook with env.
func State(f xtables.Family, hook int, pk *packet.Packet, env xtables.Env) *xtables.PacketState {
	st := &xtables.PacketState{Family: f, Hook: hook, Pkt: pk, Env: env}
	if pk.IsIPv4() {
		st.FragOff = int(pk.IPv4.FragOff)
	}
	return st
}

// Rule parses one rule (arguments after "-A CHAIN") through the real
// iptables parser, in table (filter when "").
func Rule(t testing.TB, f xtables.Family, table string, args ...string) *xtables.Rule {
	t.Helper()
	cmd, err := iptables.Parse(append([]string{"-A", "X"}, args...), iptables.ParseOptions{
		Family: f, Table: table, Names: names.New(names.Files{}),
	})
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if len(cmd.Rules) != 1 {
		t.Fatalf("%v: %d rules", args, len(cmd.Rules))
	}
	return cmd.Rules[0]
}

// Match parses a rule and returns its first match's data as a packet
// matcher.
func Match(t testing.TB, f xtables.Family, args ...string) xtables.PacketMatcher {
	t.Helper()
	r := Rule(t, f, "", args...)
	for _, m := range r.Matches {
		if pm, ok := m.Info.(xtables.PacketMatcher); ok && m.Type != nil && !implicitProto(m.Type.Name) {
			return pm
		}
	}
	t.Fatalf("%v: no packet matcher", args)
	return nil
}

// implicitProto: the tcp/udp matches -p loads.
func implicitProto(name string) bool {
	return name == "tcp" || name == "udp" || name == "icmp" || name == "icmp6"
}

// Target parses a rule in table and returns its target as a packet
// targeter.
func Target(t testing.TB, f xtables.Family, table string, args ...string) xtables.PacketTargeter {
	t.Helper()
	r := Rule(t, f, table, args...)
	if r.Target == nil {
		t.Fatalf("%v: no target", args)
	}
	pt, ok := r.Target.Info.(xtables.PacketTargeter)
	if !ok {
		t.Fatalf("%v: %T has no packet semantics", args, r.Target.Info)
	}
	return pt
}
