package xfrm

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/packet"
)

// The two routers of seed 000 after IKE: debian2 (10.0.0.200, LAN
// 192.168.200.0/24) and debian3 (10.0.0.201, LAN 192.168.201.0/24), each
// with its outbound and inbound SA and strongSwan's three policies, ESP
// with aes128 (cbc(aes)) and sha1 (hmac(sha1), 96 bits) as the seed's
// esp=aes128-sha1! asks.

var (
	d2addr = netip.MustParseAddr("10.0.0.200")
	d3addr = netip.MustParseAddr("10.0.0.201")
	lan2   = netip.MustParsePrefix("192.168.200.0/24")
	lan3   = netip.MustParsePrefix("192.168.201.0/24")
	key1   = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	auth1  = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	key2   = []byte{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00}
	auth2  = []byte{21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40}
)

const (
	spi23 = 0xc187f495 // debian2 -> debian3
	spi32 = 0xc4e9a217 // debian3 -> debian2
)

// saReq is strongSwan's SA as ip xfrm would add it.
func saReq(src, dst netip.Addr, spi uint32, ekey, akey []byte) *StateRequest {
	return &StateRequest{
		Src: src, Dst: dst, SPI: spi, Proto: ProtoESP, Family: Inet, Mode: ModeTunnel, Reqid: 1,
		ReplayWindow: 32, Flags: StateAFUnspec, Lft: DefaultLifetime(),
		AuthTrunc: &Algo{Name: "hmac(sha1)", Key: akey, KeyBits: len(akey) * 8, TruncLen: 96},
		Crypt:     &Algo{Name: "cbc(aes)", Key: ekey, KeyBits: len(ekey) * 8},
	}
}

func sel(src, dst netip.Prefix) Selector {
	return Selector{Family: Inet, Src: src.Addr(), SrcLen: uint8(src.Bits()), Dst: dst.Addr(), DstLen: uint8(dst.Bits())}
}

func tunnelTmpl(src, dst netip.Addr) Tmpl {
	return Tmpl{Family: Inet, Src: src, Dst: dst, Proto: ProtoESP, Reqid: 1, Mode: ModeTunnel,
		AAlgos: ^uint32(0), EAlgos: ^uint32(0), CAlgos: ^uint32(0)}
}

// seedRouter is one router's database: local and remote tunnel ends and
// LANs.
func seedRouter(t testing.TB, local, remote netip.Addr, llan, rlan netip.Prefix, outSPI, inSPI uint32,
	outKeys, inKeys [2][]byte) *DB {
	t.Helper()
	db := NewDB()
	must := func(err *Error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.AddState(saReq(remote, local, inSPI, inKeys[0], inKeys[1]), false, 1000))
	must(db.AddState(saReq(local, remote, outSPI, outKeys[0], outKeys[1]), false, 1000))
	prio := uint32(375423)
	must(db.AddPolicy(&PolicyRequest{Sel: sel(llan, rlan), Dir: DirOut, Priority: prio, Lft: DefaultLifetime(),
		Tmpls: []Tmpl{tunnelTmpl(local, remote)}}, false, 1000))
	must(db.AddPolicy(&PolicyRequest{Sel: sel(rlan, llan), Dir: DirFwd, Priority: prio, Lft: DefaultLifetime(),
		Tmpls: []Tmpl{tunnelTmpl(remote, local)}}, false, 1000))
	must(db.AddPolicy(&PolicyRequest{Sel: sel(rlan, llan), Dir: DirIn, Priority: prio, Lft: DefaultLifetime(),
		Tmpls: []Tmpl{tunnelTmpl(remote, local)}}, false, 1000))
	return db
}

func seedDBs(t testing.TB) (d2, d3 *DB) {
	k1, k2 := [2][]byte{key1, auth1}, [2][]byte{key2, auth2}
	d2 = seedRouter(t, d2addr, d3addr, lan2, lan3, spi23, spi32, k1, k2)
	d3 = seedRouter(t, d3addr, d2addr, lan3, lan2, spi32, spi23, k2, k1)
	return d2, d3
}

// echo is an ICMP echo request of 84 bytes (ping's default 56 data bytes)
// with DF, as seed 000's pings are.
func echo(src, dst netip.Addr, ttl uint8, tos uint8, seq uint16) []byte {
	b := make([]byte, 84)
	b[0], b[1] = 0x45, tos
	binary.BigEndian.PutUint16(b[2:], 84)
	binary.BigEndian.PutUint16(b[4:], 0x52f3)
	binary.BigEndian.PutUint16(b[6:], 0x4000)
	b[8], b[9] = ttl, 1
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], packet.Checksum(b[:20], 0))
	icmp := b[20:]
	icmp[0] = 8
	binary.BigEndian.PutUint16(icmp[4:], 979)
	binary.BigEndian.PutUint16(icmp[6:], seq)
	for i := 8; i < len(icmp); i++ {
		icmp[i] = byte(i)
	}
	binary.BigEndian.PutUint16(icmp[2:], packet.Checksum(icmp, 0))
	return b
}

func flowOf(t testing.TB, pkt []byte) Flow {
	t.Helper()
	var fl Flow
	if !fl.FromPacket(pkt, false) {
		t.Fatal("FromPacket failed")
	}
	return fl
}
