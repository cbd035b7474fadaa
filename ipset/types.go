// Package ipset is the twin host's ipset model: the set types of the
// kernel's ip_set modules with their create options and element
// extensions, and the ipset(8) command line (create, add, del, test,
// list, save, restore, flush, destroy, rename, swap) in the wording of
// ipset v7.17. A host's sets live in the state directory file "ipsets"
// in `ipset save` form; rules refer to them through state.RegisterObjects.
package ipset

// Family of a set (NFPROTO_*).
type Family uint8

const (
	FamilyUnspec Family = 0
	FamilyInet   Family = 2
	FamilyInet6  Family = 10
)

func (f Family) String() string {
	switch f {
	case FamilyInet:
		return "inet"
	case FamilyInet6:
		return "inet6"
	}
	return "unspec"
}

// compKind is the kind of one dimension of an element.
type compKind uint8

const (
	compIP    compKind = iota // an address; ranges and CIDR blocks add every address
	compNet                   // a network address/cidr; ranges split into CIDR blocks
	compPort                  // [proto:]port, port ranges
	compMAC                   // an Ethernet address
	compIface                 // [physdev:]interface
	compSet                   // a set name (list:set)
)

type setKind uint8

const (
	kindHash setKind = iota
	kindBitmap
	kindList
)

// Type describes a set type as the running kernel offers it.
type Type struct {
	Name     string
	Revision int
	kind     setKind
	comps    []compKind
	// dual: the type has the family option (inet/inet6); otherwise it
	// is family-neutral (or IPv4 only for the bitmap:ip types).
	dual bool
	// netmask: the create option netmask exists; netmaskLast prints it
	// after initval (hash:ip,port rev 7 does).
	netmask, netmaskLast bool
	// elem4/elem6 are sizeof the kernel's element structs, for the
	// "Size in memory" estimate; base4/base6 the size of an empty set.
	elem4, elem6 int
	base4, base6 int
	// optionalLast: the last dimension may be left out (bitmap:ip,mac).
	optionalLast bool
}

var types = []*Type{
	{Name: "hash:ip", Revision: 6, comps: []compKind{compIP}, dual: true, netmask: true, elem4: 4, elem6: 16, base4: 216, base6: 224},
	{Name: "hash:net", Revision: 7, comps: []compKind{compNet}, dual: true, elem4: 8, elem6: 20, base4: 456, base6: 1608},
	{Name: "hash:ip,port", Revision: 7, comps: []compKind{compIP, compPort}, dual: true, netmask: true, netmaskLast: true, elem4: 8, elem6: 20, base4: 216, base6: 248},
	{Name: "hash:net,port", Revision: 8, comps: []compKind{compNet, compPort}, dual: true, elem4: 8, elem6: 20, base4: 456, base6: 1608},
	{Name: "hash:net,iface", Revision: 8, comps: []compKind{compNet, compIface}, dual: true, elem4: 24, elem6: 36, base4: 488, base6: 1640},
	{Name: "hash:ip,port,ip", Revision: 6, comps: []compKind{compIP, compPort, compIP}, dual: true, elem4: 12, elem6: 36, base4: 208, base6: 208},
	{Name: "hash:ip,port,net", Revision: 8, comps: []compKind{compIP, compPort, compNet}, dual: true, elem4: 12, elem6: 36, base4: 464, base6: 1616},
	{Name: "hash:mac", Revision: 1, comps: []compKind{compMAC}, elem4: 8, base4: 208},
	{Name: "hash:ip,mac", Revision: 1, comps: []compKind{compIP, compMAC}, dual: true, elem4: 12, elem6: 24, base4: 208, base6: 208},
	{Name: "hash:net,net", Revision: 4, comps: []compKind{compNet, compNet}, dual: true, netmask: true, netmaskLast: true, elem4: 12, elem6: 36, base4: 736, base6: 2880},
	{Name: "hash:net,port,net", Revision: 3, comps: []compKind{compNet, compPort, compNet}, dual: true, elem4: 16, elem6: 40, base4: 736, base6: 2880},
	{Name: "bitmap:ip", Revision: 3, kind: kindBitmap, comps: []compKind{compIP}, netmask: true, base4: 88},
	{Name: "bitmap:ip,mac", Revision: 3, kind: kindBitmap, comps: []compKind{compIP, compMAC}, optionalLast: true, base4: 96},
	{Name: "bitmap:port", Revision: 3, kind: kindBitmap, comps: []compKind{compPort}, base4: 72},
	{Name: "list:set", Revision: 3, kind: kindList, comps: []compKind{compSet}, base4: 80},
}

// findType looks a type up by name; the real tool also accepts the
// old aliases (iphash, nethash …) and a prefix-free exact name only.
func findType(name string) *Type {
	for _, t := range types {
		if t.Name == name {
			return t
		}
	}
	if n, ok := typeAliases[name]; ok {
		return findType(n)
	}
	return nil
}

var typeAliases = map[string]string{
	"iphash": "hash:ip", "nethash": "hash:net", "ipporthash": "hash:ip,port",
	"ipportiphash": "hash:ip,port,ip", "ipportnethash": "hash:ip,port,net",
	"ipmap": "bitmap:ip", "macipmap": "bitmap:ip,mac", "portmap": "bitmap:port",
	"setlist": "list:set",
}
