package xfrm

import "net/netip"

// match is xfrm_policy_match: family, interface id, mark and selector.
func (p *Policy) match(fl *Flow, ifid uint32) bool {
	return p.family() == fl.Family && p.IfID == ifid && p.Mark.matches(fl.Mark) && p.Sel.Match(fl)
}

// lookupType is xfrm_policy_lookup_bytype: of the policies of a type and
// direction that match the flow, the one with the lowest priority value,
// the oldest of equals (the exact hash chain and the inexact candidate
// lists together give that order).
func (db *DB) lookupType(typ uint8, fl *Flow, dir Dir, ifid uint32) *Policy {
	for _, p := range db.byDir[typ][dir] {
		if p.match(fl, ifid) {
			return p
		}
	}
	return nil
}

// Lookup is xfrm_policy_lookup: the sub policies first, then the main
// ones (CONFIG_XFRM_SUB_POLICY).
func (db *DB) Lookup(fl *Flow, dir Dir) *Policy {
	if dir >= numDirs {
		return nil
	}
	if p := db.lookupType(TypeSub, fl, dir, fl.IfID); p != nil {
		return p
	}
	return db.lookupType(TypeMain, fl, dir, fl.IfID)
}

// addrCheck is xfrm_state_addr_check: the destination is the state's, the
// source is the state's or either is unset.
func addrCheck(x *State, daddr, saddr netip.Addr) bool {
	return addrBytesEqual(daddr, x.Dst) &&
		(addrBytesEqual(saddr, x.Src) || isAny(saddr) || isAny(x.Src))
}

// FindState is xfrm_state_find for a template of a policy: of the states
// with the template's family, reqid, mode, protocol (and SPI when the
// template has one), the policy's mark and the interface id, at these
// addresses, whose selector takes the flow: one not dying before a dying
// one, then the newest. It returns nil when there is none (the kernel then
// asks the key manager, ACQUIRE).
func (db *DB) FindState(daddr, saddr netip.Addr, fl *Flow, t *Tmpl, pol *Policy, ifid uint32) *State {
	mark := pol.Mark.V & pol.Mark.M
	var best *State
	for _, x := range db.States {
		if x.Family != t.Family || x.Reqid != t.Reqid || !x.Mark.matches(mark) || x.IfID != ifid ||
			x.Flags&StateWildRecv != 0 || !addrCheck(x, daddr, saddr) || t.Mode != x.Mode ||
			t.Proto != x.Proto || t.SPI != 0 && t.SPI != x.SPI {
			continue
		}
		if x.Expired || x.Larval {
			continue
		}
		// xfrm_state_look_at
		if x.Sel.Family != Unspec && (x.Sel.Family != fl.Family || !x.Sel.Match(fl)) {
			continue
		}
		if best == nil || best.Dying && !x.Dying || best.Dying == x.Dying && best.Cur.AddTime < x.Cur.AddTime {
			best = x
		}
	}
	return best
}

// LookupSPI is xfrm_state_lookup (the input path's
// xfrm_input_state_lookup): the state for a destination, SPI and
// protocol whose mark matches.
func (db *DB) LookupSPI(dst netip.Addr, spi uint32, proto uint8, mark uint32) *State {
	f := familyOf(dst)
	for _, x := range db.States {
		if x.Family == f && x.SPI == spi && spi != 0 && x.Proto == proto && addrBytesEqual(x.Dst, dst) && x.Mark.matches(mark) {
			return x
		}
	}
	return nil
}
