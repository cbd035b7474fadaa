package xfrm

import (
	"net/netip"
	"testing"
)

func flow(src, dst string, proto uint8, sport, dport uint16) *Flow {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	f := Inet
	if s.Is6() {
		f = Inet6
	}
	return &Flow{Family: f, Src: s, Dst: d, Proto: proto, Sport: sport, Dport: dport}
}

// Seed 000's third failure: the ping leaves unencrypted because the xfrm
// lookup after POSTROUTING sees the MASQUERADEd source.
func TestOutputPolicySeed(t *testing.T) {
	d2, _ := seedDBs(t)
	var b Bundle
	pre := flow("192.168.200.1", "192.168.201.1", protoICMP, 8, 0)
	if v := d2.OutputPolicy(pre, 5, nil, &b); v != Transform || b.N != 1 || b.SAs[0].SPI != spi23 || b.Policies[0].Dir != DirOut {
		t.Fatalf("before NAT: %v %+v", v, b)
	}
	if got := b.AppendInfo(nil); len(got) != 1 || got[0].SPI != spi23 || got[0].Mode != 1 || got[0].Dst != d3addr {
		t.Errorf("info %+v", got)
	}
	if b.Policies[0].Cur.UseTime != 5 {
		t.Error("use time not set")
	}
	post := flow("10.0.0.200", "192.168.201.1", protoICMP, 8, 0)
	if v := d2.OutputPolicy(post, 5, nil, &b); v != Pass || b.N != 0 {
		t.Fatalf("after MASQUERADE: %v", v)
	}
	// the IKE traffic between the routers has no policy either
	if v := d2.OutputPolicy(flow("10.0.0.200", "10.0.0.201", protoUDP, 4500, 4500), 5, nil, &b); v != Pass {
		t.Fatalf("IKE: %v", v)
	}
	// the MTU of the bundle over a 1500-byte link
	d2.OutputPolicy(pre, 5, nil, &b)
	if b.MTU(1500) != 1438 {
		t.Errorf("bundle MTU %d", b.MTU(1500))
	}
}

