package conntrack

// The source-NAT index (nf_nat_bysource of nf_nat_core.c): connections
// whose source was mapped, by original source address, port and protocol,
// so that find_appropriate_src can give a source the mapping it already
// has. Package nat fills it; the table keeps it in step with deletions
// (nf_conntrack_free calls nf_nat_cleanup_conntrack).

type srcKey struct {
	src   [16]byte
	sport uint16
	proto uint8
	v6    bool
	zone  uint16
}

func srcKeyOf(k *key) srcKey {
	return srcKey{src: k.src, sport: k.sport, proto: k.proto, v6: k.v6, zone: k.zone}
}

// AddSourceBinding records c (its source NAT is set up) in the index,
// ahead of the connections of the same source (hlist_add_head).
func (t *Table) AddSourceBinding(c *Conn) {
	if c.inBySrc {
		return
	}
	if t.bysrc == nil {
		t.bysrc = map[srcKey]*Conn{}
	}
	sk := srcKeyOf(&c.th[Original].k)
	c.natNext = t.bysrc[sk]
	t.bysrc[sk] = c
	c.inBySrc = true
}

func (t *Table) removeSourceBinding(c *Conn) {
	if !c.inBySrc {
		return
	}
	sk := srcKeyOf(&c.th[Original].k)
	if t.bysrc[sk] == c {
		if c.natNext == nil {
			delete(t.bysrc, sk)
		} else {
			t.bysrc[sk] = c.natNext
		}
	} else {
		for p := t.bysrc[sk]; p != nil; p = p.natNext {
			if p.natNext == c {
				p.natNext = c.natNext
				break
			}
		}
	}
	c.natNext = nil
	c.inBySrc = false
}

// EachSameSource calls f, newest first, for the indexed connections whose
// original tuple has tp's protocol, source address and source port, in
// zone (same_src of find_appropriate_src), until f returns true.
func (t *Table) EachSameSource(tp Tuple, zone uint16, f func(c *Conn) bool) {
	k := makeKey(tp, zone)
	for c := t.bysrc[srcKeyOf(&k)]; c != nil; c = c.natNext {
		if f(c) {
			return
		}
	}
}
