package xfrm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/packet"
)

// Seed 000's tcpdump on debian3: "IP 10.0.0.200 > 10.0.0.201:
// ESP(spi=0xc021c588,seq=0x1), length 132" for an 84-byte ping in
// aes128-sha1 tunnel mode: ESP header 8 + IV 16 + ALIGN(84+2, 16) = 96 +
// ICV 12.
func TestEncapsulateSeedSizes(t *testing.T) {
	d2, _ := seedDBs(t)
	var b Bundle
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	fl := flowOf(t, in)
	if v := d2.OutputPolicy(&fl, 2000, nil, &b); v != Transform || b.N != 1 || b.SAs[0].SPI != spi23 {
		t.Fatalf("verdict %v, bundle %d", v, b.N)
	}
	for seq := uint32(1); seq <= 4; seq++ {
		out, err := b.SAs[0].Encapsulate(nil, in, &EncapParams{TTL: 64, ID: 77, Now: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 20+132 {
			t.Fatalf("packet of %d bytes, want 152", len(out))
		}
		var p packet.Packet
		if err := p.Decode(out); err != nil {
			t.Fatal(err)
		}
		if p.ESP.SPI != spi23 || p.ESP.Seq != seq {
			t.Errorf("spi %#x seq %d", p.ESP.SPI, p.ESP.Seq)
		}
		want := "IP 10.0.0.200 > 10.0.0.201: ESP(spi=0xc187f495,seq=0x" + string(rune('0'+seq)) + "), length 132"
		if got := p.String(); got != want {
			t.Errorf("summary %q\nwant    %q", got, want)
		}
		// outer header: DF from the inner packet, so ID 0; TTL, protocol
		if p.IPv4.Flags != packet.IPv4DF || p.IPv4.ID != 0 || p.IPv4.TTL != 64 || p.IPv4.Protocol != ProtoESP {
			t.Errorf("outer header %+v", p.IPv4)
		}
		if ok, _ := p.ChecksumsOK(); !ok {
			t.Error("bad outer IP checksum")
		}
	}
	x := b.SAs[0]
	if x.Replay.OSeq != 4 || x.Cur.Packets != 4 || x.Cur.Bytes != 4*84 || x.LastUsed != 2000 {
		t.Errorf("counters: oseq %d packets %d bytes %d lastused %d", x.Replay.OSeq, x.Cur.Packets, x.Cur.Bytes, x.LastUsed)
	}
	if got := x.Overhead(84); got != 20+132-84 {
		t.Errorf("Overhead(84) = %d", got)
	}
}

// The ESP trailer: padding 1, 2, 3..., the pad length and the next header
// (4: IPv4 in tunnel mode) at the end of the plaintext, as
// esp_output_fill_trailer writes it; visible with the null cipher.
func TestTrailerWithNullCipher(t *testing.T) {
	db := NewDB()
	r := &StateRequest{Src: d2addr, Dst: d3addr, SPI: 9, Proto: ProtoESP, Family: Inet, Mode: ModeTunnel,
		Lft: DefaultLifetime(), Crypt: &Algo{Name: "cipher_null"}, Auth: &Algo{Name: "digest_null"}}
	if err := db.AddState(r, false, 1); err != nil {
		t.Fatal(err)
	}
	x := db.States[0]
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	out, err := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil {
		t.Fatal(err)
	}
	// block 4 (ALIGN(1, 4)), no IV, no ICV: 84 + 2 -> 88
	body := out[20+8:]
	if len(body) != 88 || !bytes.Equal(body[:84], in) {
		t.Fatalf("body %d bytes: %x", len(body), body)
	}
	if !bytes.Equal(body[84:], []byte{1, 2, 2, 4}) {
		t.Errorf("trailer %x, want 01 02 02 04", body[84:])
	}
}

// Sizes per algorithm: block and IV of the cipher, ICV of the
// authentication or AEAD.
func TestESPSizes(t *testing.T) {
	k20 := make([]byte, 20)
	k16 := make([]byte, 16)
	k32 := make([]byte, 32)
	cases := []struct {
		name       string
		r          StateRequest
		inner, esp int // inner packet, ESP payload (IP payload)
		mtu        int // MTU of a 1500 path
	}{
		{"aes-cbc hmac-sha1-96", StateRequest{Crypt: &Algo{Name: "aes", Key: k16}, Auth: &Algo{Name: "sha1", Key: k20}}, 84, 132, 1438},
		{"aes-cbc hmac-sha256-128", StateRequest{Crypt: &Algo{Name: "aes", Key: k32}, AuthTrunc: &Algo{Name: "hmac(sha256)", Key: k32, TruncLen: 128}}, 84, 136, 1438},
		{"aes-cbc sha256 (96, the auth default)", StateRequest{Crypt: &Algo{Name: "aes", Key: k32}, Auth: &Algo{Name: "sha256", Key: k32}}, 100, 8 + 16 + 112 + 12, 1438},
		{"aes-gcm-128 (rfc4106)", StateRequest{AEAD: &Algo{Name: "rfc4106(gcm(aes))", Key: k20, ICVLen: 128}}, 84, 8 + 8 + 88 + 16, 1446},
		{"aes-gcm-64", StateRequest{AEAD: &Algo{Name: "rfc4106(gcm(aes))", Key: k20, ICVLen: 64}}, 85, 8 + 8 + 88 + 8, 1454},
		{"aes-ctr (rfc3686) hmac-sha1", StateRequest{Crypt: &Algo{Name: "rfc3686(ctr(aes))", Key: k20}, Auth: &Algo{Name: "sha1", Key: k20}}, 84, 8 + 8 + 88 + 12, 1450},
		{"3des hmac-md5", StateRequest{Crypt: &Algo{Name: "des3_ede", Key: make([]byte, 24)}, Auth: &Algo{Name: "md5", Key: k16}}, 84, 8 + 8 + 88 + 12, 1446},
		{"chacha20-poly1305", StateRequest{AEAD: &Algo{Name: "rfc7539esp(chacha20,poly1305)", Key: make([]byte, 36), ICVLen: 128}}, 84, 8 + 8 + 88 + 16, 1446},
		{"null cipher, no auth", StateRequest{Crypt: &Algo{Name: "ecb(cipher_null)"}}, 84, 8 + 88, 1470},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := NewDB()
			r := c.r
			r.Src, r.Dst, r.SPI, r.Proto, r.Family, r.Mode, r.Lft = d2addr, d3addr, 7, ProtoESP, Inet, ModeTunnel, DefaultLifetime()
			for _, a := range []*Algo{r.Crypt, r.Auth, r.AuthTrunc, r.AEAD} {
				if a != nil {
					a.KeyBits = len(a.Key) * 8
				}
			}
			if err := db.AddState(&r, false, 1); err != nil {
				t.Fatal(err)
			}
			x := db.States[0]
			in := make([]byte, c.inner)
			in[0] = 0x45
			binary.BigEndian.PutUint16(in[2:], uint16(c.inner))
			out, err := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
			if err != nil {
				t.Fatal(err)
			}
			if len(out)-20 != c.esp {
				t.Errorf("ESP payload %d bytes, want %d", len(out)-20, c.esp)
			}
			if got := x.Overhead(c.inner); got != len(out)-c.inner {
				t.Errorf("Overhead %d, encapsulation added %d", got, len(out)-c.inner)
			}
			if got := x.MTU(1500); got != c.mtu {
				t.Errorf("MTU(1500) = %d, want %d", got, c.mtu)
			}
			// the largest inner packet of that MTU fits 1500 bytes, one more
			// block does not
			in = make([]byte, c.mtu)
			in[0] = 0x45
			binary.BigEndian.PutUint16(in[2:], uint16(c.mtu))
			out, _ = x.Encapsulate(nil, in, &EncapParams{TTL: 64})
			if len(out) > 1500 {
				t.Errorf("an inner packet of the MTU gives %d bytes", len(out))
			}
		})
	}
}

