package xfrm

import (
	"bytes"
	"net/netip"
	"testing"
)

// FuzzDecapsulate: no received packet makes the input path panic, and
// what it accepts is a packet the state's peer could have sent. The seeds
// are packets of the seed tunnel (plain and UDP-encapsulated), cut and
// with bytes changed.
func FuzzDecapsulate(f *testing.F) {
	d2, d3 := seedDBs(f)
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	out, _ := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
	f.Add(out, uint16(0))
	f.Add(out[:60], uint16(0))
	f.Add(udp4(d2addr, d3addr, 4500, 4500, out[20:]), uint16(EncapESPinUDP))
	f.Add(udp4(d2addr, d3addr, 4500, 4500, append(make([]byte, 8), out[20:]...)), uint16(EncapESPinUDPNonIKE))
	f.Add(udp4(d2addr, d3addr, 4500, 4500, []byte{0xff}), uint16(EncapESPinUDP))
	y := d3.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y.ReplayWindow = 0
	f.Fuzz(func(t *testing.T, b []byte, encap uint16) {
		orig := append([]byte(nil), b...)
		var sp SecPath
		inner, sa, err := d3.Decapsulate(nil, b, &DecapParams{EncapType: encap}, &sp)
		if !bytes.Equal(b, orig) {
			t.Fatal("the received packet was changed")
		}
		if err != nil {
			return
		}
		if sa == nil || sp.Len != 1 || len(inner) == 0 {
			t.Fatalf("accepted without a state or a packet")
		}
		var fl Flow
		fl.FromPacket(inner, false)
		d3.Check(DirFwd, &fl, &sp, 0)
	})
}

// FuzzEncapsulate: no inner packet makes the output path panic; what it
// encapsulates decapsulates to the same bytes.
func FuzzEncapsulate(f *testing.F) {
	f.Add(echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1))
	f.Add([]byte{0x60, 0, 0, 0, 0, 0, 59, 64})
	f.Add([]byte{0x45})
	d2, d3 := seedDBs(f)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y := d3.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y.ReplayWindow = 0
	f.Fuzz(func(t *testing.T, in []byte) {
		var fl Flow
		if fl.FromPacket(in, false) {
			var b Bundle
			d2.OutputPolicy(&fl, 0, nil, &b)
		}
		x.Replay.OSeq = 0
		out, err := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
		if err != nil {
			return
		}
		got, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &SecPath{})
		if err != nil {
			t.Fatalf("own packet refused: %v", err)
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("round trip changed the packet")
		}
	})
}
