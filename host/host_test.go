package host

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/iptwin/iptwin/state"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

// routes lists a table's routes of one family as "type dst dev src".
func routes(n *Net, v6 bool, table int) []string {
	var out []string
	for _, r := range n.SortedRoutes() {
		if r.V6 != v6 || r.Table != table {
			continue
		}
		s := r.Dst.String()
		if r.Type != RTUnicast {
			s = map[int]string{RTLocal: "local", RTBroadcast: "broadcast", RTMulticast: "multicast", RTBlackhole: "blackhole"}[r.Type] + " " + s
		}
		if l := n.LinkByIndex(r.Dev); l != nil {
			s += " " + l.Name
		}
		if r.Src.IsValid() {
			s += " " + r.Src.String()
		}
		out = append(out, s)
	}
	return out
}

func upPair(t *testing.T) (*Net, *Link, *Link) {
	t.Helper()
	n := New("test")
	if err := n.AddLink("v0", Veth, "v1"); err != nil {
		t.Fatal(err)
	}
	v0, v1 := n.LinkByName("v0"), n.LinkByName("v1")
	if v0.Index != 3 || v1.Index != 2 || v0.Peer != 2 {
		t.Fatalf("veth indexes: v0=%d v1=%d peer=%d", v0.Index, v1.Index, v0.Peer)
	}
	n.SetLinkUp(n.LinkByName("lo"), true)
	n.SetLinkUp(v0, true)
	n.SetLinkUp(v1, true)
	return n, v0, v1
}

func TestFreshNamespace(t *testing.T) {
	n := New("x")
	if len(n.Links) != 1 || n.Links[0].Name != "lo" || n.Links[0].Up || len(n.Addrs) != 0 || len(n.Routes) != 0 {
		t.Fatalf("fresh namespace: %+v %+v %+v", n.Links, n.Addrs, n.Routes)
	}
	n.SetLinkUp(n.LinkByName("lo"), true)
	want := []string{"local 127.0.0.0/8 lo 127.0.0.1", "local 127.0.0.1/32 lo 127.0.0.1", "broadcast 127.255.255.255/32 lo 127.0.0.1"}
	if got := routes(n, false, TableLocal); !reflect.DeepEqual(got, want) {
		t.Errorf("lo routes: got %q want %q", got, want)
	}
	if got := routes(n, true, TableLocal); !reflect.DeepEqual(got, []string{"local ::1/128 lo"}) {
		t.Errorf("lo v6 routes: %q", got)
	}
	if p := n.DefaultRulePriority(false); p != 32765 {
		t.Errorf("default rule priority %d", p)
	}
}