// UDP encapsulation (RFC 3948): IP, UDP 4500 -> 4500 with a zero
// checksum, then ESP; the non-IKE variant puts 8 zero bytes first.
func TestUDPEncapsulation(t *testing.T) {
	d2, d3 := seedDBs(t)
	for _, db := range []*DB{d2, d3} {
		for _, s := range db.States {
			s.Encap = &Encap{Type: EncapESPinUDP, Sport: 4500, Dport: 4500}
			if err := s.prepare(); err != nil {
				t.Fatal(err)
			}
		}
	}
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	out, err := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil {
		t.Fatal(err)
	}
	var p packet.Packet
	if err := p.Decode(out); err != nil {
		t.Fatal(err)
	}
	if !p.Layers.Has(packet.LayerUDP|packet.LayerESP) || p.UDP.SrcPort != 4500 || p.UDP.DstPort != 4500 ||
		p.UDP.Checksum != 0 || int(p.UDP.Length) != 8+132 || p.ESP.SPI != spi23 || p.ESP.Seq != 1 {
		t.Fatalf("decoded %s: %+v", p.String(), p.UDP)
	}
	if got, want := p.String(), "IP 10.0.0.200.4500 > 10.0.0.201.4500: UDP-encap: ESP(spi=0xc187f495,seq=0x1), length 132"; got != want {
		t.Errorf("summary %q\nwant    %q", got, want)
	}
	if x.MTU(1500) != 1422 {
		t.Errorf("MTU with UDP encapsulation %d, want 1422", x.MTU(1500))
	}
	// the other side decapsulates it from its port 4500 socket
	var sp SecPath
	inner, sa, err := d3.Decapsulate(nil, out, &DecapParams{EncapType: EncapESPinUDP, Now: 5}, &sp)
	if err != nil || !bytes.Equal(inner, in) || sa.SPI != spi23 || sp.Len != 1 {
		t.Fatalf("decapsulate: %v", err)
	}
	// the same datagram as plain ESP does not match the state's
	// encapsulation, nor does it to a socket without encapsulation
	if _, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &SecPath{}); !errors.Is(err, ErrNotESP) {
		t.Errorf("to a plain socket: %v", err)
	}
	esp := make([]byte, 0, len(out))
	esp = append(esp, out[:20]...)
	esp[9] = ProtoESP
	esp = append(esp, out[28:]...)
	binary.BigEndian.PutUint16(esp[2:], uint16(len(esp)))
	if _, _, err := d3.Decapsulate(nil, esp, &DecapParams{}, &SecPath{}); !errors.Is(err, ErrEncapType) {
		t.Errorf("plain ESP for an encapsulated state: %v", err)
	}
	// IKE (non-ESP marker) and keepalives on the socket
	ike := udp4(d2addr, d3addr, 4500, 4500, []byte{0, 0, 0, 0, 0x21, 0x20})
	if _, _, err := d3.Decapsulate(nil, ike, &DecapParams{EncapType: EncapESPinUDP}, &SecPath{}); !errors.Is(err, ErrNotESP) {
		t.Errorf("IKE: %v", err)
	}
	ka := udp4(d2addr, d3addr, 4500, 4500, []byte{0xff})
	if _, _, err := d3.Decapsulate(nil, ka, &DecapParams{EncapType: EncapESPinUDP}, &SecPath{}); !errors.Is(err, ErrKeepalive) {
		t.Errorf("keepalive: %v", err)
	}
}

