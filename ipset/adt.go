package ipset

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// maxExpand bounds the elements one range may add, as the kernel's
// IPSET_MAX_RANGE does.
const maxExpand = 1 << 20

// cmdName is the command word check_allowed quotes.
var cmdName = map[string]string{"add": "add", "del": "del", "test": "test"}

// parseElems parses an element of the set's type and expands its ranges
// into the elements the kernel would add, delete or test.
func (s *Set) parseElems(cmd, arg string, names xtables.Resolver, sets func(string) *Set) ([][]Comp, *Error) {
	t := s.Type
	parts, err := splitElem(t, arg, t.optionalLast)
	if err != nil {
		return nil, err
	}
	spans := make([]span, len(parts))
	for i, p := range parts {
		var sp span
		switch t.comps[i] {
		case compIP, compNet:
			sp, err = parseIPSpan(p, s.Family, names)
		case compPort:
			sp, err = parsePortSpan(p, s.Family, names, t.kind != kindBitmap)
		case compMAC:
			sp = span{cidr: -1}
			sp.c.MAC, err = parseMAC(p)
		case compIface:
			sp = span{cidr: -1}
			name := p
			if strings.HasPrefix(name, "physdev:") {
				name, sp.c.Physdev = name[len("physdev:"):], true
			}
			if len(name) > 15 {
				return nil, syntaxErr("interface name '%s' is longer than %d characters", name, 15)
			}
			sp.c.Iface = name
		case compSet:
			sp = span{cidr: -1}
			if len(p) > 31 {
				return nil, syntaxErr("setname '%s' is longer than %d characters", p, 31)
			}
			sp.c.Name = p
		}
		if err != nil {
			return nil, err
		}
		spans[i] = sp
	}
	if err := s.checkAllowed(cmd, spans); err != nil {
		return nil, err
	}
	// Expand, dimension by dimension.
	out := [][]Comp{nil}
	for i, sp := range spans {
		vals, err := s.expand(t.comps[i], sp, cmd)
		if err != nil {
			return nil, err
		}
		if len(out)*len(vals) > maxExpand {
			return nil, errHashFull
		}
		var next [][]Comp
		for _, o := range out {
			for _, v := range vals {
				next = append(next, append(append([]Comp(nil), o...), v))
			}
		}
		out = next
	}
	if len(spans) < len(t.comps) { // bitmap:ip,mac without its MAC
		for i := range out {
			out[i] = append(out[i], Comp{NoMAC: true})
		}
	}
	return out, nil
}

// checkAllowed refuses ranges a command or type does not take, in
// check_allowed's words.
func (s *Set) checkAllowed(cmd string, spans []span) *Error {
	for i, sp := range spans {
		k := s.Type.comps[i]
		ipRanges := cmd != "test"
		switch {
		case k == compIP && sp.cidr >= 0 && !ipRanges && s.Type.kind == kindBitmap:
			return errf("IP/CIDR range is not allowed in command %s with set type %s and family %s", cmd, s.Type.Name, s.Family.String())
		case (k == compIP || k == compNet) && sp.isRange && (!ipRanges || k == compNet && i > 0 && s.Type.Name != "hash:net,net" && s.Type.Name != "hash:net,port,net"):
			return errf("FROM-TO IP range is not allowed in command %s with set type %s and family %s", cmd, s.Type.Name, s.Family.String())
		case k == compPort && sp.portRange && cmd == "test":
			return errf("FROM-TO port range is not allowed in command %s with set type %s and family %s", cmd, s.Type.Name, s.Family.String())
		}
	}
	return nil
}

func (s *Set) expand(k compKind, sp span, cmd string) ([]Comp, *Error) {
	bits := s.bits()
	switch k {
	case compIP:
		if s.Family == FamilyInet6 {
			if sp.isRange {
				return nil, errf("Range is not supported in the \"net\" component of the element")
			}
			if sp.cidr >= 0 && sp.cidr != bits && !(s.Netmask != 0 && sp.cidr == s.Netmask) {
				return nil, errCidr
			}
			return []Comp{{Addr: s.maskIP(sp.from), Cidr: bits}}, nil
		}
		from, to := v4(sp.from), v4(sp.to)
		if cmd == "test" && sp.cidr >= 0 {
			// A hash tests the network's first address and shows the
			// element as given.
			a := fromV4(from & maskOf(sp.cidr))
			return []Comp{{Addr: s.maskIP(a), Cidr: bits, shownCidr: sp.cidr}}, nil
		}
		if sp.cidr >= 0 {
			if sp.cidr == 0 && s.Type.kind == kindHash {
				return nil, errf("Invalid range, covers the whole address space")
			}
			m := maskOf(sp.cidr)
			from, to = from&m, from|^m
		}
		if from > to {
			from, to = to, from
		}
		nm := s.Netmask
		if nm == 0 {
			nm = 32
		}
		step := uint64(1) << (32 - nm)
		if (uint64(to)-uint64(from))/step+1 > maxExpand {
			return nil, errHashFull
		}
		var out []Comp
		for v := uint64(from) & uint64(maskOf(nm)); v <= uint64(to); v += step {
			out = append(out, Comp{Addr: fromV4(uint32(v)), Cidr: bits})
		}
		return out, nil
	case compNet:
		if sp.isRange {
			if s.Family == FamilyInet6 {
				return nil, errf("Range is not supported in the \"net\" component of the element")
			}
			from, to := v4(sp.from), v4(sp.to)
			if from > to {
				from, to = to, from
			}
			var out []Comp
			for _, c := range rangeToCidrs(from, to) {
				out = append(out, Comp{Addr: fromV4(c[0]), Cidr: int(c[1])})
			}
			return out, nil
		}
		c := sp.cidr
		if c < 0 {
			c = bits
		}
		if c == 0 && cmd != "test" && s.Type.Name != "hash:net,iface" {
			return nil, errCidr
		}
		return []Comp{{Addr: maskAddr(sp.from, c), Cidr: c}}, nil
	case compPort:
		var out []Comp
		for p := int(sp.pfrom); p <= int(sp.pto); p++ {
			out = append(out, Comp{Proto: sp.proto, Port: uint16(p)})
		}
		return out, nil
	}
	return []Comp{sp.c}, nil
}

