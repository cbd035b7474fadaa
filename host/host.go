// Package host is the twin host's network configuration, the part a setup
// script gives a Linux host with ip(8) and sysctl(8): links, addresses,
// routing tables, policy rules and the sysctls that change the packet path.
// It models a fresh network namespace and the kernel's automatic routes
// (Linux 6.x), and answers route look-ups in ip rule order.
package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/iptwin/iptwin/state"
)

// Routing table ids.
const (
	TableUnspec  = 0
	TableDefault = 253
	TableMain    = 254
	TableLocal   = 255
)

// Link types.
const (
	Loopback = "loopback"
	Dummy    = "dummy"
	Veth     = "veth"
)

// Link is a network interface.
type Link struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	MAC   string `json:"mac"`
	MTU   int    `json:"mtu"`
	Up    bool   `json:"up"`
	// Peer is the veth peer's index.
	Peer int `json:"peer,omitempty"`
	// Started: the device has been up once (its qdisc is then noqueue).
	Started bool `json:"started,omitempty"`
}

// Addr is an address of a link.
type Addr struct {
	Prefix    netip.Prefix `json:"prefix"`
	Dev       int          `json:"dev"`
	Scope     int          `json:"scope"`
	Broadcast netip.Addr   `json:"broadcast,omitempty"`
	Label     string       `json:"label,omitempty"`
	NoDAD     bool         `json:"nodad,omitempty"`
	// Auto marks the link-local address the kernel generates.
	Auto bool `json:"auto,omitempty"`
}

// Route types (rtm_type).
const (
	RTUnicast     = 1
	RTLocal       = 2
	RTBroadcast   = 3
	RTMulticast   = 5
	RTBlackhole   = 6
	RTUnreachable = 7
	RTProhibit    = 8
	RTThrow       = 9
)

// Scopes (rtm_scope).
const (
	ScopeUniverse = 0
	ScopeSite     = 200
	ScopeLink     = 253
	ScopeHost     = 254
	ScopeNowhere  = 255
)

// Protocols (rtm_protocol).
const (
	ProtoUnspec = 0
	ProtoRedir  = 1
	ProtoKernel = 2
	ProtoBoot   = 3
	ProtoStatic = 4
)

// Route is a routing table entry.
type Route struct {
	V6     bool         `json:"v6,omitempty"`
	Table  int          `json:"table"`
	Type   int          `json:"type"`
	Dst    netip.Prefix `json:"dst"`
	Gw     netip.Addr   `json:"gw,omitempty"`
	Dev    int          `json:"dev,omitempty"`
	Src    netip.Addr   `json:"src,omitempty"`
	Metric uint32       `json:"metric,omitempty"`
	Proto  int          `json:"proto"`
	Scope  int          `json:"scope"`
	// Seq orders routes of equal key by insertion.
	Seq uint64 `json:"seq"`
}

// Rule is a policy routing rule.
type Rule struct {
	V6       bool         `json:"v6,omitempty"`
	Priority uint32       `json:"priority"`
	From     netip.Prefix `json:"from,omitempty"`
	To       netip.Prefix `json:"to,omitempty"`
	Iif      string       `json:"iif,omitempty"`
	Oif      string       `json:"oif,omitempty"`
	Mark     uint32       `json:"mark,omitempty"`
	Mask     uint32       `json:"mask,omitempty"`
	HasMark  bool         `json:"hasmark,omitempty"`
	Table    int          `json:"table"`
	Action   int          `json:"action,omitempty"` // 0: lookup; else a route type (blackhole, unreachable, prohibit)
}

// Net is the whole network configuration of a host.
type Net struct {
	Seed      string            `json:"seed"`
	Links     []*Link           `json:"links"`
	Addrs     []*Addr           `json:"addrs"`
	Routes    []*Route          `json:"routes"`
	Rules     []*Rule           `json:"rules"`
	Sysctl    map[string]string `json:"sysctl"`
	NextIndex int               `json:"next_index"`
	Seq       uint64            `json:"seq"`
}

// Errors as the kernel reports them (the ip command renders them).
var (
	ErrExist       = errors.New("File exists")
	ErrNoProcess   = errors.New("No such process")
	ErrNoDevice    = errors.New("No such device")
	ErrNotSupp     = errors.New("Operation not supported")
	ErrInval       = errors.New("Invalid argument")
	ErrNetUnreach  = errors.New("Network is unreachable")
	ErrHostUnreach = errors.New("No route to host")
	ErrPerm        = errors.New("Permission denied")
)

