package stack

import (
	"strings"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/xtables"
)

// ctState is the conntrack part of a packet (skb->_nfct).
type ctState struct {
	conn      *conntrack.Conn
	info      xtables.CtInfo
	reply     bool
	untracked bool
	zone      uint16
	// borrowed: the connection is another packet's (attached to an
	// error about it), which decides its fate.
	borrowed bool
}

// Conntrack is the host's connection tracking table (created on first
// use, sized and timed by the host's sysctls).
func (h *Host) Conntrack() *conntrack.Table {
	if h.ct == nil {
		h.ct = conntrack.New(conntrack.ConfigFromSysctls(h.Net.Sysctl), h.rng)
	}
	return h.ct
}

// conntrackIn is nf_conntrack_in at -200 (PREROUTING, OUTPUT): the
// packet's connection, found or new (unconfirmed), its state, and the
// tracker's verdict. A packet looped back over lo keeps the connection
// it left with.
func (h *Host) conntrackIn(s *skb, hook int) (verdict, bool) {
	if s.ct.untracked {
		s.ct.info = xtables.CtUntracked
		return verdict{}, true
	}
	if s.ct.conn != nil || s.ct.info != xtables.CtInvalid {
		return verdict{}, true
	}
	c, info, v := h.Conntrack().InHook(&s.pkt, hook, s.ct.zone, h.Now)
	s.ct.conn, s.ct.info = c, info
	if c != nil {
		s.ct.reply = c.Reply()
	}
	if h.Obs != nil {
		h.Obs.Note("conntrack", h.ctText(s))
	}
	if v == conntrack.Drop {
		return verdict{code: xtables.VerdictCodeDrop, reason: "conntrack dropped it"}, false
	}
	return verdict{}, true
}

// confirm is nf_conntrack_confirm at INT_MAX (INPUT, POSTROUTING): a new
// connection enters the table when its first packet leaves the host's
// hooks.
func (h *Host) confirm(s *skb) (verdict, bool) {
	c := s.ct.conn
	// __nf_conntrack_confirm confirms with a packet of the original
	// direction only (not an error attached in reply).
	if c == nil || c.Confirmed() || s.ct.reply {
		return verdict{}, true
	}
	if !h.Conntrack().Confirm(c, h.Now) {
		return verdict{code: xtables.VerdictCodeDrop, reason: "conntrack confirm failed"}, false
	}
	return verdict{}, true
}

// release gives back an unconfirmed connection whose packet died,
// unless a packet still queued holds it (an error attached to it).
func (h *Host) release(s *skb) {
	c := s.ct.conn
	if c == nil || c.Confirmed() || s.ct.borrowed {
		return
	}
	for _, q := range h.queue {
		if q != nil && q.ct.conn == c {
			// The queued packet holds the entry now (the last
			// reference decides).
			q.ct.borrowed = false
			return
		}
	}
	h.Conntrack().Discard(c)
}

// ctPrepare shows the packet's connection to the matches.
func (h *Host) ctPrepare(s *skb, st *xtables.PacketState) {
	st.CtInfo = s.ct.info
	if s.ct.conn != nil {
		st.Ct = s.ct.conn
	}
}

// ctAbsorb takes what targets asked of conntrack: NOTRACK / CT --notrack
// in raw make the packet untracked, CT --zone sets its zone.
func (h *Host) ctAbsorb(s *skb, st *xtables.PacketState) {
	if st.Notrack {
		s.ct.untracked = true
		s.ct.info = xtables.CtUntracked
	}
	if st.CtZoneSet {
		s.ct.zone = st.CtZone
	}
}

// ctText describes the packet's conntrack state for the trace.
func (h *Host) ctText(s *skb) string {
	var b strings.Builder
	switch s.ct.info {
	case xtables.CtNew:
		b.WriteString("NEW")
	case xtables.CtEstablished:
		b.WriteString("ESTABLISHED")
	case xtables.CtRelated:
		b.WriteString("RELATED")
	case xtables.CtUntracked:
		b.WriteString("UNTRACKED")
	default:
		b.WriteString("INVALID")
		if r := h.Conntrack().InvalidReason(); r != "" {
			b.WriteString(" (" + r + ")")
		}
	}
	if s.ct.conn != nil {
		if s.ct.reply {
			b.WriteString(", reply direction")
		}
		b.WriteString(": ")
		b.Write(s.ct.conn.AppendEntry(nil, h.Now))
	}
	return b.String()
}

// ConntrackLines are the host's connections as conntrack -L prints them.
func (h *Host) ConntrackLines() []string {
	if h.ct == nil {
		return nil
	}
	text := string(h.ct.AppendList(nil, h.Now))
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
