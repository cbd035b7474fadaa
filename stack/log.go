package stack

import (
	"github.com/iptwin/iptwin/nflog"
	"github.com/iptwin/iptwin/xtables"
)

// logPacket is the LOG target's nf_log_packet for the packet being
// walked: the line nf_log_syslog prints, handed to the Log sink.
func (h *Host) logPacket(s *skb, st *xtables.PacketState, req xtables.LogRequest) {
	m := &h.logMeta
	*m = nflog.Meta{Prefix: req.Prefix, Level: req.Level, Flags: req.Flags, In: st.In, Out: st.Out,
		Mark: st.Mark, UID: st.UID, GID: st.GID}
	// nf_log_dump_sk_uid_gid: a full socket with a file only.
	m.HasSock = s.sock == sockFull
	if s.hasMAC && st.In != "" {
		m.MAC = s.mac[:]
	}
	line := nflog.AppendLine(h.logBuf[:0], st.Pkt, m)
	h.logBuf = line
	if h.Obs != nil {
		h.Obs.Log(req.Level, line)
	}
	if h.Log != nil {
		h.Log(req.Level, line)
	}
}
