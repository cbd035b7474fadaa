package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// deliver is ip_local_deliver_finish: the packet reaches its protocol.
// Sockets consume it; what has no socket is answered as the kernel's
// protocols answer it.
func (h *Host) deliver(s *skb) Result {
	p := &s.pkt
	if s.v6() {
		if res, ok := h.exthdrs6(s); !ok {
			return res
		}
	}
	if res, ok := h.xfrmInput(s); ok {
		return res
	}
	if res, ok := h.xfrmPolicyIn(s); !ok {
		return res
	}
	if h.Deliver != nil && h.Deliver(s.in, p) {
		return Result{Fate: FateDelivered}
	}
	switch {
	case p.Layers&packet.LayerTCP != 0:
		if !h.unicastDst(s) {
			return Result{Fate: FateDelivered, Reason: "TCP to a broadcast or multicast address: dropped"}
		}
		return h.tcpInput(s)
	case p.Layers&packet.LayerUDP != 0:
		if sk := h.socket(packet.ProtoUDP, p.Dst(), p.UDP.DstPort); sk != nil {
			return Result{Fate: FateDelivered}
		}
		// __udp4_lib_rcv: port unreachable, not for broadcast/multicast.
		if h.unicastDst(s) {
			h.sendICMPError(s, icmpPortUnreach)
		}
		return Result{Fate: FateDelivered, Reason: "no socket: port unreachable"}
	case p.Layers&(packet.LayerICMPv4|packet.LayerICMPv6) != 0:
		if h.isEchoRequest(s) {
			if s.v6() || h.sysctl("net.ipv4.icmp_echo_ignore_all") != "1" {
				h.sendEchoReply(s)
			}
		}
		return Result{Fate: FateDelivered}
	}
	// ESP without IPsec configured: the esp4/esp6 protocol handlers are
	// registered only once the xfrm modules are loaded (an SA exists), so
	// ESP is an unknown protocol like any other (measured).
	if p.IsFragment() {
		return Result{Fate: FateDelivered}
	}
	// No protocol handler: ICMP protocol unreachable / ICMPv6 parameter
	// problem (unrecognized next header).
	if h.unicastDst(s) {
		h.sendICMPError(s, icmpProtoUnreach)
	}
	return Result{Fate: FateDelivered, Reason: "no protocol handler"}
}

// socket finds the socket bound to proto/addr/port.
func (h *Host) socket(proto uint8, addr netip.Addr, port uint16) *Socket {
	for i := range h.Sockets {
		sk := &h.Sockets[i]
		if sk.Proto != proto || sk.Port != port {
			continue
		}
		if !sk.Addr.IsValid() || sk.Addr.IsUnspecified() && sk.Addr.Is4() == addr.Is4() || sk.Addr == addr {
			return sk
		}
	}
	return nil
}

// unicastDst: the packet was sent to a unicast address of ours (the
// kernel does not answer broadcasts and multicasts with errors).
func (h *Host) unicastDst(s *skb) bool {
	d := s.pkt.Dst()
	if d.IsMulticast() {
		return false
	}
	if d.Is4() && h.addrType(d, "") == 3 { // RTN_BROADCAST
		return false
	}
	return true
}

func (h *Host) isEchoRequest(s *skb) bool {
	if s.v6() {
		return s.pkt.ICMP.Type == 128
	}
	return s.pkt.ICMP.Type == 8
}
