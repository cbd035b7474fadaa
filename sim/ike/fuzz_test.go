package ike

import (
	"net/netip"
	"testing"
)

// FuzzHandle feeds a responder arbitrary datagrams: never a panic.
func FuzzHandle(f *testing.F) {
	_, a, _ := seedPair(&testing.T{}, "", "", "")
	n := a.net
	a.d.Up("debian3", 0)
	if len(n.queue) > 0 {
		f.Add(n.queue[0].payload, uint16(500))
	}
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3}, uint16(4500))
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		_, _, resp := seedPair(t, "", "", "")
		src := netip.MustParseAddrPort("10.0.0.200:500")
		resp.d.Handle(Datagram{Src: src, Dst: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.201"), port), Payload: b}, 0)
	})
}

// FuzzLoad parses arbitrary configuration files: never a panic.
func FuzzLoad(f *testing.F) {
	f.Add(seedConf("a", "x", "1.1.1.1", "y", "10.0.0.0/8", "10.1.0.0/16", "\tmobike=no\n"), seedSecrets, "charon {\n install_routes = no\n}\n")
	f.Add("conn %default\n\talso=x\n", ": PSK 0sAAA=\n", "a { b { c = d } }")
	f.Fuzz(func(t *testing.T, conf, secrets, sw string) {
		d := New(Options{})
		d.Load(conf, secrets, sw, 0)
		for _, c := range d.Conns() {
			d.Up(c.Name, 0)
		}
		d.StatusAll(0)
	})
}
