package host

import (
	"net/netip"
	"sort"
)

// SortedRules are the rules of a family by priority (stable).
func (n *Net) SortedRules(v6 bool) []*Rule {
	var rs []*Rule
	for _, r := range n.Rules {
		if r.V6 == v6 {
			rs = append(rs, r)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Priority < rs[j].Priority })
	return rs
}

// nextRule returns the index of the rule of the family that follows rule
// i in priority order (ties in list order), or -1; i = -1 starts. It
// walks the rules without sorting them, which keeps look-ups free of
// allocations.
func (n *Net) nextRule(v6 bool, i int) int {
	best := -1
	for j, r := range n.Rules {
		if r.V6 != v6 {
			continue
		}
		if i >= 0 {
			cur := n.Rules[i]
			if r.Priority < cur.Priority || r.Priority == cur.Priority && j <= i {
				continue
			}
		}
		if best < 0 || r.Priority < n.Rules[best].Priority {
			best = j
		}
	}
	return best
}

// DefaultRulePriority is the priority the kernel gives a rule added
// without one: one less than the first rule after priority 0.
func (n *Net) DefaultRulePriority(v6 bool) uint32 {
	rs := n.SortedRules(v6)
	if len(rs) == 0 {
		return 0
	}
	r := rs[0]
	if r.Priority == 0 {
		if len(rs) < 2 {
			return 0
		}
		r = rs[1]
	}
	if r.Priority > 0 {
		return r.Priority - 1
	}
	return 0
}

func (n *Net) lookupTable(table int, dst netip.Addr, v6 bool) (*Route, error) {
	// Longest prefix, then lowest metric, then the oldest route: the
	// first match in the kernel's order, found without sorting (this
	// runs for every packet).
	var best *Route
	for _, r := range n.Routes {
		if r.V6 != v6 || r.Table != table || !r.Dst.Contains(dst) {
			continue
		}
		if r.Dev != 0 {
			if l := n.LinkByIndex(r.Dev); l == nil || !l.Up {
				continue
			}
		}
		if best == nil || r.Dst.Bits() > best.Dst.Bits() ||
			r.Dst.Bits() == best.Dst.Bits() && (r.Metric < best.Metric || r.Metric == best.Metric && r.Seq < best.Seq) {
			best = r
		}
	}
	if best == nil {
		return nil, ErrNetUnreach
	}
	return best, nil
}

// Lookup resolves a destination as the kernel's fib_lookup does: the
// rules in priority order (from, to, iif, oif, fwmark), in each rule's
// table the longest prefix match (lowest metric among equals). It returns
// the route and the preferred source address: the route's src, else for
// IPv4 the primary address of the output device whose subnet holds the
// next hop (inet_select_addr), else its first primary address, else any
// global address; for IPv6 (a simplified RFC 6724): among the output
// device's addresses the one of the destination's scope with the longest
// common prefix, else any global address of the host. iif/oif are device
// names ("" for none).
func (n *Net) Lookup(dst, src netip.Addr, iif, oif string, mark uint32) (*Route, netip.Addr, error) {
	v6 := dst.Is6() && !dst.Is4In6()
	if v6 && n.Sysctl["net.ipv6.conf.all.disable_ipv6"] == "1" {
		return nil, netip.Addr{}, ErrNetUnreach
	}
	for i := n.nextRule(v6, -1); i >= 0; i = n.nextRule(v6, i) {
		ru := n.Rules[i]
		if ru.From.IsValid() && (!src.IsValid() || !ru.From.Contains(src)) {
			continue
		}
		if ru.To.IsValid() && !ru.To.Contains(dst) {
			continue
		}
		if ru.Iif != "" && ru.Iif != iif || ru.Oif != "" && ru.Oif != oif {
			continue
		}
		if ru.HasMark && mark&ru.Mask != ru.Mark {
			continue
		}
		switch ru.Action {
		case RTBlackhole:
			return nil, netip.Addr{}, ErrInval
		case RTUnreachable:
			// fib_rule_action: FR_ACT_UNREACHABLE is -ENETUNREACH
			return nil, netip.Addr{}, ErrNetUnreach
		case RTProhibit:
			return nil, netip.Addr{}, ErrPerm
		}
		r, err := n.lookupTable(ru.Table, dst, v6)
		if err != nil {
			continue
		}
		if oif != "" && r.Dev != 0 {
			if l := n.LinkByIndex(r.Dev); l != nil && l.Name != oif {
				continue
			}
		}
		switch r.Type {
		case RTThrow:
			continue
		case RTBlackhole:
			return r, netip.Addr{}, ErrInval
		case RTUnreachable:
			return r, netip.Addr{}, ErrHostUnreach
		case RTProhibit:
			return r, netip.Addr{}, ErrPerm
		}
		return r, n.prefSrc(r, dst, src), nil
	}
	return nil, netip.Addr{}, ErrNetUnreach
}

func (n *Net) prefSrc(r *Route, dst, src netip.Addr) netip.Addr {
	if src.IsValid() {
		return src
	}
	if r.Src.IsValid() {
		return r.Src
	}
	if r.Type == RTLocal {
		return dst
	}
	hop := dst
	if r.Gw.IsValid() {
		hop = r.Gw
	}
	if !r.V6 {
		var first netip.Addr
		for _, a := range n.Addrs {
			if a.Dev != r.Dev || !a.Prefix.Addr().Is4() || n.Secondary(a) || a.Scope > r.Scope {
				continue
			}
			if a.Prefix.Contains(hop) {
				return a.Prefix.Addr()
			}
			if !first.IsValid() {
				first = a.Prefix.Addr()
			}
		}
		if first.IsValid() {
			return first
		}
		for _, a := range n.Addrs {
			if a.Prefix.Addr().Is4() && a.Scope != ScopeLink && a.Scope <= r.Scope {
				return a.Prefix.Addr()
			}
		}
		return netip.Addr{}
	}
	// IPv6: a reduced RFC 6724: prefer an address whose scope covers the
	// destination's, then one on the output device, then the longest
	// common prefix; any address (::1 for a route through lo) otherwise.
	want := ScopeUniverse
	if dst.IsLinkLocalUnicast() {
		want = ScopeLink
	}
	var best netip.Addr
	bestScore := -1
	for _, a := range n.Addrs {
		if !a.Prefix.Addr().Is6() {
			continue
		}
		score := commonPrefix(a.Prefix.Addr(), dst)
		if a.Dev == r.Dev {
			score += 256
		}
		if a.Scope <= want {
			score += 512
		}
		if score > bestScore {
			best, bestScore = a.Prefix.Addr(), score
		}
	}
	return best
}

func commonPrefix(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	for i := 0; i < 128; i++ {
		if x[i/8]>>(7-i%8)&1 != y[i/8]>>(7-i%8)&1 {
			return i
		}
	}
	return 128
}