func TestUDPEncapsulationNonIKE(t *testing.T) {
	d2, d3 := seedDBs(t)
	for _, db := range []*DB{d2, d3} {
		for _, s := range db.States {
			s.Encap = &Encap{Type: EncapESPinUDPNonIKE, Sport: 4501, Dport: 4502}
			if err := s.prepare(); err != nil {
				t.Fatal(err)
			}
		}
	}
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	out, err := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 20+16+132 || !bytes.Equal(out[28:36], make([]byte, 8)) ||
		binary.BigEndian.Uint32(out[36:]) != spi23 {
		t.Fatalf("%d bytes: %x", len(out), out[:40])
	}
	inner, _, err := d3.Decapsulate(nil, out, &DecapParams{EncapType: EncapESPinUDPNonIKE}, &SecPath{})
	if err != nil || !bytes.Equal(inner, in) {
		t.Fatalf("decapsulate: %v", err)
	}
}

func udp4(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 28+len(payload))
	b[0], b[8], b[9] = 0x45, 64, protoUDP
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], packet.Checksum(b[:20], 0))
	binary.BigEndian.PutUint16(b[20:], sport)
	binary.BigEndian.PutUint16(b[22:], dport)
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	return b
}

// Round trip through both routers: debian3 decapsulates what debian2
// sends; a replayed packet, a wrong key and an unknown SPI are dropped as
// xfrm_input drops them.
func TestDecapsulate(t *testing.T) {
	d2, d3 := seedDBs(t)
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	var b Bundle
	fl := flowOf(t, in)
	if d2.OutputPolicy(&fl, 0, nil, &b) != Transform {
		t.Fatal("no bundle")
	}
	var pkts [][]byte
	for i := 0; i < 3; i++ {
		out, err := b.SAs[0].Encapsulate(nil, in, &EncapParams{TTL: 64})
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, out)
	}
	var sp SecPath
	inner, x, err := d3.Decapsulate(nil, pkts[1], &DecapParams{Now: 9}, &sp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inner, in) {
		t.Fatalf("inner differs:\n%x\n%x", inner, in)
	}
	if sp.Len != 1 || sp.SAs[0] != x || x.SPI != spi23 {
		t.Fatalf("secpath %+v", sp)
	}
	info := sp.AppendInfo(nil)
	if len(info) != 1 || info[0] != (SAInfo{Src: d2addr, Dst: d3addr, Proto: ProtoESP, Mode: 1, SPI: spi23, Reqid: 1}) {
		t.Errorf("info %+v", info)
	}
	if x.Replay.Seq != 2 || x.Replay.Bitmap != 1 || x.Cur.Packets != 1 || x.Cur.Bytes != 84 {
		t.Errorf("replay %+v cur %+v", x.Replay, x.Cur)
	}
	// an older one inside the window is fine, the same again is a replay
	if _, _, err := d3.Decapsulate(nil, pkts[0], &DecapParams{}, &SecPath{}); err != nil {
		t.Errorf("seq 1 after 2: %v", err)
	}
	if x.Replay.Bitmap != 3 {
		t.Errorf("bitmap %b", x.Replay.Bitmap)
	}
	if _, _, err := d3.Decapsulate(nil, pkts[1], &DecapParams{}, &SecPath{}); !errors.Is(err, ErrReplay) || x.Stats.Replay != 1 {
		t.Errorf("replayed seq 2: %v, stats %+v", err, x.Stats)
	}
	if _, _, err := d3.Decapsulate(nil, pkts[2], &DecapParams{}, &SecPath{}); err != nil {
		t.Errorf("seq 3: %v", err)
	}
	// a corrupted ICV
	bad := append([]byte(nil), pkts[2]...)
	bad[len(bad)-1] ^= 1
	binary.BigEndian.PutUint32(bad[24:], 10) // a fresh sequence number
	if _, _, err := d3.Decapsulate(nil, bad, &DecapParams{}, &SecPath{}); !errors.Is(err, ErrIntegrity) || x.Stats.IntegrityFailed != 1 {
		t.Errorf("bad ICV: %v, stats %+v", err, x.Stats)
	}
	// a peer with another key
	d3.States[0].Auth.Key = []byte("another key.........")
	d3.States[1].Auth.Key = []byte("another key.........")
	for _, s := range d3.States {
		s.prepare()
	}
	out, _ := b.SAs[0].Encapsulate(nil, in, &EncapParams{TTL: 64})
	if _, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &SecPath{}); !errors.Is(err, ErrIntegrity) {
		t.Errorf("other key: %v", err)
	}
	// no state for the SPI
	binary.BigEndian.PutUint32(out[20:], 0x1234)
	if _, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &SecPath{}); !errors.Is(err, ErrNoState) {
		t.Errorf("unknown SPI: %v", err)
	}
}