// ExtError is a kernel error with an extended ack message ("Error: ...").
type ExtError struct{ Msg string }

func (e *ExtError) Error() string { return e.Msg }

// New is a fresh network namespace: lo down, the default rules, the
// default sysctls. seed makes generated MAC addresses deterministic.
func New(seed string) *Net {
	n := &Net{Seed: seed, NextIndex: 2, Sysctl: DefaultSysctls()}
	n.Links = []*Link{{Index: 1, Name: "lo", Kind: Loopback, MAC: "00:00:00:00:00:00", MTU: 65536}}
	n.Rules = []*Rule{
		{Priority: 0, Table: TableLocal}, {Priority: 32766, Table: TableMain}, {Priority: 32767, Table: TableDefault},
		{V6: true, Priority: 0, Table: TableLocal}, {V6: true, Priority: 32766, Table: TableMain},
	}
	return n
}

const fileName = "net"

// Load reads the model from the state directory (a fresh one when none).
func Load(d *state.Dir) (*Net, error) {
	data, err := os.ReadFile(filepath.Join(d.Path, fileName))
	if os.IsNotExist(err) {
		return New(d.Path), nil
	}
	if err != nil {
		return nil, err
	}
	n := &Net{}
	if err := json.Unmarshal(data, n); err != nil {
		return nil, fmt.Errorf("state file %s is damaged: %v", filepath.Join(d.Path, fileName), err)
	}
	if n.Sysctl == nil {
		n.Sysctl = DefaultSysctls()
	}
	return n, nil
}

// Save writes the model atomically (the caller holds the lock).
func (n *Net) Save(d *state.Dir) error {
	data, err := json.MarshalIndent(n, "", " ")
	if err != nil {
		return err
	}
	return state.WriteAtomic(filepath.Join(d.Path, fileName), append(data, '\n'))
}

