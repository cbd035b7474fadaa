package stack

import "github.com/iptwin/iptwin/xtables"

// natStep is nf_nat_inet_fn on the nat table's hooks: only a new
// connection walks the nat chain (once per manip type); untracked and
// invalid packets skip it.
func (h *Host) natStep(s *skb, hook int, p *xtables.Program) (verdict, bool) {
	if s.ct.conn == nil || s.ct.info != xtables.CtNew {
		return verdict{}, true
	}
	return h.walk(s, hook, p)
}