// The outer header's TOS and DF (xfrm4_tunnel_encap_add), and what the
// decapsulation does to the inner one (xfrm4_remove_tunnel_encap).
func TestTunnelHeaderRules(t *testing.T) {
	d2, d3 := seedDBs(t)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	cases := []struct {
		name     string
		tos      uint8
		df       bool
		flags    uint8
		extra    uint32
		ignoreDF bool
		wantTOS  uint8
		wantDF   bool
		wantID   uint16
	}{
		{"DSCP and ECT(0) copied, DF copied, ID 0", 0xb8 | 2, true, 0, 0, false, 0xb8 | 2, true, 0},
		{"CE becomes ECT(0)", 0x20 | 3, true, 0, 0, false, 0x20 | 2, true, 0},
		{"noecn clears ECN", 0x20 | 1, true, StateNoECN | StateAFUnspec, 0, false, 0x20, true, 0},
		{"dont-encap-dscp", 0xb8 | 1, true, StateAFUnspec, ExtraDontEncapDSCP, false, 1, true, 0},
		{"nopmtudisc: no DF, an ID", 0, true, StateNoPMTUDisc | StateAFUnspec, 0, false, 0, false, 4242},
		{"no DF on the inner packet: an ID", 0, false, StateAFUnspec, 0, false, 0, false, 4242},
		{"DF and ignore_df (local socket): an ID", 0, true, StateAFUnspec, 0, true, 0, true, 4242},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x.Flags, x.ExtraFlags = c.flags, c.extra
			in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, c.tos, 1)
			if !c.df {
				in[6] = 0
				in[10], in[11] = 0, 0
				binary.BigEndian.PutUint16(in[10:], packet.Checksum(in[:20], 0))
			}
			out, err := x.Encapsulate(nil, in, &EncapParams{TTL: 61, ID: 4242, IgnoreDF: c.ignoreDF})
			if err != nil {
				t.Fatal(err)
			}
			df := out[6]&0x40 != 0
			id := binary.BigEndian.Uint16(out[4:])
			if out[1] != c.wantTOS || df != c.wantDF || id != c.wantID || out[8] != 61 {
				t.Errorf("tos %#x df %v id %d ttl %d; want tos %#x df %v id %d", out[1], df, id, out[8], c.wantTOS, c.wantDF, c.wantID)
			}
		})
	}
	// decapsulation: CE on the outer header marks an ECT inner packet;
	// decap-dscp copies the outer DSCP
	x.Flags, x.ExtraFlags = StateAFUnspec, 0
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0x10|2, 1)
	out, _ := x.Encapsulate(nil, in, &EncapParams{TTL: 64})
	out[1] = 0x28 | 3 // a router on the way marked congestion, changed DSCP
	out[10], out[11] = 0, 0
	binary.BigEndian.PutUint16(out[10:], packet.Checksum(out[:20], 0))
	y := d3.LookupSPI(d3addr, spi23, ProtoESP, 0)
	inner, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &SecPath{})
	if err != nil || inner[1] != 0x10|3 {
		t.Fatalf("CE: tos %#x, %v", inner[1], err)
	}
	if packet.Checksum(inner[:20], 0) != 0 {
		t.Error("inner checksum not fixed")
	}
	y.Flags |= StateDecapDSCP
	out, _ = x.Encapsulate(nil, in, &EncapParams{TTL: 64})
	out[1] = 0x28
	out[10], out[11] = 0, 0
	binary.BigEndian.PutUint16(out[10:], packet.Checksum(out[:20], 0))
	inner, _, err = d3.Decapsulate(nil, out, &DecapParams{}, &SecPath{})
	if err != nil || inner[1] != 0x28|2 {
		t.Fatalf("decap-dscp: tos %#x, %v", inner[1], err)
	}
}

