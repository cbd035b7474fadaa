package meta

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// packetAddrs returns the packet's source and destination addresses from
// its IP header bytes.
func packetAddrs(st *xtables.PacketState) (src, dst netip.Addr, ok bool) {
	if st.Pkt == nil {
		return src, dst, false
	}
	d := st.Pkt.Data
	switch {
	case st.Family == xtables.IPv6 && len(d) >= 40:
		return netip.AddrFrom16([16]byte(d[8:24])), netip.AddrFrom16([16]byte(d[24:40])), true
	case st.Family != xtables.IPv6 && len(d) >= 20:
		return netip.AddrFrom4([4]byte(d[12:16])), netip.AddrFrom4([4]byte(d[16:20])), true
	}
	return src, dst, false
}

// skb->pkt_type values.
const packetLoopback = 5

// skbPktType is skb->pkt_type. A received frame's comes from its
// destination MAC (eth_type_trans: broadcast, multicast, else to this
// host; frames for other hosts are dropped by ip_rcv before any hook). A
// multicast or broadcast packet that arrives without a link-layer header
// on a device other than lo is the looped-back copy of one this host sent
// (dev_loopback_xmit: PACKET_LOOPBACK). Locally generated packets are
// PACKET_HOST.
func skbPktType(st *xtables.PacketState, dst netip.Addr) uint8 {
	if len(st.MAC) >= 6 {
		if st.MAC[0]&1 == 0 {
			return packetHost
		}
		for _, c := range st.MAC[:6] {
			if c != 0xff {
				return packetMulticast
			}
		}
		return packetBroadcast
	}
	if st.In != "" && st.In != "lo" && st.Hook <= xtables.HookInput && dst.IsValid() {
		if dst.IsMulticast() || dst.Is4() && st.Env != nil && st.Env.AddrType(dst, "") == xtables.RTNBroadcast {
			return packetLoopback
		}
	}
	return packetHost
}
