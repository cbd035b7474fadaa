package stack

import (
	"github.com/iptwin/iptwin/nat"
	"github.com/iptwin/iptwin/xtables"
)

// natStep is nf_nat_inet_fn on the nat table's hooks (DNAT at -100 on
// PREROUTING and OUTPUT, SNAT at 100 on INPUT and POSTROUTING). A new
// connection without a mapping of this hook's kind walks the nat chain
// once and gets the mapping its target asks for, or a null binding;
// then every packet of the connection, both ways, is rewritten
// (nf_nat_packet), ICMP errors quoting it included. Untracked and
// invalid packets pass untouched.
func (h *Host) natStep(s *skb, hook int, p *xtables.Program) (verdict, bool) {
	c := s.ct.conn
	if c == nil {
		return verdict{}, true
	}
	manip := nat.ManipOf(hook)
	if s.ct.info == xtables.CtNew && !s.ct.reply && !nat.Initialized(c, manip) {
		st := h.prepare(s)
		var tr xtables.Tracer
		if h.Obs != nil {
			tr = h.Obs
		}
		code, d := p.Run(st, hook, tr)
		req := st.NAT
		h.absorb(s, st)
		if code != xtables.VerdictCodeAccept {
			if code == xtables.VerdictCodeQueue {
				code = xtables.VerdictCodeDrop
			}
			return verdict{code: code, table: p.Table.Name, decision: d}, false
		}
		var err error
		if req.Kind != xtables.NATNone {
			r, ok := h.natRange(s, hook, req)
			if !ok {
				return verdict{code: xtables.VerdictCodeDrop, table: p.Table.Name, decision: d, reason: "no address to NAT to"}, false
			}
			err = nat.Setup(h.Conntrack(), c, manip, r, h.random)
		} else {
			err = nat.NullBinding(h.Conntrack(), c, hook, h.random)
		}
		if err != nil && err != nat.ErrInitialized {
			return verdict{code: xtables.VerdictCodeDrop, table: p.Table.Name, decision: d, reason: err.Error()}, false
		}
		if h.Obs != nil && req.Kind != xtables.NATNone {
			h.Obs.Note("nat", "mapping: "+string(c.AppendEntry(nil, h.Now)))
		}
	}
	if err := nat.Packet(&s.pkt, c, hook, s.ct.reply); err != nil {
		return verdict{code: xtables.VerdictCodeDrop, reason: err.Error()}, false
	}
	return verdict{}, true
}
