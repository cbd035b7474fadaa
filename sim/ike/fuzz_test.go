package ike

import (
	"net/netip"
	"testing"
	"time"
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

// FuzzAuth gives a responder that has answered IKE_SA_INIT an IKE_AUTH
// request (whole, or as the first of two fragments) whose encrypted
// payloads are arbitrary but pass the integrity check: the payload
// parsers, certificate and signature checks and the fragment reassembly
// see anything. Never a panic.
func FuzzAuth(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add([]byte{0, 0, 0, 8, 9, 0, 0, 0}, true)
	f.Add([]byte{37, 0, 0, 12, 9, 0, 0, 0, 48, 2, 5, 0, 39, 0, 0, 9, 4, 1, 2, 3, 4}, false)
	f.Fuzz(func(t *testing.T, plain []byte, frag bool) {
		n, a, b := certPair(t, false, "")
		n.drop = func(src, dst netip.AddrPort) bool { return dst.Port() == 4500 }
		a.d.Up("debian3", 0)
		n.run(int64(time.Second))
		if len(b.d.sas) == 0 {
			t.Skip("no IKE_SA")
		}
		sa := b.d.sas[0]
		m := &message{spiI: sa.spiI, spiR: sa.spiR, exchange: exIKEAuth, flags: flagInitiator, id: 1}
		var pkt []byte
		first := uint8(plIDi)
		if len(plain) > 0 {
			first = plain[0]
		}
		if frag {
			pkt = sa.seal([]byte{0, 0, 0, 0}, 4, m, plSKF, first, []byte{0, 1, 0, 2}, plain)
		} else {
			pkt = sa.seal([]byte{0, 0, 0, 0}, 4, m, plSK, first, nil, plain)
		}
		b.d.Handle(Datagram{Src: netip.MustParseAddrPort("10.0.0.200:4500"),
			Dst: netip.MustParseAddrPort("10.0.0.201:4500"), Payload: pkt}, n.now)
	})
}
