package stack

import (
	"github.com/iptwin/iptwin/xtables"
)

// ctState is the conntrack part of a packet (skb->_nfct).
type ctState struct {
	info      xtables.CtInfo
	untracked bool
}

// conntrackIn is nf_conntrack_in at -200.
func (h *Host) conntrackIn(s *skb, hook int) (verdict, bool) {
	if s.ct.untracked {
		s.ct.info = xtables.CtUntracked
	}
	return verdict{}, true
}

// confirm is nf_conntrack_confirm at INT_MAX.
func (h *Host) confirm(s *skb) (verdict, bool) { return verdict{}, true }

// natStep is the nat table on a hook (nf_nat_inet_fn).
func (h *Host) natStep(s *skb, hook int, p *xtables.Program) (verdict, bool) {
	return h.walk(s, hook, p)
}

// ctPrepare shows the packet's connection to the matches.
func (h *Host) ctPrepare(s *skb, st *xtables.PacketState) {
	st.CtInfo = s.ct.info
}