// Transport mode keeps the IP header in front: protocol ESP, the original
// protocol in the trailer, and back again on the other side.
func TestTransportMode(t *testing.T) {
	a, b := NewDB(), NewDB()
	for _, db := range []*DB{a, b} {
		r := &StateRequest{Src: d2addr, Dst: d3addr, SPI: 0x100, Proto: ProtoESP, Family: Inet, Mode: ModeTransport,
			ReplayWindow: 32, Lft: DefaultLifetime(),
			Crypt: &Algo{Name: "aes", Key: key1, KeyBits: 128}, Auth: &Algo{Name: "sha256", Key: auth1, KeyBits: 160}}
		if err := db.AddState(r, false, 1); err != nil {
			t.Fatal(err)
		}
	}
	in := echo(d2addr, d3addr, 64, 0, 1)
	out, err := a.States[0].Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil {
		t.Fatal(err)
	}
	// 20 + ESP 8 + IV 16 + ALIGN(64+2, 16) = 80 + ICV 12
	if len(out) != 20+8+16+80+12 || out[9] != ProtoESP || binary.BigEndian.Uint16(out[2:]) != uint16(len(out)) ||
		packet.Checksum(out[:20], 0) != 0 || out[8] != 64 {
		t.Fatalf("%d bytes, header %x", len(out), out[:20])
	}
	inner, _, err := b.Decapsulate(nil, out, &DecapParams{}, &SecPath{})
	if err != nil || !bytes.Equal(inner, in) {
		t.Fatalf("%v\n%x\n%x", err, inner, in)
	}
}

