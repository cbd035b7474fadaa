package meta

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// rpfilter match (libxt_rpfilter.c, xt_rpfilter.h).

// XT_RPFILTER_* flags.
const (
	rpfLoose       = 1 << 0
	rpfValidMark   = 1 << 1
	rpfAcceptLocal = 1 << 2
	rpfInvert      = 1 << 3
)

var rpfOpts = []xtables.Option{
	{Name: "loose", ID: 0, Type: xtables.TypeNone},
	{Name: "validmark", ID: 1, Type: xtables.TypeNone},
	{Name: "accept-local", ID: 2, Type: xtables.TypeNone},
	{Name: "invert", ID: 3, Type: xtables.TypeNone},
}

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:    "rpfilter",
		Family:  xtables.AnyFamily,
		Hooks:   1 << xtables.HookPrerouting,
		Options: rpfOpts,
		New:     func() xtables.MatchInfo { return &RPFilter{} },
		Help: "rpfilter match options:\n" +
			"    --loose          permit reverse path via any interface\n" +
			"    --validmark      use skb nfmark when performing route lookup\n" +
			"    --accept-local   do not reject packets with a local source address\n" +
			"    --invert         match packets that failed the reverse path test\n",
	})
}

// RPFilter is struct xt_rpfilter_info.
type RPFilter struct {
	Flags uint8
}

func (m *RPFilter) Parse(c *xtables.OptionCall) error {
	m.Flags |= 1 << c.Opt.ID // the option ids are the flag bits
	return nil
}

func (m *RPFilter) appendFlags(b []byte, prefix string) []byte {
	for i, o := range rpfOpts {
		if m.Flags&(1<<i) != 0 {
			b = append(b, ' ')
			b = append(b, prefix...)
			b = append(b, o.Name...)
		}
	}
	return b
}

func (m *RPFilter) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " rpfilter"...)
	return m.appendFlags(b, "")
}

func (m *RPFilter) Save(b []byte, ctx *xtables.Context) []byte {
	return m.appendFlags(b, "--")
}

// Check: rpfilter_check accepts the raw and mangle tables only, and the
// match serves PREROUTING only.
func (m *RPFilter) Check(ctx *xtables.Context) error {
	if err := checkTables(ctx, "raw", "mangle"); err != nil {
		return err
	}
	return checkHooks(ctx, 1<<xtables.HookPrerouting)
}

// RouteEnv is what the rpfilter match needs of the host beyond
// xtables.Env: the host's packet path implements it on its Env.
type RouteEnv interface {
	// ReverseRoute is the FIB look-up of the reverse path checks
	// (fib_lookup for IPv4, ip6_route_lookup for IPv6): a route to dst
	// from src (src invalid when none is given), made as by a packet from
	// the loopback device (flowi iif LOOPBACK_IFINDEX), with the mark,
	// and only through oif when oif is given. It returns the route's type
	// (RTN_*) and its output device; ok is false when there is no route.
	ReverseRoute(dst, src netip.Addr, oif string, mark uint32) (typ int, dev string, ok bool)
}

func (m *RPFilter) lookup(st *xtables.PacketState, dst, src netip.Addr, oif string) (int, string, bool) {
	r, ok := st.Env.(RouteEnv)
	if !ok {
		return 0, "", false
	}
	var mark uint32
	if m.Flags&rpfValidMark != 0 {
		mark = st.Mark
	}
	return r.ReverseRoute(dst, src, oif, mark)
}

// MatchPacket is rpfilter_mt of ipt_rpfilter.c and ip6t_rpfilter.c: is
// the packet's source reachable back through the interface it came in on
// (or at all, with --loose)? Packets from the loopback device pass, as do
// those from an unspecified source (to the broadcast or a link-local
// multicast address, for IPv4).
func (m *RPFilter) MatchPacket(st *xtables.PacketState) bool {
	inv := m.Flags&rpfInvert != 0
	src, dst, ok := packetAddrs(st)
	if !ok {
		return false
	}
	if st.In == "lo" || skbPktType(st, dst) == packetLoopback {
		return !inv
	}
	if st.Family == xtables.IPv6 {
		if src.IsUnspecified() {
			return !inv // not routable: the forward path drops it
		}
		var from netip.Addr
		if !(dst.IsMulticast() || dst.IsUnspecified() || dst.Is4In6()) {
			from = dst
		}
		oif := ""
		if src.IsLinkLocalUnicast() || m.Flags&rpfLoose == 0 {
			oif = st.In
		}
		typ, dev, ok := m.lookup(st, src, from, oif)
		var pass bool
		switch {
		case !ok || typ == xtables.RTNUnreachable || typ == xtables.RTNProhibit ||
			typ == xtables.RTNBlackhole || typ == xtables.RTNAnycast:
		case typ == xtables.RTNLocal:
			pass = m.Flags&rpfAcceptLocal != 0
		default:
			pass = dev == st.In || m.Flags&rpfLoose != 0
		}
		return pass != inv
	}
	s4, d4 := src.As4(), dst.As4()
	if s4[0] == 0 && (d4 == [4]byte{255, 255, 255, 255} || d4[0] == 224 && d4[1] == 0 && d4[2] == 0) {
		return !inv
	}
	var from netip.Addr // rpfilter_get_saddr
	if !(dst.IsMulticast() || d4 == [4]byte{255, 255, 255, 255} || d4[0] == 0) {
		from = dst
	}
	typ, dev, ok := m.lookup(st, src, from, "")
	pass := ok && (typ == xtables.RTNUnicast || typ == xtables.RTNLocal && m.Flags&rpfAcceptLocal != 0) &&
		(dev == st.In || m.Flags&rpfLoose != 0)
	return pass != inv
}