// LinkByName finds a link.
func (n *Net) LinkByName(name string) *Link {
	for _, l := range n.Links {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// LinkByIndex finds a link.
func (n *Net) LinkByIndex(i int) *Link {
	for _, l := range n.Links {
		if l.Index == i {
			return l
		}
	}
	return nil
}

// Carrier says whether the link is up with carrier (a veth needs its peer up).
func (n *Net) Carrier(l *Link) bool {
	if !l.Up {
		return false
	}
	if l.Kind == Veth {
		p := n.LinkByIndex(l.Peer)
		return p != nil && p.Up
	}
	return true
}

func (n *Net) mac(name string) string {
	h := fnv.New64a()
	h.Write([]byte(n.Seed))
	h.Write([]byte{0})
	h.Write([]byte(name))
	s := h.Sum64()
	b := [6]byte{byte(s>>40)&0xfe | 0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// AddLink creates a dummy link, or a veth pair (peer gets the lower index,
// as the kernel registers the peer first).
func (n *Net) AddLink(name, kind, peer string) error {
	if n.LinkByName(name) != nil || (peer != "" && n.LinkByName(peer) != nil) || name == peer {
		return ErrExist
	}
	switch kind {
	case Dummy:
		n.Links = append(n.Links, &Link{Index: n.NextIndex, Name: name, Kind: Dummy, MAC: n.mac(name), MTU: 1500})
		n.newLinkSysctls(name)
		n.NextIndex++
	case Veth:
		if peer == "" {
			peer = fmt.Sprintf("veth%d", n.freeVeth())
		}
		p := &Link{Index: n.NextIndex, Name: peer, Kind: Veth, MAC: n.mac(peer), MTU: 1500}
		l := &Link{Index: n.NextIndex + 1, Name: name, Kind: Veth, MAC: n.mac(name), MTU: 1500}
		p.Peer, l.Peer = l.Index, p.Index
		n.Links = append(n.Links, p, l)
		n.newLinkSysctls(peer)
		n.newLinkSysctls(name)
		n.NextIndex += 2
	default:
		return &ExtError{"Unknown device type."}
	}
	return nil
}

func (n *Net) freeVeth() int {
	for i := 0; ; i++ {
		if n.LinkByName(fmt.Sprintf("veth%d", i)) == nil {
			return i
		}
	}
}

// DelLink removes a link (and its veth peer) with its addresses and routes.
func (n *Net) DelLink(l *Link) error {
	if l.Kind == Loopback {
		return ErrNotSupp
	}
	n.setDown(l)
	n.dropLink(l.Index)
	if l.Kind == Veth {
		if p := n.LinkByIndex(l.Peer); p != nil {
			n.setDown(p)
			n.dropLink(p.Index)
		}
	}
	return nil
}

func (n *Net) dropLink(idx int) {
	var ls []*Link
	for _, l := range n.Links {
		if l.Index != idx {
			ls = append(ls, l)
		}
	}
	if l := n.LinkByIndex(idx); l != nil {
		n.dropSysctls(l.Name)
	}
	n.Links = ls
	var as []*Addr
	for _, a := range n.Addrs {
		if a.Dev != idx {
			as = append(as, a)
		}
	}
	n.Addrs = as
	n.filterRoutes(func(r *Route) bool { return r.Dev != idx })
}

func (n *Net) filterRoutes(keep func(*Route) bool) {
	var rs []*Route
	for _, r := range n.Routes {
		if keep(r) {
			rs = append(rs, r)
		}
	}
	n.Routes = rs
}

// SetUp brings a link up or down, adding or removing the automatic routes.
func (n *Net) SetUp(l *Link, up bool) {
	if up == l.Up {
		return
	}
	if !up {
		n.setDown(l)
		if l.Kind == Veth {
			if p := n.LinkByIndex(l.Peer); p != nil && p.Up {
				n.carrierChange(p, false)
			}
		}
		return
	}
	l.Up, l.Started = true, true
	n.v4Up(l)
	n.v6Addrs(l)
	if l.Kind == Veth {
		if p := n.LinkByIndex(l.Peer); p != nil && p.Up {
			// both ends get their carrier now
			n.v6Carrier(l)
			n.v6Carrier(p)
		}
		return
	}
	n.v6Carrier(l)
}

// carrierChange: on carrier loss IPv6 keeps its routes (they show
// linkdown); on carrier the link-local configuration starts.
func (n *Net) carrierChange(l *Link, on bool) {
	if on {
		n.v6Carrier(l)
	}
}

func (n *Net) setDown(l *Link) {
	if !l.Up {
		return
	}
	l.Up = false
	// IPv4 keeps the local routes of the addresses, drops everything else
	// through the device.
	n.filterRoutes(func(r *Route) bool {
		return r.V6 || r.Dev != l.Index || (r.Type == RTLocal && r.Table == TableLocal && r.Proto == ProtoKernel)
	})
	n.v6Down(l)
}

func (n *Net) v6Down(l *Link) {
	n.filterRoutes(func(r *Route) bool { return !r.V6 || r.Dev != l.Index })
	var as []*Addr
	for _, a := range n.Addrs {
		if !(a.Auto && a.Dev == l.Index) {
			as = append(as, a)
		}
	}
	n.Addrs = as
}

// v4Up adds the routes of the link's IPv4 addresses.
func (n *Net) v4Up(l *Link) {
	for _, a := range n.Addrs {
		if a.Dev == l.Index && a.Prefix.Addr().Is4() {
			n.addrRoutes4(a)
		}
	}
}

// v6Addrs adds the routes of the configured IPv6 addresses of a link
// that came up.
func (n *Net) v6Addrs(l *Link) {
	if n.Sysctl["net.ipv6.conf."+l.Name+".disable_ipv6"] == "1" {
		return
	}
	for _, a := range n.Addrs {
		if a.Dev == l.Index && a.Prefix.Addr().Is6() && !a.Auto {
			n.addrRoutes6(a)
		}
	}
}

// v6Carrier starts the link-local configuration of a link with carrier:
// fe80::/64, ff00::/8 and the EUI-64 link-local address (once).
func (n *Net) v6Carrier(l *Link) {
	if n.Sysctl["net.ipv6.conf."+l.Name+".disable_ipv6"] == "1" || l.Kind == Loopback {
		return
	}
	for _, a := range n.Addrs {
		if a.Dev == l.Index && a.Auto {
			return
		}
	}
	n.addRoute(&Route{V6: true, Table: TableMain, Type: RTUnicast, Dst: netip.MustParsePrefix("fe80::/64"), Dev: l.Index, Metric: 256, Proto: ProtoKernel})
	n.addRoute(&Route{V6: true, Table: TableLocal, Type: RTMulticast, Dst: netip.MustParsePrefix("ff00::/8"), Dev: l.Index, Metric: 256, Proto: ProtoKernel})
	if ll, ok := eui64(l.MAC); ok {
		a := &Addr{Prefix: netip.PrefixFrom(ll, 64), Dev: l.Index, Scope: ScopeLink, Auto: true}
		n.Addrs = append(n.Addrs, a)
		n.addRoute(&Route{V6: true, Table: TableLocal, Type: RTLocal, Dst: netip.PrefixFrom(ll, 128), Dev: l.Index, Proto: ProtoKernel})
	}
}

func eui64(mac string) (netip.Addr, bool) {
	var b [6]byte
	if _, err := fmt.Sscanf(mac, "%02x:%02x:%02x:%02x:%02x:%02x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]); err != nil {
		return netip.Addr{}, false
	}
	a := [16]byte{0: 0xfe, 1: 0x80, 8: b[0] ^ 2, 9: b[1], 10: b[2], 11: 0xff, 12: 0xfe, 13: b[3], 14: b[4], 15: b[5]}
	return netip.AddrFrom16(a), true
}

func (n *Net) addRoute(r *Route) {
	n.Seq++
	r.Seq = n.Seq
	n.Routes = append(n.Routes, r)
}

// addrRoutes4 adds the kernel's routes for an IPv4 address as
// fib_add_ifaddr does: the local route always; when the link is up the
// broadcast route of an explicit brd, and for primaries the prefix route
// (type local in table local on a loopback device) and the subnet's
// broadcast route when the prefix is shorter than /31. The kernel ignores
// duplicates.
func (n *Net) addrRoutes4(a *Addr) {
	l := n.LinkByIndex(a.Dev)
	prim := n.primary4(a)
	src := prim.Prefix.Addr()
	add := func(table, typ int, dst netip.Prefix, scope int) {
		if !n.hasRoute(table, typ, dst, a.Dev) {
			n.addRoute(&Route{Table: table, Type: typ, Dst: dst, Dev: a.Dev, Src: src, Proto: ProtoKernel, Scope: scope})
		}
	}
	add(TableLocal, RTLocal, netip.PrefixFrom(a.Prefix.Addr(), 32), ScopeHost)
	if l == nil || !l.Up {
		return
	}
	if b := a.Broadcast; b.IsValid() && b != netip.AddrFrom4([4]byte{255, 255, 255, 255}) && !b.IsUnspecified() {
		add(TableLocal, RTBroadcast, netip.PrefixFrom(b, 32), ScopeLink)
	}
	pfx := a.Prefix.Masked()
	if pfx.Addr().IsUnspecified() || prim != a || (pfx.Addr() == a.Prefix.Addr() && a.Prefix.Bits() == 32) {
		return
	}
	if l.Kind == Loopback {
		add(TableLocal, RTLocal, pfx, ScopeHost)
	} else {
		add(TableMain, RTUnicast, pfx, ScopeLink)
	}
	if a.Prefix.Bits() < 31 {
		add(TableLocal, RTBroadcast, netip.PrefixFrom(lastAddr(pfx), 32), ScopeLink)
	}
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// primary4 is the primary address of a's subnet on its link (a itself if
// it is the first).
func (n *Net) primary4(a *Addr) *Addr {
	for _, b := range n.Addrs {
		if b.Dev == a.Dev && b.Prefix.Addr().Is4() && b.Prefix.Bits() == a.Prefix.Bits() && b.Prefix.Masked() == a.Prefix.Masked() {
			return b
		}
	}
	return a
}

// Secondary says whether a is a secondary address.
func (n *Net) Secondary(a *Addr) bool { return a.Prefix.Addr().Is4() && n.primary4(a) != a }

func (n *Net) hasRoute(table, typ int, dst netip.Prefix, dev int) bool {
	for _, r := range n.Routes {
		if r.Table == table && r.Type == typ && r.Dst == dst && r.Dev == dev {
			return true
		}
	}
	return false
}

// addrRoutes6 adds the local route and, unless /128, the prefix route
// metric 256 of an IPv6 address on a running link.
func (n *Net) addrRoutes6(a *Addr) {
	n.addRoute(&Route{V6: true, Table: TableLocal, Type: RTLocal, Dst: netip.PrefixFrom(a.Prefix.Addr(), 128), Dev: a.Dev, Proto: ProtoKernel})
	if a.Prefix.Bits() < 128 && !a.Prefix.Addr().IsLoopback() {
		n.addRoute(&Route{V6: true, Table: TableMain, Type: RTUnicast, Dst: a.Prefix.Masked(), Dev: a.Dev, Metric: 256, Proto: ProtoKernel})
	}
}

// AddAddr adds an address as `ip addr add` does.
func (n *Net) AddAddr(a *Addr) error {
	l := n.LinkByIndex(a.Dev)
	if l == nil {
		return ErrNoDevice
	}
	for _, b := range n.Addrs {
		if b.Prefix.Addr() == a.Prefix.Addr() && b.Dev == a.Dev && (a.Prefix.Addr().Is6() || b.Prefix.Bits() == a.Prefix.Bits()) {
			if a.Prefix.Addr().Is4() {
				return &ExtError{"Error: ipv4: Address already assigned."}
			}
			return &ExtError{"Error: ipv6: address already assigned."}
		}
	}
	if a.Prefix.Addr().Is4() {
		n.Addrs = append(n.Addrs, a)
		n.addrRoutes4(a)
		return nil
	}
	n.Addrs = append(n.Addrs, a)
	if l.Up {
		n.addrRoutes6(a)
	}
	return nil
}

// DelAddr removes an address and the routes the kernel added for it.
func (n *Net) DelAddr(p netip.Prefix, dev int) error {
	for i, a := range n.Addrs {
		if a.Dev != dev || a.Prefix.Addr() != p.Addr() || (p.Bits() != a.Prefix.Bits()) {
			continue
		}
		if a.Prefix.Addr().Is4() && !n.Secondary(a) {
			// promote_secondaries=0: the secondaries go with the primary
			var rest []*Addr
			for _, b := range n.Addrs {
				if b == a || b.Dev == dev && b.Prefix.Addr().Is4() && b.Prefix.Bits() == a.Prefix.Bits() && b.Prefix.Masked() == a.Prefix.Masked() {
					n.filterRoutes(func(r *Route) bool {
						return r.V6 || r.Dev != dev || r.Proto != ProtoKernel || r.Dst.Addr() != b.Prefix.Addr()
					})
					continue
				}
				rest = append(rest, b)
			}
			n.Addrs = rest
		} else {
			n.Addrs = append(n.Addrs[:i:i], n.Addrs[i+1:]...)
		}
		n.filterRoutes(func(r *Route) bool {
			if r.Dev != dev || r.Proto != ProtoKernel {
				return true
			}
			if r.Dst.Addr() == a.Prefix.Addr() && r.Type == RTLocal {
				return false
			}
			if a.Prefix.Addr().Is4() {
				if r.Src == a.Prefix.Addr() {
					return false
				}
				return true
			}
			// the prefix route goes when no other address has the prefix
			if r.Table == TableMain && r.Dst == a.Prefix.Masked() {
				for _, b := range n.Addrs {
					if b.Dev == dev && b.Prefix.Masked() == r.Dst {
						return true
					}
				}
				return false
			}
			return true
		})
		return nil
	}
	if p.Addr().Is4() {
		return &ExtError{"Error: ipv4: Address not found."}
	}
	return &ExtError{"Error: ipv6: address not found."}
}

// UpLo brings lo up: 127.0.0.1/8 and ::1/128 appear as in a netns.
func (n *Net) upLo(l *Link) {
	has := func(s string) bool {
		for _, a := range n.Addrs {
			if a.Dev == l.Index && a.Prefix.Addr() == netip.MustParseAddr(s) {
				return true
			}
		}
		return false
	}
	if !has("127.0.0.1") {
		n.Addrs = append(n.Addrs, &Addr{Prefix: netip.MustParsePrefix("127.0.0.1/8"), Dev: l.Index, Scope: ScopeHost, Label: l.Name})
		n.addrRoutes4(n.Addrs[len(n.Addrs)-1])
	}
	if !has("::1") {
		n.Addrs = append(n.Addrs, &Addr{Prefix: netip.MustParsePrefix("::1/128"), Dev: l.Index, Scope: ScopeHost})
	}
}

// SetLinkUp is SetUp plus the loopback addresses of a namespace's lo.
func (n *Net) SetLinkUp(l *Link, up bool) {
	if up && !l.Up && l.Kind == Loopback {
		n.upLo(l)
	}
	n.SetUp(l, up)
}

// Rename renames a link (the sysctl directories follow).
func (n *Net) Rename(l *Link, name string) error {
	if l.Name == name {
		return nil
	}
	if n.LinkByName(name) != nil {
		return ErrExist
	}
	if l.Up {
		return &ExtError{"RTNETLINK answers: Device or resource busy"}
	}
	for _, a := range n.Addrs {
		if a.Dev == l.Index && a.Label == l.Name {
			a.Label = name
		}
	}
	n.renameSysctls(l.Name, name)
	l.Name = name
	return nil
}
