package l4

import (
	"github.com/iptwin/iptwin/ext/iphdr"
	"github.com/iptwin/iptwin/xtables"
)

// What the matches of this package see of a packet. iptables-nft runs
// every rule in nf_tables, which sets the transport offset and fragment
// offset once per packet (nft_set_pktinfo_ipv4/ipv6) and hands them to
// the xt matches through nft_compat (par->thoff, par->fragoff). They are
// taken from the packet bytes, as the kernel takes them, not from the
// decoder's view.

// pktinfo is struct nft_pktinfo's transport part.
type pktinfo struct {
	data    []byte // the IP packet, skb->data .. skb->len
	l4ok    bool   // NFT_PKTINFO_L4PROTO: the transport offset is known
	proto   int    // pkt->tprot
	thoff   int    // pkt->thoff
	fragoff int    // pkt->fragoff: 8-byte units for IPv4, bytes for IPv6
}

// nftPktinfo computes pktinfo. IPv4: the protocol field and the header
// length. IPv6: ipv6_find_hdr(..., -1, IP6_FH_F_AUTH), which stops at an
// AH header and, for a later fragment, names the fragment's next header
// and leaves the offset at 0; a chain it cannot walk leaves the packet
// without a transport protocol (nft_set_pktinfo_unspec).
func nftPktinfo(st *xtables.PacketState) pktinfo {
	var in pktinfo
	if st.Pkt == nil {
		return in
	}
	d := st.Pkt.Data
	in.data = d
	if st.Family == xtables.IPv6 {
		proto, off, fo, err := iphdr.IPv6FindHdr(d, -1, true)
		if err != iphdr.FindOK {
			return in
		}
		in.l4ok, in.proto, in.thoff, in.fragoff = true, proto, off, fo
		return in
	}
	if len(d) < 20 {
		return in
	}
	in.l4ok = true
	in.proto = int(d[9])
	in.thoff = int(d[0]&0xf) * 4
	in.fragoff = int(d[6]&0x1f)<<8 | int(d[7])
	return in
}

// header is skb_header_pointer(skb, thoff, n): the n bytes of the
// transport header, or nil when the packet is shorter.
func (in *pktinfo) header(n int) []byte {
	if in.thoff < 0 || in.thoff+n > len(in.data) {
		return nil
	}
	return in.data[in.thoff : in.thoff+n]
}

// at is skb_header_pointer(skb, off, n).
func (in *pktinfo) at(off, n int) []byte {
	if off < 0 || off+n > len(in.data) {
		return nil
	}
	return in.data[off : off+n]
}

// load is an nf_tables payload load from the transport header (offset
// off, n bytes). nft_payload_fast_eval reads it whenever the bytes are in
// the packet, fragment or not; when they are not, the slow path ends the
// rule (NFT_BREAK). Without a transport offset both break.
func (in *pktinfo) load(off, n int) ([]byte, bool) {
	if !in.l4ok {
		return nil, false
	}
	b := in.header(off + n)
	if b == nil {
		return nil, false
	}
	return b[off:], true
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// inRange16 is port_match of xt_tcpudp: (min <= v <= max) ^ invert.
func inRange16(lo, hi, v uint16, inv bool) bool { return (v >= lo && v <= hi) != inv }

// inRange32 is spi_match of the IPsec matches.
func inRange32(lo, hi, v uint32, inv bool) bool { return (v >= lo && v <= hi) != inv }