// Lowest priority value first, the oldest of equals (xfrm_policy_lookup_bytype
// over the hash chain and the inexact candidates).
func TestPolicyOrder(t *testing.T) {
	db := NewDB()
	add := func(s, d string, prio uint32, action Action) {
		t.Helper()
		r := &PolicyRequest{Sel: sel(netip.MustParsePrefix(s), netip.MustParsePrefix(d)), Dir: DirOut, Priority: prio,
			Action: action, Lft: DefaultLifetime()}
		if err := db.AddPolicy(r, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	add("10.0.0.0/8", "0.0.0.0/0", 10, Block)
	add("10.1.0.0/16", "0.0.0.0/0", 10, Allow)
	add("10.1.2.0/24", "0.0.0.0/0", 20, Allow)
	fl := flow("10.1.2.3", "8.8.8.8", protoUDP, 1, 53)
	if p := db.Lookup(fl, DirOut); p == nil || p.Sel.SrcLen != 8 {
		t.Fatalf("got %+v, want the older /8 of priority 10", p)
	}
	var b Bundle
	if v := db.OutputPolicy(fl, 0, nil, &b); v != Blocked {
		t.Errorf("verdict %v", v)
	}
	// an update of equal priority keeps its place; a lower priority wins
	r := &PolicyRequest{Sel: sel(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("0.0.0.0/0")), Dir: DirOut,
		Priority: 10, Action: Block, Lft: DefaultLifetime()}
	if err := db.AddPolicy(r, true, 0); err != nil {
		t.Fatal(err)
	}
	if p := db.Lookup(fl, DirOut); p.Sel.SrcLen != 8 {
		t.Errorf("after update: /%d", p.Sel.SrcLen)
	}
	add("10.1.2.3/32", "8.8.8.8/32", 5, Allow)
	if p := db.Lookup(fl, DirOut); p.Sel.SrcLen != 32 {
		t.Errorf("priority 5: /%d", p.Sel.SrcLen)
	}
	// ports, protocol, interface, mark and family take part
	if p := db.Lookup(flow("10.1.2.3", "8.8.8.8", protoUDP, 1, 53), DirIn); p != nil {
		t.Error("direction ignored")
	}
	if p := db.Lookup(flow("fd00::1", "fd00::2", protoUDP, 1, 53), DirOut); p != nil {
		t.Error("family ignored")
	}
}

func TestSelectorMatch(t *testing.T) {
	s := Selector{Family: Inet, Src: netip.MustParseAddr("192.168.200.7"), SrcLen: 24,
		Dst: netip.MustParseAddr("192.168.201.0"), DstLen: 24, Proto: protoTCP, Dport: 22, DportMask: 0xffff, Ifindex: 3}
	fl := flow("192.168.200.1", "192.168.201.9", protoTCP, 40000, 22)
	fl.Oif = 3
	if !s.Match(fl) {
		t.Fatal("no match")
	}
	for _, mod := range []func(f *Flow){
		func(f *Flow) { f.Dport = 23 },
		func(f *Flow) { f.Proto = protoUDP },
		func(f *Flow) { f.Oif = 4 },
		func(f *Flow) { f.Src = netip.MustParseAddr("192.168.199.1") },
		func(f *Flow) { f.Dst = netip.MustParseAddr("192.168.202.1") },
	} {
		g := *fl
		mod(&g)
		if s.Match(&g) {
			t.Errorf("%+v matches", g)
		}
	}
	// ICMP: type and code in the port fields
	icmp := Selector{Family: Inet, Proto: protoICMP, Sport: 8, SportMask: 0xffff, Dport: 0, DportMask: 0xffff}
	if !icmp.Match(flow("1.1.1.1", "2.2.2.2", protoICMP, 8, 0)) || icmp.Match(flow("1.1.1.1", "2.2.2.2", protoICMP, 0, 0)) {
		t.Error("icmp type")
	}
	// prefix lengths that are not a multiple of 8
	p := Selector{Family: Inet6, Src: netip.MustParseAddr("2001:db8:8000::"), SrcLen: 33}
	if !p.Match(flow("2001:db8:8000::1", "::1", 0, 0, 0)) || p.Match(flow("2001:db8:4000::1", "::1", 0, 0, 0)) {
		t.Error("/33")
	}
}

// No state for a required template: NoState and what ACQUIRE tells the
// key manager; optional templates without states pass untransformed.
func TestOutputNoState(t *testing.T) {
	d2, _ := seedDBs(t)
	d2.FlushStates(0)
	var b Bundle
	fl := flow("192.168.200.1", "192.168.201.1", protoICMP, 8, 0)
	fl.Oif = 2
	if v := d2.OutputPolicy(fl, 0, nil, &b); v != NoState || b.Acquire == nil || b.AcquireDst != d3addr || b.AcquireSrc != d2addr {
		t.Fatalf("verdict %v %+v", v, b)
	}
	x := d2.Acquire(&b, fl, 50)
	if x == nil || !x.Larval || x.Sel.Proto != protoICMP || x.Sel.Src != fl.Src || x.Lft.HardAdd != AcqExpires || d2.States[0] != x {
		t.Fatalf("larval %+v", x)
	}
	if d2.Acquire(&b, fl, 51) != nil {
		t.Error("second acquire while one is in progress")
	}
	if v := d2.OutputPolicy(fl, 0, nil, &b); v != NoState {
		t.Errorf("a larval state carries traffic: %v", v)
	}
	if ex := d2.Expire(50 + AcqExpires); len(ex.States) != 1 {
		t.Errorf("larval state did not expire: %+v", ex)
	}
	// the key manager's SA (add) would replace the larval state
	d2.Acquire(&b, fl, 60)
	if err := d2.AddState(saReq(d2addr, d3addr, spi23, key1, auth1), false, 61); err != nil {
		t.Fatal(err)
	}
	if len(d2.States) != 1 || d2.States[0].Larval {
		t.Errorf("larval state not replaced: %d states", len(d2.States))
	}
	// level use
	db := NewDB()
	tm := tunnelTmpl(d2addr, d3addr)
	tm.Optional = 1
	r := &PolicyRequest{Sel: sel(lan2, lan3), Dir: DirFwd, Lft: DefaultLifetime(), Tmpls: []Tmpl{tm}}
	if err := db.AddPolicy(r, false, 0); err != nil {
		t.Fatal(err)
	}
	r.Dir = DirOut
	tm.Mode = ModeTransport
	r.Tmpls = []Tmpl{tm}
	if err := db.AddPolicy(r, false, 0); err != nil {
		t.Fatal(err)
	}
	if v := db.OutputPolicy(fl, 0, nil, &b); v != Pass {
		t.Errorf("optional template: %v", v)
	}
}

// A tunnel template without a source takes the route's.
func TestTemplateSource(t *testing.T) {
	d2, _ := seedDBs(t)
	for _, p := range d2.Policies {
		for i := range p.Tmpls {
			p.Tmpls[i].Src = netip.Addr{}
		}
	}
	var b Bundle
	fl := flow("192.168.200.1", "192.168.201.1", protoICMP, 8, 0)
	if v := d2.OutputPolicy(fl, 0, nil, &b); v != NoSource {
		t.Errorf("without a source function: %v", v)
	}
	src := func(dst netip.Addr, oif int) (netip.Addr, bool) { return d2addr, dst == d3addr }
	if v := d2.OutputPolicy(fl, 0, src, &b); v != Transform {
		t.Errorf("with one: %v", v)
	}
}

func TestDefaultPolicies(t *testing.T) {
	db := NewDB()
	var b Bundle
	fl := flow("1.1.1.1", "2.2.2.2", protoUDP, 1, 2)
	db.DefaultBlock[DirOut] = true
	if db.OutputPolicy(fl, 0, nil, &b) != Blocked {
		t.Error("default out block")
	}
	fl.Loopback = true
	if db.OutputPolicy(fl, 0, nil, &b) != Pass {
		t.Error("loopback is exempt")
	}
	db.DefaultBlock[DirIn] = true
	if db.Check(DirIn, fl, nil, 0) != CheckNoPolicy {
		t.Error("default in block")
	}
}

// __xfrm_policy_check: the seed's decapsulated packets pass the in and fwd
// policies; the same flows in clear do not (XfrmInTmplMismatch); a
// tunnel-mode secpath needs a policy.
func TestCheck(t *testing.T) {
	d2, d3 := seedDBs(t)
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	var b Bundle
	fl := flowOf(t, in)
	d2.OutputPolicy(&fl, 0, nil, &b)
	out, _ := b.SAs[0].Encapsulate(nil, in, &EncapParams{TTL: 64})
	var sp SecPath
	inner, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &sp)
	if err != nil {
		t.Fatal(err)
	}
	ifl := flowOf(t, inner)
	if r := d3.Check(DirFwd, &ifl, &sp, 7); r != CheckOK {
		t.Errorf("fwd with secpath: %v", r)
	}
	if r := d3.Check(DirIn, &ifl, &sp, 7); r != CheckOK {
		t.Errorf("in with secpath: %v", r)
	}
	if r := d3.Check(DirFwd, &ifl, &SecPath{}, 7); r != CheckTmplMismatch {
		t.Errorf("fwd in clear: %v", r)
	}
	// traffic no policy covers: in clear it passes, from a tunnel not
	other := flow("10.9.9.9", "10.0.0.201", protoTCP, 1, 22)
	if r := d3.Check(DirIn, other, nil, 7); r != CheckOK {
		t.Errorf("unrelated in clear: %v", r)
	}
	if r := d3.Check(DirIn, other, &sp, 7); r != CheckNoPolicy {
		t.Errorf("unrelated from the tunnel: %v", r)
	}
	// an SA whose selector does not take the flow
	sp.SAs[0].Sel = sel(netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("0.0.0.0/0"))
	if r := d3.Check(DirFwd, &ifl, &sp, 7); r != CheckStateMismatch {
		t.Errorf("selector mismatch: %v", r)
	}
	sp.SAs[0].Sel = Selector{}
	// a template asking for another reqid or tunnel address
	pol := d3.Lookup(&ifl, DirFwd)
	pol.Tmpls[0].Reqid = 2
	if r := d3.Check(DirFwd, &ifl, &sp, 7); r != CheckTmplMismatch {
		t.Errorf("other reqid: %v", r)
	}
	pol.Tmpls[0].Reqid = 0
	if r := d3.Check(DirFwd, &ifl, &sp, 7); r != CheckOK {
		t.Errorf("any reqid: %v", r)
	}
	pol.Tmpls[0].Src = netip.MustParseAddr("10.0.0.99")
	if r := d3.Check(DirFwd, &ifl, &sp, 7); r != CheckTmplMismatch {
		t.Errorf("other tunnel source: %v", r)
	}
	pol.Action = Block
	if r := d3.Check(DirFwd, &ifl, &sp, 7); r != CheckBlocked {
		t.Errorf("block: %v", r)
	}
}

func TestFlowFromPacket(t *testing.T) {
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	fl := flowOf(t, in)
	if fl.Family != Inet || fl.Proto != protoICMP || fl.Sport != 8 || fl.Dport != 0 {
		t.Errorf("icmp flow %+v", fl)
	}
	var r Flow
	r.FromPacket(in, true)
	if r.Src != fl.Dst || r.Sport != 8 {
		t.Errorf("reverse %+v", r)
	}
	u := udp4(d2addr, d3addr, 4500, 500, []byte{1})
	fl = flowOf(t, u)
	if fl.Proto != protoUDP || fl.Sport != 4500 || fl.Dport != 500 {
		t.Errorf("udp flow %+v", fl)
	}
	r.FromPacket(u, true)
	if r.Sport != 500 || r.Dport != 4500 {
		t.Errorf("reverse udp %+v", r)
	}
	// a fragment has no ports
	u[6] = 0x20
	fl = flowOf(t, u)
	if fl.Sport != 0 || fl.Dport != 0 {
		t.Errorf("fragment flow %+v", fl)
	}
	// IPv6 with a hop-by-hop header before TCP
	b := make([]byte, 40+8+20)
	b[0] = 0x60
	b[4], b[5] = 0, 28
	b[6] = 0
	copy(b[8:], netip.MustParseAddr("fd00::1").AsSlice())
	copy(b[24:], netip.MustParseAddr("fd00::2").AsSlice())
	b[40] = protoTCP
	b[48], b[49], b[50], b[51] = 0x12, 0x34, 0, 22
	fl = flowOf(t, b)
	if fl.Family != Inet6 || fl.Proto != protoTCP || fl.Sport != 0x1234 || fl.Dport != 22 {
		t.Errorf("v6 flow %+v", fl)
	}
	if (&Flow{}).FromPacket([]byte{0x45, 0}, false) {
		t.Error("short packet accepted")
	}
}
