package host

import (
	"bytes"
	"net/netip"
	"sort"
)

// routeLess orders routes as the kernel dumps them: tables in the order
// of the IPv4 table hash (id mod 256), IPv4 by trie key then longer prefix
// first, IPv6 in the post-order walk of the fib6 radix tree (more specific
// routes before the prefix containing them); then metric and insertion.
func routeLess(a, b *Route) bool {
	if a.V6 != b.V6 {
		return !a.V6
	}
	if a.Table != b.Table {
		ha, hb := a.Table&255, b.Table&255
		if ha != hb {
			return ha < hb
		}
		return a.Table < b.Table
	}
	if a.Dst != b.Dst {
		if !a.V6 {
			if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
				return c < 0
			}
			return a.Dst.Bits() > b.Dst.Bits()
		}
		return v6Less(a.Dst, b.Dst)
	}
	if a.Metric != b.Metric {
		return a.Metric < b.Metric
	}
	return a.Seq < b.Seq
}

func v6Less(a, b netip.Prefix) bool {
	x, y := a.Addr().As16(), b.Addr().As16()
	common := min(a.Bits(), b.Bits())
	for i := 0; i < common; i++ {
		bx, by := x[i/8]>>(7-i%8)&1, y[i/8]>>(7-i%8)&1
		if bx != by {
			return bx < by
		}
	}
	if a.Bits() != b.Bits() {
		return a.Bits() > b.Bits()
	}
	return bytes.Compare(x[:], y[:]) < 0
}

// SortedRoutes are the routes in dump order.
func (n *Net) SortedRoutes() []*Route {
	rs := append([]*Route(nil), n.Routes...)
	sort.SliceStable(rs, func(i, j int) bool { return routeLess(rs[i], rs[j]) })
	return rs
}

// sameKey: the kernel's identity of a route for add/replace (prefix, table,
// priority; IPv6 also the device/gateway for multipath-less routes).
func sameKey(a, b *Route) bool {
	return a.V6 == b.V6 && a.Table == b.Table && a.Dst == b.Dst && a.Metric == b.Metric
}

// AddRoute adds (replace: replaces) a route.
func (n *Net) AddRoute(r *Route, replace bool) error {
	if err := n.checkRoute(r); err != nil {
		return err
	}
	for i, o := range n.Routes {
		if sameKey(o, r) && (!o.V6 || o.Type != RTLocal && r.Type != RTLocal) {
			if o.V6 && !replace && (o.Dev != r.Dev || o.Gw != r.Gw) && r.Gw.IsValid() && o.Gw.IsValid() {
				continue
			}
			if !replace {
				return ErrExist
			}
			r.Seq = o.Seq
			n.Routes[i] = r
			return nil
		}
	}
	n.addRoute(r)
	return nil
}

// checkRoute validates the gateway as fib_check_nh does.
func (n *Net) checkRoute(r *Route) error {
	if !r.Gw.IsValid() {
		return nil
	}
	if r.V6 {
		if r.Dev == 0 {
			rt, err := n.lookupTable(r.Table, r.Gw, true)
			if err != nil || rt.Gw.IsValid() || rt.Type != RTUnicast {
				return ErrHostUnreach
			}
			r.Dev = rt.Dev
		}
		return nil
	}
	// the gateway must be reachable by a link-scope route
	var best *Route
	for _, t := range []int{TableLocal, TableMain} {
		for _, o := range n.Routes {
			if o.V6 || o.Table != t || !o.Dst.Contains(r.Gw) || o.Gw.IsValid() || (o.Type != RTUnicast && o.Type != RTLocal) {
				continue
			}
			if r.Dev != 0 && o.Dev != r.Dev {
				continue
			}
			if best == nil || o.Dst.Bits() > best.Dst.Bits() {
				best = o
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil || best.Type == RTLocal {
		return &ExtError{"Error: Nexthop has invalid gateway."}
	}
	if r.Dev == 0 {
		r.Dev = best.Dev
	}
	return nil
}

// DelRoute deletes the first route matching the given fields (zero fields
// match anything, as the kernel's fib_table_delete does).
func (n *Net) DelRoute(r *Route, typeGiven bool) error {
	for i, o := range n.SortedRoutes() {
		_ = i
		if o.V6 != r.V6 || o.Table != r.Table || o.Dst != r.Dst {
			continue
		}
		if (r.Metric != 0 || r.V6) && o.Metric != r.Metric && !(r.V6 && r.Metric == 0) {
			continue
		}
		if typeGiven && o.Type != r.Type || r.Dev != 0 && o.Dev != r.Dev || r.Gw.IsValid() && o.Gw != r.Gw ||
			r.Proto != 0 && o.Proto != r.Proto || r.Src.IsValid() && o.Src != r.Src {
			continue
		}
		n.filterRoutes(func(x *Route) bool { return x != o })
		return nil
	}
	return ErrNoProcess
}