func TestAutomaticRoutes4(t *testing.T) {
	n, v0, _ := upPair(t)
	if err := n.AddAddr(&Addr{Prefix: pfx("10.0.0.1/24"), Dev: v0.Index}); err != nil {
		t.Fatal(err)
	}
	n.AddAddr(&Addr{Prefix: pfx("10.0.0.2/24"), Dev: v0.Index})
	n.AddAddr(&Addr{Prefix: pfx("192.168.1.1/31"), Dev: v0.Index})
	var x *ExtError
	if err := n.AddAddr(&Addr{Prefix: pfx("10.0.0.1/24"), Dev: v0.Index}); !errors.As(err, &x) {
		t.Errorf("duplicate address: %v", err)
	}
	if got, want := routes(n, false, TableMain), []string{"10.0.0.0/24 v0 10.0.0.1", "192.168.1.0/31 v0 192.168.1.1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("main: got %q want %q", got, want)
	}
	wantLocal := []string{"local 10.0.0.1/32 v0 10.0.0.1", "local 10.0.0.2/32 v0 10.0.0.1", "broadcast 10.0.0.255/32 v0 10.0.0.1",
		"local 127.0.0.0/8 lo 127.0.0.1", "local 127.0.0.1/32 lo 127.0.0.1", "broadcast 127.255.255.255/32 lo 127.0.0.1",
		"local 192.168.1.1/32 v0 192.168.1.1"}
	if got := routes(n, false, TableLocal); !reflect.DeepEqual(got, wantLocal) {
		t.Errorf("local: got %q\nwant %q", got, wantLocal)
	}
	// down keeps only the local routes of the addresses
	n.SetLinkUp(v0, false)
	if got := routes(n, false, TableMain); len(got) != 0 {
		t.Errorf("main after down: %q", got)
	}
	if got := routes(n, false, TableLocal); len(got) != 6 {
		t.Errorf("local after down: %q", got)
	}
	n.SetLinkUp(v0, true)
	if got := routes(n, false, TableLocal); !reflect.DeepEqual(got, wantLocal) {
		t.Errorf("local after up again: got %q", got)
	}
	// deleting the primary takes the secondary and all their routes
	if err := n.DelAddr(pfx("10.0.0.1/24"), v0.Index); err != nil {
		t.Fatal(err)
	}
	v4 := 0
	for _, a := range n.Addrs {
		if a.Prefix.Addr().Is4() {
			v4++
		}
	}
	if v4 != 2 { // 192.168.1.1, 127.0.0.1
		t.Errorf("IPv4 addresses left: %d", v4)
	}
	for _, r := range routes(n, false, TableLocal) {
		if r == "local 10.0.0.2/32 v0 10.0.0.1" || r == "broadcast 10.0.0.255/32 v0 10.0.0.1" {
			t.Errorf("route of deleted address left: %s", r)
		}
	}
}

func TestAutomaticRoutes6(t *testing.T) {
	n, v0, v1 := upPair(t)
	n.AddAddr(&Addr{Prefix: pfx("2001:db8::1/64"), Dev: v0.Index})
	want := []string{"2001:db8::/64 v0", "fe80::/64 v1", "fe80::/64 v0"}
	if got := routes(n, true, TableMain); !reflect.DeepEqual(got, want) {
		t.Errorf("main6: got %q want %q", got, want)
	}
	loc := routes(n, true, TableLocal)
	if len(loc) != 6 || loc[0] != "local ::1/128 lo" || loc[len(loc)-1] != "multicast ff00::/8 v0" {
		t.Errorf("local6: %q", loc)
	}
	// carrier loss keeps the routes, admin down removes them
	n.SetLinkUp(v1, false)
	if got := routes(n, true, TableMain); !reflect.DeepEqual(got, []string{"2001:db8::/64 v0", "fe80::/64 v0"}) {
		t.Errorf("after peer down: %q", got)
	}
	n.SetLinkUp(v0, false)
	if got := routes(n, true, TableMain); len(got) != 0 {
		t.Errorf("after down: %q", got)
	}
}

