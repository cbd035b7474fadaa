package ipset

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Comp is one dimension of an element.
type Comp struct {
	Addr    netip.Addr // compIP, compNet
	Cidr    int        // compNet: prefix length; compIP: the family's bits
	Proto   uint8      // compPort
	Port    uint16     // compPort (icmp: type<<8|code)
	MAC     [6]byte    // compMAC
	NoMAC   bool       // bitmap:ip,mac element added without its MAC
	Iface   string     // compIface
	Physdev bool       // compIface
	Name    string     // compSet
	// shownCidr is the "/cidr" a tested address was given with.
	shownCidr int
}

// Entry is an element with its extensions.
type Entry struct {
	Comps []Comp
	// Expires is the Unix time the element times out, 0 when it is
	// permanent; HasTimeout tells whether the set has timeouts at all.
	Expires          int64
	Packets, Bytes   uint64
	Comment          string
	SkbMark, SkbMask uint32
	SkbPrio          uint32
	SkbQueue         uint16
	hasMark, hasPrio bool
	hasQueue         bool
	NoMatch          bool
	key              string
}

// Set is one ip set.
type Set struct {
	Name   string
	Type   *Type
	Family Family
	// create options
	HashSize, MaxElem, BucketSize uint32
	Initval                       uint32
	Netmask                       int
	Timeout                       uint32 // default element timeout
	HasTimeout                    bool
	Counters, Comment, SkbInfo    bool
	ForceAdd                      bool
	Size                          uint32 // list:set
	RangeFrom, RangeTo            netip.Addr
	PortFrom, PortTo              uint16
	Entries                       []*Entry
	// References counts the rules and list:set sets referring to the set
	// (filled in when the host is loaded).
	References int
}

// bits is the address length of the set's family.
func (s *Set) bits() int {
	if s.Family == FamilyInet6 {
		return 128
	}
	return 32
}

func (s *Set) find(key string) int {
	for i, e := range s.Entries {
		if e.key == key {
			return i
		}
	}
	return -1
}

// memSize estimates the kernel's "Size in memory": an empty set's size
// plus, for hashes, one bucket of two slots per element and, for bitmaps,
// the bitmap and the extension area of every slot.
func (s *Set) memSize() int {
	ext := s.extSize()
	switch s.Type.kind {
	case kindBitmap:
		n := s.bitmapElems()
		bm := (n + 63) / 64 * 8
		dsize := ext
		if s.Type.Name == "bitmap:ip,mac" {
			dsize = align(7, extAlign(s)) + ext
			if ext == 0 {
				dsize = 7
			}
		}
		size := s.Type.base4 + bm + n*dsize
		for _, e := range s.Entries {
			if e.Comment != "" {
				size += 16 + len(e.Comment) + 1
			}
		}
		return size
	case kindList:
		size := s.Type.base4
		for _, e := range s.Entries {
			size += 48 + ext
			if e.Comment != "" {
				size += 16 + len(e.Comment) + 1
			}
		}
		return size
	}
	base, el := s.Type.base4, s.Type.elem4
	if s.Family == FamilyInet6 {
		base, el = s.Type.base6, s.Type.elem6
	}
	dsize := align(el+ext, 4)
	if ext > 0 {
		dsize = align(align(el, 8)+ext, 8)
	}
	size := base
	for _, e := range s.Entries {
		size += 32 + 2*dsize
		if e.Comment != "" {
			size += 16 + len(e.Comment) + 1
		}
	}
	return size
}

func align(n, a int) int { return (n + a - 1) / a * a }

func extAlign(s *Set) int {
	if s.HasTimeout || s.Counters || s.Comment {
		return 8
	}
	return 4
}

// extSize is the size of the extension area of an element (timeout,
// counters, comment pointer, skbinfo).
func (s *Set) extSize() int {
	n := 0
	if s.HasTimeout {
		n += 8
	}
	if s.Counters {
		n += 16
	}
	if s.Comment {
		n += 8
	}
	if s.SkbInfo {
		n = align(n, 4) + 16
	}
	return n
}

func (s *Set) bitmapElems() int {
	switch s.Type.Name {
	case "bitmap:port":
		return int(s.PortTo) - int(s.PortFrom) + 1
	}
	from, to := v4(s.RangeFrom), v4(s.RangeTo)
	nm := s.Netmask
	if nm == 0 {
		nm = 32
	}
	return int((to-from)>>(32-nm)) + 1
}

func v4(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromV4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// header is the "Header:" line of list and the options of a save
// "create" line.
func (s *Set) header() string {
	var b strings.Builder
	add := func(parts ...string) {
		for _, p := range parts {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(p)
		}
	}
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	exts := func() {
		if s.HasTimeout {
			add("timeout", u(s.Timeout))
		}
		if s.Counters {
			add("counters")
		}
		if s.Comment {
			add("comment")
		}
		if s.SkbInfo {
			add("skbinfo")
		}
	}
	netmask := func() {
		if s.Type.netmask && s.Netmask != 0 && s.Netmask != s.bits() {
			add("netmask", strconv.Itoa(s.Netmask))
		}
	}
	switch s.Type.kind {
	case kindHash:
		if s.Type.dual {
			add("family", s.Family.String())
		}
		add("hashsize", u(s.HashSize), "maxelem", u(s.MaxElem))
		if !s.Type.netmaskLast {
			netmask()
		}
		exts()
		add("bucketsize", u(s.BucketSize), "initval", "0x"+strconv.FormatUint(uint64(s.Initval), 16))
		if s.Type.netmaskLast {
			netmask()
		}
	case kindBitmap:
		if s.Type.Name == "bitmap:port" {
			add("range", u(uint32(s.PortFrom))+"-"+u(uint32(s.PortTo)))
		} else {
			add("range", s.RangeFrom.String()+"-"+s.RangeTo.String())
		}
		netmask()
		exts()
	case kindList:
		add("size", u(s.Size))
		exts()
	}
	return b.String()
}

// sortedEntries returns the entries in listing order: bitmaps by value,
// the others in the order they were added (a hash's order is the
// kernel's bucket order, which depends on its random initval).
func (s *Set) sortedEntries(sorted bool) []*Entry {
	out := append([]*Entry(nil), s.Entries...)
	if s.Type.kind == kindBitmap || (sorted && s.Type.kind == kindHash) {
		sort.SliceStable(out, func(i, j int) bool { return lessEntry(out[i], out[j]) })
	}
	return out
}

func lessEntry(a, b *Entry) bool {
	for i := range a.Comps {
		x, y := a.Comps[i], b.Comps[i]
		if c := x.Addr.Compare(y.Addr); c != 0 {
			return c < 0
		}
		if x.Cidr != y.Cidr {
			return x.Cidr < y.Cidr
		}
		if x.Proto != y.Proto {
			return x.Proto < y.Proto
		}
		if x.Port != y.Port {
			return x.Port < y.Port
		}
		if c := strings.Compare(string(x.MAC[:]), string(y.MAC[:])); c != 0 {
			return c < 0
		}
		if x.Iface != y.Iface {
			return x.Iface < y.Iface
		}
	}
	return false
}
