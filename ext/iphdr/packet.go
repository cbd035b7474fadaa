package iphdr

import "github.com/iptwin/iptwin/xtables"

// pktData is the packet as the matches read it: skb->data at the IP
// header to skb->len.
func pktData(st *xtables.PacketState) []byte {
	if st.Pkt == nil {
		return nil
	}
	return st.Pkt.Data
}

// dsfield is the IPv4 TOS byte or the IPv6 traffic class
// (ipv4_get_dsfield, ipv6_get_dsfield); ok is false for a packet too
// short to have it.
func dsfield(st *xtables.PacketState) (uint8, bool) {
	d := pktData(st)
	if st.Family == xtables.IPv6 {
		if len(d) < 2 {
			return 0, false
		}
		return d[0]<<4 | d[1]>>4, true
	}
	if len(d) < 2 {
		return 0, false
	}
	return d[1], true
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