func (s *Set) maskIP(a netip.Addr) netip.Addr {
	if s.Netmask != 0 && s.Netmask != s.bits() {
		return maskAddr(a, s.Netmask)
	}
	return a
}

// inRange checks a bitmap element against the set's range.
func (s *Set) inRange(c []Comp) bool {
	switch s.Type.Name {
	case "bitmap:port":
		return c[0].Port >= s.PortFrom && c[0].Port <= s.PortTo
	case "bitmap:ip", "bitmap:ip,mac":
		if !c[0].Addr.Is4() {
			return false
		}
		v := v4(c[0].Addr)
		return v >= v4(s.RangeFrom) && v <= v4(s.RangeTo)
	}
	return true
}

// lookup finds the entry an element (as tested) matches: an exact one,
// or for the net dimensions one whose network contains it.
func (s *Set) lookup(c []Comp) *Entry {
	var best *Entry
	for _, e := range s.Entries {
		if s.matches(e, c) {
			if best == nil || moreSpecific(e, best) {
				best = e
			}
		}
	}
	return best
}

func moreSpecific(a, b *Entry) bool {
	for i := range a.Comps {
		if a.Comps[i].Cidr != b.Comps[i].Cidr {
			return a.Comps[i].Cidr > b.Comps[i].Cidr
		}
	}
	return false
}

func (s *Set) matches(e *Entry, c []Comp) bool {
	for i, k := range s.Type.comps {
		x, y := e.Comps[i], c[i]
		switch k {
		case compIP:
			if x.Addr != y.Addr {
				return false
			}
		case compNet:
			if y.Cidr < x.Cidr || maskAddr(y.Addr, x.Cidr) != x.Addr {
				return false
			}
		case compPort:
			if x.Proto != y.Proto || x.Port != y.Port {
				return false
			}
		case compMAC:
			if !y.NoMAC && (x.NoMAC || x.MAC != y.MAC) {
				return false
			}
		case compIface:
			if x.Iface != y.Iface || x.Physdev != y.Physdev {
				return false
			}
		case compSet:
			if x.Name != y.Name {
				return false
			}
		}
	}
	return true
}

// elemExt is the part of an entry after the element in list and save.
func (s *Set) elemExt(e *Entry, now int64) string {
	var b strings.Builder
	if s.HasTimeout {
		b.WriteString(" timeout ")
		b.WriteString(strconv.FormatInt(remaining(e.Expires, now), 10))
	}
	if e.NoMatch {
		b.WriteString(" nomatch")
	}
	if s.Counters {
		b.WriteString(" packets " + strconv.FormatUint(e.Packets, 10) + " bytes " + strconv.FormatUint(e.Bytes, 10))
	}
	if s.Comment && e.Comment != "" {
		b.WriteString(" comment \"" + e.Comment + "\"")
	}
	if s.SkbInfo {
		if e.hasMark && (e.SkbMark != 0 || e.SkbMask != 0) {
			b.WriteString(" skbmark 0x" + strconv.FormatUint(uint64(e.SkbMark), 16))
			if e.SkbMask != 0xffffffff {
				b.WriteString("/0x" + strconv.FormatUint(uint64(e.SkbMask), 16))
			}
		}
		if e.hasPrio && e.SkbPrio != 0 {
			b.WriteString(" skbprio " + strconv.FormatUint(uint64(e.SkbPrio>>16), 16) + ":" + strconv.FormatUint(uint64(e.SkbPrio&0xffff), 16))
		}
		if e.hasQueue && e.SkbQueue != 0 {
			b.WriteString(" skbqueue " + strconv.Itoa(int(e.SkbQueue)))
		}
	}
	return b.String()
}

// remaining is the seconds left before expiry, as the kernel reports
// them (0 for a permanent element).
func remaining(exp, now int64) int64 {
	if exp == 0 {
		return 0
	}
	if exp <= now {
		return 0
	}
	return exp - now
}