func TestRouteOrder6(t *testing.T) {
	// the fib6 walk is post-order: more specific before the containing prefix
	ps := []string{"::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8::/48", "fe80::/64"}
	want := []string{"2001:db8::/48", "2001:db8:1::/48", "2001:db8::/32", "fe80::/64", "::/0"}
	n := New("x")
	n.SetLinkUp(n.LinkByName("lo"), true)
	for _, p := range ps {
		if err := n.AddRoute(&Route{V6: true, Table: TableMain, Type: RTUnicast, Dst: pfx(p), Dev: 1, Metric: 1024}, false); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range n.SortedRoutes() {
		if r.V6 && r.Table == TableMain {
			got = append(got, r.Dst.String())
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestLookup(t *testing.T) {
	n, v0, _ := upPair(t)
	n.AddAddr(&Addr{Prefix: pfx("10.0.0.1/24"), Dev: v0.Index})
	n.AddAddr(&Addr{Prefix: pfx("10.2.0.1/16"), Dev: v0.Index})
	add := func(r *Route) {
		t.Helper()
		if err := n.AddRoute(r, false); err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
	}
	add(&Route{Table: TableMain, Type: RTUnicast, Dst: pfx("0.0.0.0/0"), Gw: ip("10.0.0.254")})
	add(&Route{Table: TableMain, Type: RTUnicast, Dst: pfx("192.168.0.0/16"), Gw: ip("10.2.0.9")})
	add(&Route{Table: TableMain, Type: RTBlackhole, Dst: pfx("10.9.0.0/16")})
	add(&Route{Table: 100, Type: RTUnicast, Dst: pfx("0.0.0.0/0"), Gw: ip("10.0.0.253")})
	var x *ExtError
	if err := n.AddRoute(&Route{Table: TableMain, Type: RTUnicast, Dst: pfx("10.5.0.0/16"), Gw: ip("1.2.3.4")}, false); !errors.As(err, &x) {
		t.Errorf("unreachable gateway accepted: %v", err)
	}
	if err := n.AddRoute(&Route{Table: TableMain, Type: RTUnicast, Dst: pfx("0.0.0.0/0"), Gw: ip("10.0.0.250")}, false); err != ErrExist {
		t.Errorf("duplicate: %v", err)
	}
	n.Rules = append(n.Rules, &Rule{Priority: 100, HasMark: true, Mark: 1, Mask: 0xff, Table: 100},
		&Rule{Priority: 101, From: pfx("10.2.0.0/16"), Table: 100})
	cases := []struct {
		dst, src string
		mark     uint32
		gw, psrc string
		table    int
		err      error
	}{
		{dst: "8.8.8.8", gw: "10.0.0.254", psrc: "10.0.0.1", table: TableMain},
		{dst: "192.168.3.4", gw: "10.2.0.9", psrc: "10.2.0.1", table: TableMain}, // source from the gateway's subnet
		{dst: "10.0.0.7", psrc: "10.0.0.1", table: TableMain},
		{dst: "10.0.0.1", psrc: "10.0.0.1", table: TableLocal},
		{dst: "10.9.1.1", err: ErrInval},
		{dst: "8.8.8.8", mark: 0x101, gw: "10.0.0.253", psrc: "10.0.0.1", table: 100},
		{dst: "8.8.8.8", mark: 0x2, gw: "10.0.0.254", psrc: "10.0.0.1", table: TableMain},
		{dst: "8.8.8.8", src: "10.2.0.1", gw: "10.0.0.253", psrc: "10.2.0.1", table: 100},
	}
	for _, c := range cases {
		var src netip.Addr
		if c.src != "" {
			src = ip(c.src)
		}
		r, ps, err := n.Lookup(ip(c.dst), src, "", "", c.mark)
		if c.err != nil {
			if err != c.err {
				t.Errorf("%s: err %v want %v", c.dst, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.dst, err)
			continue
		}
		if c.gw != "" && r.Gw != ip(c.gw) || c.gw == "" && r.Gw.IsValid() || ps != ip(c.psrc) || r.Table != c.table {
			t.Errorf("%s mark %#x: gw %v src %v table %d; want %s %s %d", c.dst, c.mark, r.Gw, ps, r.Table, c.gw, c.psrc, c.table)
		}
	}
	n.Rules = append(n.Rules, &Rule{Priority: 5, To: pfx("10.7.0.0/16"), Action: RTProhibit})
	if _, _, err := n.Lookup(ip("10.7.1.1"), netip.Addr{}, "", "", 0); err != ErrPerm {
		t.Errorf("prohibit rule: %v", err)
	}
	n.Rules = n.Rules[:0]
	if _, _, err := n.Lookup(ip("8.8.8.8"), netip.Addr{}, "", "", 0); err != ErrNetUnreach {
		t.Errorf("no rules: %v", err)
	}
}

func TestLookup6Source(t *testing.T) {
	n, v0, v1 := upPair(t)
	n.AddAddr(&Addr{Prefix: pfx("2001:db8::1/64"), Dev: v0.Index})
	n.AddAddr(&Addr{Prefix: pfx("2001:db8:1::1/64"), Dev: v1.Index})
	n.AddRoute(&Route{V6: true, Table: TableMain, Type: RTUnicast, Dst: pfx("::/0"), Gw: ip("2001:db8::ff"), Dev: v0.Index, Metric: 1024}, false)
	r, src, err := n.Lookup(ip("2001:4860::8888"), netip.Addr{}, "", "", 0)
	if err != nil || r.Dev != v0.Index || src != ip("2001:db8::1") {
		t.Errorf("default: %+v %v %v", r, src, err)
	}
	r, src, err = n.Lookup(ip("2001:db8:1::5"), netip.Addr{}, "", "", 0)
	if err != nil || r.Dev != v1.Index || src != ip("2001:db8:1::1") {
		t.Errorf("on-link: %+v %v %v", r, src, err)
	}
	_, src, err = n.Lookup(ip("fe80::99"), netip.Addr{}, "", "", 0)
	if err != nil || !src.IsLinkLocalUnicast() {
		t.Errorf("link-local: %v %v", src, err)
	}
}

func TestSysctl(t *testing.T) {
	n := New("x")
	n.AddLink("d0", Dummy, "")
	if n.Sysctl["net.ipv4.conf.d0.rp_filter"] != "0" || n.Sysctl["net.ipv4.ip_default_ttl"] != "64" {
		t.Fatal("defaults missing")
	}
	if err := n.SetSysctl("net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"net.ipv4.conf.all.forwarding", "net.ipv4.conf.d0.forwarding", "net.ipv4.conf.default.forwarding"} {
		if n.Sysctl[k] != "1" {
			t.Errorf("%s = %s", k, n.Sysctl[k])
		}
	}
	if n.Sysctl["net.ipv4.conf.all.accept_redirects"] != "0" {
		t.Error("accept_redirects not cleared by forwarding")
	}
	if err := n.SetSysctl("net.ipv4.ip_default_ttl", "0"); err != ErrInval {
		t.Errorf("ttl 0: %v", err)
	}
	if err := n.SetSysctl("net.ipv4.bogus", "0"); err == nil {
		t.Error("unknown key accepted")
	}
	n.Rename(n.LinkByName("d0"), "e0")
	if _, ok := n.Sysctl["net.ipv4.conf.e0.forwarding"]; !ok {
		t.Error("rename did not move the conf directory")
	}
	n.DelLink(n.LinkByName("e0"))
	if _, ok := n.Sysctl["net.ipv4.conf.e0.forwarding"]; ok {
		t.Error("delete left the conf directory")
	}
}

func TestPersistence(t *testing.T) {
	d, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n, v0, _ := upPair(t)
	n.AddAddr(&Addr{Prefix: pfx("10.0.0.1/24"), Dev: v0.Index, Label: "v0"})
	n.Rules = append(n.Rules, &Rule{Priority: 7, From: pfx("10.0.0.0/8"), Table: 9})
	n.SetSysctl("net.ipv4.ip_forward", "1")
	if err := n.Save(d); err != nil {
		t.Fatal(err)
	}
	m, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n, m) {
		t.Errorf("round trip differs:\n%+v\n%+v", n, m)
	}
	// MACs are deterministic per host and name, locally administered
	a, b := New("h1"), New("h1")
	a.AddLink("d0", Dummy, "")
	b.AddLink("d0", Dummy, "")
	c := New("h2")
	c.AddLink("d0", Dummy, "")
	if a.LinkByName("d0").MAC != b.LinkByName("d0").MAC || a.LinkByName("d0").MAC == c.LinkByName("d0").MAC {
		t.Error("MAC not deterministic per host")
	}
	if mac := a.LinkByName("d0").MAC; mac[1] != '2' && mac[1] != '6' && mac[1] != 'a' && mac[1] != 'e' {
		t.Errorf("MAC %s is not locally administered unicast", mac)
	}
}