// IPv6 outer headers, IPv4 inner (4in6) and IPv6 inner with its flow label.
func TestIPv6Tunnels(t *testing.T) {
	l, r := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	a, b := NewDB(), NewDB()
	for _, db := range []*DB{a, b} {
		req := &StateRequest{Src: l, Dst: r, SPI: 0x200, Proto: ProtoESP, Family: Inet6, Mode: ModeTunnel,
			Flags: StateAFUnspec, Lft: DefaultLifetime(), Encap: &Encap{Type: EncapESPinUDP, Sport: 4500, Dport: 4500},
			AEAD: &Algo{Name: "rfc4106(gcm(aes))", Key: make([]byte, 20), KeyBits: 160, ICVLen: 128}}
		if err := db.AddState(req, false, 1); err != nil {
			t.Fatal(err)
		}
	}
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	out, err := a.States[0].Encapsulate(nil, in, &EncapParams{TTL: 63})
	if err != nil {
		t.Fatal(err)
	}
	var p packet.Packet
	if err := p.Decode(out); err != nil {
		t.Fatal(err)
	}
	if !p.IsIPv6() || p.IPv6.HopLimit != 63 || p.IPv6.NextHeader != protoUDP || p.ESP.SPI != 0x200 {
		t.Fatalf("%s", p.String())
	}
	if _, tr := p.ChecksumsOK(); !tr {
		t.Error("IPv6 UDP checksum wrong")
	}
	inner, _, err := b.Decapsulate(nil, out, &DecapParams{EncapType: EncapESPinUDP}, &SecPath{})
	if err != nil || !bytes.Equal(inner, in) {
		t.Fatalf("4in6: %v", err)
	}
	// 6in6: flow label and traffic class carried to the outer header
	in6 := make([]byte, 48)
	binary.BigEndian.PutUint32(in6, 6<<28|0x28<<20|0x12345)
	binary.BigEndian.PutUint16(in6[4:], 8)
	in6[6], in6[7] = 59, 64
	s, d := netip.MustParseAddr("fd00::1").As16(), netip.MustParseAddr("fd00::2").As16()
	copy(in6[8:], s[:])
	copy(in6[24:], d[:])
	out, err = a.States[0].Encapsulate(nil, in6, &EncapParams{TTL: 63})
	if err != nil {
		t.Fatal(err)
	}
	w := binary.BigEndian.Uint32(out)
	if w&0xfffff != 0x12345 || uint8(w>>20) != 0x28 {
		t.Errorf("outer word %#x", w)
	}
	inner, _, err = b.Decapsulate(nil, out, &DecapParams{EncapType: EncapESPinUDP}, &SecPath{})
	if err != nil || !bytes.Equal(inner, in6) {
		t.Fatalf("6in6: %v", err)
	}
}

// Hard limits expire a state; the sequence number does not wrap.
func TestLimitsAndOverflow(t *testing.T) {
	d2, _ := seedDBs(t)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	x.Lft.HardPackets = 2
	x.Lft.SoftPackets = 1
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	for i := 0; i < 2; i++ {
		if _, err := x.Encapsulate(nil, in, &EncapParams{}); err != nil {
			t.Fatal(err)
		}
	}
	if !x.Dying {
		t.Error("soft limit not reached")
	}
	if _, err := x.Encapsulate(nil, in, &EncapParams{}); !errors.Is(err, ErrExpired) || !x.Expired {
		t.Errorf("hard limit: %v", err)
	}
	if ex := d2.Expire(0); len(ex.States) != 1 || ex.States[0] != x || d2.LookupSPI(d3addr, spi23, ProtoESP, 0) != nil {
		t.Errorf("Expire: %+v", ex)
	}
	y := d2.States[0]
	y.Replay.OSeq = 0xffffffff
	if _, err := y.Encapsulate(nil, in, &EncapParams{}); !errors.Is(err, ErrSeqOverflow) {
		t.Errorf("overflow: %v", err)
	}
	y.ExtraFlags = ExtraOSeqMayWrap
	if _, err := y.Encapsulate(nil, in, &EncapParams{}); err != nil || y.Replay.OSeq != 0 {
		t.Errorf("oseq-may-wrap: %v, oseq %d", err, y.Replay.OSeq)
	}
}
