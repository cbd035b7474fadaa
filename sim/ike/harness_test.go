package ike

import (
	"errors"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"
)

// testHost is a host of the in-memory network: its addresses, a default
// route, and what its daemon installed.
type testHost struct {
	name   string
	addrs  []netip.Addr
	dev    map[netip.Prefix]string // on-link prefixes and their device
	defGW  netip.Addr
	d      *Daemon
	net    *testNet
	sas    []SA
	pols   []Policy
	routes []Route
	rules  []Rule
	lines  []Output
	// noESP: the kernel refuses SAs as the recording kernel did
	// ("Protocol not supported").
	noESP bool
}

func (h *testHost) Addrs() []netip.Addr { return h.addrs }

func (h *testHost) Route(dst netip.Addr) (netip.Addr, netip.Addr, string, bool) {
	for p, dev := range h.dev {
		if p.Contains(dst) {
			for _, a := range h.addrs {
				if p.Contains(a) {
					return a, netip.Addr{}, dev, true
				}
			}
		}
	}
	if h.defGW.IsValid() {
		for p, dev := range h.dev {
			if p.Contains(h.defGW) {
				for _, a := range h.addrs {
					if p.Contains(a) {
						return a, h.defGW, dev, true
					}
				}
			}
		}
	}
	return netip.Addr{}, netip.Addr{}, "", false
}

func (h *testHost) AddRule(r Rule) error { h.rules = append(h.rules, r); return nil }
func (h *testHost) AddSA(s SA) error {
	if h.noESP {
		return errNoESP
	}
	h.sas = append(h.sas, s)
	return nil
}
func (h *testHost) AddPolicy(p Policy) error { h.pols = append(h.pols, p); return nil }
func (h *testHost) AddRoute(r Route) error   { h.routes = append(h.routes, r); return nil }

func (h *testHost) Send(src, dst netip.AddrPort, payload []byte) {
	h.net.send(h, src, dst, payload)
}

// testNet delivers datagrams 1 ms later; nat rewrites the source of
// what a host sends (a MASQUERADE on the way), drop decides losses.
type testNet struct {
	now    int64
	hosts  []*testHost
	queue  []pending
	nat    map[netip.Addr]netip.Addr // private source → public address
	natMap map[netip.AddrPort]netip.AddrPort
	drop   func(src, dst netip.AddrPort) bool
	sent   []string
}

type pending struct {
	at       int64
	to       *testHost
	src, dst netip.AddrPort
	payload  []byte
}

func (n *testNet) send(from *testHost, src, dst netip.AddrPort, payload []byte) {
	n.sent = append(n.sent, hostPort(src)+" > "+hostPort(dst)+" "+itoa(len(payload)))
	if pub, ok := n.nat[src.Addr()]; ok {
		// a port-preserving MASQUERADE
		m := netip.AddrPortFrom(pub, src.Port())
		n.natMap[m] = src
		src = m
	}
	if orig, ok := n.natMap[dst]; ok {
		dst = orig
	}
	if n.drop != nil && n.drop(src, dst) {
		return
	}
	for _, h := range n.hosts {
		for _, a := range h.addrs {
			if a == dst.Addr() {
				n.queue = append(n.queue, pending{n.now + int64(time.Millisecond), h, src, dst, append([]byte(nil), payload...)})
				return
			}
		}
	}
}

// run advances the clock until nothing is left to do or until limit.
func (n *testNet) run(limit int64) {
	for {
		next, ok := int64(0), false
		if len(n.queue) > 0 {
			sort.SliceStable(n.queue, func(i, j int) bool { return n.queue[i].at < n.queue[j].at })
			next, ok = n.queue[0].at, true
		}
		for _, h := range n.hosts {
			if t, has := h.d.NextTimer(); has && (!ok || t < next) {
				next, ok = t, true
			}
		}
		if !ok || next > limit {
			return
		}
		n.now = next
		if len(n.queue) > 0 && n.queue[0].at == next {
			p := n.queue[0]
			n.queue = n.queue[1:]
			p.to.lines = append(p.to.lines, p.to.d.Handle(Datagram{Src: p.src, Dst: p.dst, Payload: p.payload}, n.now)...)
			continue
		}
		for _, h := range n.hosts {
			if t, has := h.d.NextTimer(); has && t == next {
				h.lines = append(h.lines, h.d.Tick(n.now)...)
			}
		}
	}
}

func mustAddrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

var seedHosts = map[string]netip.Addr{
	"debian2.example.com": netip.MustParseAddr("10.0.0.200"),
	"debian3.example.com": netip.MustParseAddr("10.0.0.201"),
}

func newHost(t *testing.T, n *testNet, name string, addrs []netip.Addr, dev map[netip.Prefix]string, gw string, seed uint64) *testHost {
	return newHostFiles(t, n, name, addrs, dev, gw, seed, nil)
}

var errNoESP = errors.New("Protocol not supported")

func newHostFiles(t *testing.T, n *testNet, name string, addrs []netip.Addr, dev map[netip.Prefix]string, gw string, seed uint64, files map[string][]byte) *testHost {
	h := &testHost{name: name, addrs: addrs, dev: dev, net: n}
	if gw != "" {
		h.defGW = netip.MustParseAddr(gw)
	}
	h.d = New(Options{Transport: h, Net: h, Installer: h, Seed: seed, Files: files,
		Resolve: func(s string) (netip.Addr, bool) { a, ok := seedHosts[s]; return a, ok }})
	n.hosts = append(n.hosts, h)
	return h
}

// seedConf is seed 000's ipsec.conf for one side, with extra lines.
func seedConf(name, leftid, right, rightid, lsub, rsub, extra string) string {
	return "conn " + name + `
        left=%defaultroute
        leftid=` + leftid + `
        right=` + right + `
        rightid=` + rightid + `
        leftsubnet=` + lsub + `
        rightsubnet=` + rsub + `
        keyexchange=ike
        authby=secret
        type=tunnel
        ike=aes128-sha1-modp1024!
        esp=aes128-sha1!
        reauth=no
        auto=add
` + extra
}

const seedSecrets = `: PSK "presharedkey"` + "\n"

// seedPair sets up seed 000's two routers on one link.
func seedPair(t *testing.T, extraA, extraB, swA string) (*testNet, *testHost, *testHost) {
	n := &testNet{natMap: map[netip.AddrPort]netip.AddrPort{}}
	a := newHost(t, n, "debian2", mustAddrs("10.0.0.200", "192.168.200.1"), map[netip.Prefix]string{
		netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.200.0/24"): "eth1"}, "10.0.0.1", 1)
	b := newHost(t, n, "debian3", mustAddrs("10.0.0.201", "192.168.201.1"), map[netip.Prefix]string{
		netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.201.0/24"): "eth1"}, "10.0.0.1", 2)
	if err := a.d.Load(seedConf("debian3", "debian2.example.com", "debian3.example.com", "debian3.example.com",
		"192.168.200.0/24", "192.168.201.0/24", extraA), seedSecrets, swA, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.d.Load(seedConf("debian2", "debian3.example.com", "debian2.example.com", "debian2.example.com",
		"192.168.201.0/24", "192.168.200.0/24", extraB), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	return n, a, b
}

// up runs "ipsec up NAME" on h and returns the lines it prints.
func up(n *testNet, h *testHost, name string, limit time.Duration) ([]string, bool, bool) {
	h.lines = append(h.lines, h.d.Up(name, n.now)...)
	n.run(n.now + int64(limit))
	var lines []string
	done, ok := false, false
	for _, o := range h.lines {
		if o.Cmd == 0 {
			continue
		}
		if o.Line != "" {
			lines = append(lines, o.Line)
		}
		if o.Done {
			done, ok = true, o.OK
		}
	}
	return lines, done, ok
}

func daemonLog(h *testHost) []string {
	var out []string
	for _, o := range h.lines {
		if !o.Done {
			out = append(out, o.Line)
		}
	}
	return out
}

var _ = strings.Join
