package stack

import (
	"github.com/iptwin/iptwin/xtables"
)

// logPacket is the LOG target's nf_log_packet for the packet being walked.
func (h *Host) logPacket(s *skb, st *xtables.PacketState, req xtables.LogRequest) {
	var buf [1024]byte
	line := append(buf[:0], req.Prefix...)
	if h.Obs != nil {
		h.Obs.Log(req.Level, line)
	}
	if h.Log != nil {
		h.Log(req.Level, line)
	}
}

// reject is the REJECT target: the reply goes out through OUTPUT.
func (h *Host) reject(s *skb, st *xtables.PacketState, t xtables.RejectType) {
	switch t {
	case xtables.RejectTCPReset:
		h.sendReset(s)
	default:
		h.sendICMPError(s, icmpPortUnreach)
	}
}
