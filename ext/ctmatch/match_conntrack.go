package ctmatch

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// conntrack match (libxt_conntrack.c, xt_conntrack.h), revision 3, the one
// iptables 1.8.9 picks; and the state match, which 1.8.9 turns into the same
// kernel match with XT_CONNTRACK_STATE_ALIAS set and lists as "state".

const (
	ctOptState uint = iota
	ctOptProto
	ctOptOrigSrc
	ctOptOrigDst
	ctOptReplSrc
	ctOptReplDst
	ctOptOrigSrcPort
	ctOptOrigDstPort
	ctOptReplSrcPort
	ctOptReplDstPort
	ctOptStatus
	ctOptExpire
	ctOptDir
)

// match_flags / invert_flags bits.
const (
	ctFlagState       = 1 << 0
	ctFlagProto       = 1 << 1
	ctFlagOrigSrc     = 1 << 2
	ctFlagOrigDst     = 1 << 3
	ctFlagReplSrc     = 1 << 4
	ctFlagReplDst     = 1 << 5
	ctFlagStatus      = 1 << 6
	ctFlagExpires     = 1 << 7
	ctFlagOrigSrcPort = 1 << 8
	ctFlagOrigDstPort = 1 << 9
	ctFlagReplSrcPort = 1 << 10
	ctFlagReplDstPort = 1 << 11
	ctFlagDirection   = 1 << 12
	ctFlagStateAlias  = 1 << 13
)

// State bits: XT_CONNTRACK_STATE_BIT(IP_CT_*) and the extra ones.
const (
	ctStateInvalid     = 1 << 0
	ctStateEstablished = 1 << 1
	ctStateRelated     = 1 << 2
	ctStateNew         = 1 << 3
	ctStateSNAT        = 1 << 6
	ctStateDNAT        = 1 << 7
	ctStateUntracked   = 1 << 8
)

// Status bits (IPS_*).
const (
	ipsExpected  = 1 << 0
	ipsSeenReply = 1 << 1
	ipsAssured   = 1 << 2
	ipsConfirmed = 1 << 3
)

// xtInvProto is XT_INV_PROTO, which conntrack_mt_parse tests against its
// own invert_flags, where it is the --ctstatus bit.
const xtInvProto = 0x40

// ctStateNames is the parse order of conntrack_ps_state (prefixes match the
// first name in this order).
var ctStateNames = []struct {
	name string
	bit  uint16
}{
	{"INVALID", ctStateInvalid},
	{"NEW", ctStateNew},
	{"ESTABLISHED", ctStateEstablished},
	{"RELATED", ctStateRelated},
	{"UNTRACKED", ctStateUntracked},
	{"SNAT", ctStateSNAT},
	{"DNAT", ctStateDNAT},
}

// ctStatePrint is the print order of print_state.
var ctStatePrint = []struct {
	name string
	bit  uint16
}{
	{"INVALID", ctStateInvalid},
	{"NEW", ctStateNew},
	{"RELATED", ctStateRelated},
	{"ESTABLISHED", ctStateEstablished},
	{"UNTRACKED", ctStateUntracked},
	{"SNAT", ctStateSNAT},
	{"DNAT", ctStateDNAT},
}

var ctStatusNames = []struct {
	name string
	bit  uint16
}{
	{"NONE", 0},
	{"EXPECTED", ipsExpected},
	{"SEEN_REPLY", ipsSeenReply},
	{"ASSURED", ipsAssured},
	{"CONFIRMED", ipsConfirmed},
}

const ctHelp = `conntrack match options:
[!] --ctstate {INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED|SNAT|DNAT}[,...]
                               State(s) to match
[!] --ctproto proto            Protocol to match; by number or name, e.g. "tcp"
[!] --ctorigsrc address[/mask]
[!] --ctorigdst address[/mask]
[!] --ctreplsrc address[/mask]
[!] --ctrepldst address[/mask]
                               Original/Reply source/destination address
[!] --ctorigsrcport port
[!] --ctorigdstport port
[!] --ctreplsrcport port
[!] --ctrepldstport port
                               TCP/UDP/SCTP orig./reply source/destination port
[!] --ctstatus {NONE|EXPECTED|SEEN_REPLY|ASSURED|CONFIRMED}[,...]
                               Status(es) to match
[!] --ctexpire time[:time]     Match remaining lifetime in seconds against
                               value or range of values (inclusive)
    --ctdir {ORIGINAL|REPLY}   Flow direction of packet
`

const stateHelp = `state match options:
 [!] --state [INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED][,...]
				State(s) to match
`

func init() {
	inv := xtables.Invert
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "conntrack",
		Revision: 3,
		Family:   xtables.AnyFamily,
		Help:     ctHelp,
		Options: []xtables.Option{
			{Name: "ctstate", ID: ctOptState, Type: xtables.TypeString, Flags: inv},
			{Name: "ctproto", ID: ctOptProto, Type: xtables.TypeProtocol, Flags: inv},
			{Name: "ctorigsrc", ID: ctOptOrigSrc, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "ctorigdst", ID: ctOptOrigDst, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "ctreplsrc", ID: ctOptReplSrc, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "ctrepldst", ID: ctOptReplDst, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "ctstatus", ID: ctOptStatus, Type: xtables.TypeString, Flags: inv},
			{Name: "ctexpire", ID: ctOptExpire, Type: xtables.TypeUint32RC, Flags: inv},
			{Name: "ctorigsrcport", ID: ctOptOrigSrcPort, Type: xtables.TypePortRC, Flags: inv},
			{Name: "ctorigdstport", ID: ctOptOrigDstPort, Type: xtables.TypePortRC, Flags: inv},
			{Name: "ctreplsrcport", ID: ctOptReplSrcPort, Type: xtables.TypePortRC, Flags: inv},
			{Name: "ctrepldstport", ID: ctOptReplDstPort, Type: xtables.TypePortRC, Flags: inv},
			{Name: "ctdir", ID: ctOptDir, Type: xtables.TypeString},
		},
		New: func() xtables.MatchInfo { return &Conntrack{} },
	})
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "state",
		Revision: 3,
		Family:   xtables.AnyFamily,
		Help:     stateHelp,
		Options: []xtables.Option{
			{Name: "state", ID: ctOptState, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &State{} },
	})
}

// Conntrack is struct xt_conntrack_mtinfo3 (addresses in network order as
// netip values; an unset address is the zero value).
type Conntrack struct {
	OrigSrcAddr, OrigSrcMask netip.Addr
	OrigDstAddr, OrigDstMask netip.Addr
	ReplSrcAddr, ReplSrcMask netip.Addr
	ReplDstAddr, ReplDstMask netip.Addr

	ExpiresMin, ExpiresMax uint32
	L4Proto                uint8
	OrigSrcPort            uint16
	OrigDstPort            uint16
	ReplSrcPort            uint16
	ReplDstPort            uint16
	MatchFlags             uint16
	InvertFlags            uint16
	StateMask, StatusMask  uint16
	OrigSrcPortHigh        uint16
	OrigDstPortHigh        uint16
	ReplSrcPortHigh        uint16
	ReplDstPortHigh        uint16
}

// parseCtList reads a comma-separated list of names (conntrack_ps_states,
// conntrack_ps_statuses): each item a case-insensitive prefix of a name.
func parseCtList(arg, what string, names []struct {
	name string
	bit  uint16
}) (uint16, error) {
	var mask uint16
	find := func(item string) bool {
		if item == "" {
			return false
		}
		for _, n := range names {
			if prefixMatch(item, n.name) {
				mask |= n.bit
				return true
			}
		}
		return false
	}
	rest := arg
	for {
		comma := strings.IndexByte(rest, ',')
		if comma < 0 {
			break
		}
		if !find(rest[:comma]) {
			return 0, xtables.Errorf("Bad %s \"%s\"", what, rest)
		}
		rest = rest[comma+1:]
	}
	if !find(rest) {
		return 0, xtables.Errorf("Bad %s \"%s\"", what, rest)
	}
	return mask, nil
}

func (ct *Conntrack) Parse(c *xtables.OptionCall) error {
	f := c.Ctx.Family
	var flag uint16
	switch c.Opt.ID {
	case ctOptState:
		m, err := parseCtList(c.Arg, "ctstate", ctStateNames)
		if err != nil {
			return err
		}
		ct.StateMask |= m
		flag = ctFlagState
	case ctOptProto:
		ct.L4Proto = c.Val.Proto
		if ct.L4Proto == 0 && ct.InvertFlags&xtInvProto != 0 {
			return xtables.Errorf("conntrack: rule would never match protocol")
		}
		flag = ctFlagProto
	case ctOptOrigSrc:
		ct.OrigSrcAddr, ct.OrigSrcMask = c.Val.Addr, hostMask(&c.Val, f)
		flag = ctFlagOrigSrc
	case ctOptOrigDst:
		ct.OrigDstAddr, ct.OrigDstMask = c.Val.Addr, hostMask(&c.Val, f)
		flag = ctFlagOrigDst
	case ctOptReplSrc:
		ct.ReplSrcAddr, ct.ReplSrcMask = c.Val.Addr, hostMask(&c.Val, f)
		flag = ctFlagReplSrc
	case ctOptReplDst:
		ct.ReplDstAddr, ct.ReplDstMask = c.Val.Addr, hostMask(&c.Val, f)
		flag = ctFlagReplDst
	case ctOptStatus:
		m, err := parseCtList(c.Arg, "ctstatus", ctStatusNames)
		if err != nil {
			return err
		}
		ct.StatusMask |= m
		flag = ctFlagStatus
	case ctOptExpire:
		ct.ExpiresMin = uint32(c.Val.Range[0])
		ct.ExpiresMax = ct.ExpiresMin
		if c.Val.NVals >= 2 {
			ct.ExpiresMax = uint32(c.Val.Range[1])
		}
		flag = ctFlagExpires
	case ctOptOrigSrcPort, ctOptOrigDstPort, ctOptReplSrcPort, ctOptReplDstPort:
		lo, hi := c.Val.Ports[0], c.Val.Ports[0]
		if c.Val.NVals >= 2 {
			hi = c.Val.Ports[1]
		}
		switch c.Opt.ID {
		case ctOptOrigSrcPort:
			ct.OrigSrcPort, ct.OrigSrcPortHigh, flag = lo, hi, ctFlagOrigSrcPort
		case ctOptOrigDstPort:
			ct.OrigDstPort, ct.OrigDstPortHigh, flag = lo, hi, ctFlagOrigDstPort
		case ctOptReplSrcPort:
			ct.ReplSrcPort, ct.ReplSrcPortHigh, flag = lo, hi, ctFlagReplSrcPort
		default:
			ct.ReplDstPort, ct.ReplDstPortHigh, flag = lo, hi, ctFlagReplDstPort
		}
	case ctOptDir:
		switch {
		case strings.EqualFold(c.Arg, "ORIGINAL"):
			ct.MatchFlags |= ctFlagDirection
			ct.InvertFlags &^= ctFlagDirection
		case strings.EqualFold(c.Arg, "REPLY"):
			ct.MatchFlags |= ctFlagDirection
			ct.InvertFlags |= ctFlagDirection
		default:
			return xtables.Errorf("conntrack: Bad value for \"--ctdir\" option: \"%s\"", c.Arg)
		}
		return nil
	}
	ct.MatchFlags |= flag
	if c.Invert {
		ct.InvertFlags |= flag
	}
	return nil
}

// Final is conntrack_mt_check.
func (ct *Conntrack) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("conntrack: At least one option is required")
	}
	return nil
}

func appendCtNames(b []byte, mask uint16, names []struct {
	name string
	bit  uint16
}) []byte {
	sep := byte(' ')
	for _, n := range names {
		if n.bit != 0 && mask&n.bit != 0 {
			b = append(b, sep)
			b = append(b, n.name...)
			sep = ','
		}
	}
	return b
}

func appendCtPorts(b []byte, prefix, opt string, lo, hi uint16) []byte {
	b = append(b, ' ')
	b = append(b, prefix...)
	b = append(b, opt...)
	b = append(b, ' ')
	b = xtables.AppendUint(b, uint64(lo))
	if hi != 0 && lo != hi {
		b = append(b, ':')
		b = xtables.AppendUint(b, uint64(hi))
	}
	return b
}

// dump is conntrack_dump for revision 3.
func (ct *Conntrack) dump(b []byte, prefix string, numeric bool, ctx *xtables.Context) []byte {
	f := ctx.Family
	inv := func(flag uint16) {
		if ct.InvertFlags&flag != 0 {
			b = append(b, " !"...)
		}
	}
	opt := func(name string) {
		b = append(b, ' ')
		b = append(b, prefix...)
		b = append(b, name...)
	}
	if ct.MatchFlags&ctFlagState != 0 {
		inv(ctFlagState)
		if ct.MatchFlags&ctFlagStateAlias != 0 {
			opt("state")
		} else {
			opt("ctstate")
		}
		b = appendCtNames(b, ct.StateMask, ctStatePrint)
	}
	if ct.MatchFlags&ctFlagProto != 0 {
		inv(ctFlagProto)
		opt("ctproto ")
		b = xtables.AppendUint(b, uint64(ct.L4Proto))
	}
	addrs := []struct {
		flag uint16
		name string
		a, m netip.Addr
	}{
		{ctFlagOrigSrc, "ctorigsrc", ct.OrigSrcAddr, ct.OrigSrcMask},
		{ctFlagOrigDst, "ctorigdst", ct.OrigDstAddr, ct.OrigDstMask},
		{ctFlagReplSrc, "ctreplsrc", ct.ReplSrcAddr, ct.ReplSrcMask},
		{ctFlagReplDst, "ctrepldst", ct.ReplDstAddr, ct.ReplDstMask},
	}
	for _, a := range addrs {
		if ct.MatchFlags&a.flag != 0 {
			inv(a.flag)
			opt(a.name)
			b = appendDumpAddr(b, orZero(a.a, f), orFull(a.m, f), f, numeric, ctx)
		}
	}
	ports := []struct {
		flag   uint16
		name   string
		lo, hi uint16
	}{
		{ctFlagOrigSrcPort, "ctorigsrcport", ct.OrigSrcPort, ct.OrigSrcPortHigh},
		{ctFlagOrigDstPort, "ctorigdstport", ct.OrigDstPort, ct.OrigDstPortHigh},
		{ctFlagReplSrcPort, "ctreplsrcport", ct.ReplSrcPort, ct.ReplSrcPortHigh},
		{ctFlagReplDstPort, "ctrepldstport", ct.ReplDstPort, ct.ReplDstPortHigh},
	}
	for _, p := range ports {
		if ct.MatchFlags&p.flag != 0 {
			inv(p.flag)
			b = appendCtPorts(b, prefix, p.name, p.lo, p.hi)
		}
	}
	if ct.MatchFlags&ctFlagStatus != 0 {
		inv(ctFlagStatus)
		opt("ctstatus")
		if ct.StatusMask == 0 {
			b = append(b, " NONE"...)
		} else {
			b = appendCtNames(b, ct.StatusMask, ctStatusNames)
		}
	}
	if ct.MatchFlags&ctFlagExpires != 0 {
		inv(ctFlagExpires)
		opt("ctexpire ")
		b = xtables.AppendUint(b, uint64(ct.ExpiresMin))
		if ct.ExpiresMax != ct.ExpiresMin {
			b = append(b, ':')
			b = xtables.AppendUint(b, uint64(ct.ExpiresMax))
		}
	}
	if ct.MatchFlags&ctFlagDirection != 0 {
		if ct.InvertFlags&ctFlagDirection != 0 {
			opt("ctdir REPLY")
		} else {
			opt("ctdir ORIGINAL")
		}
	}
	return b
}

func orZero(a netip.Addr, f xtables.Family) netip.Addr {
	if a.IsValid() {
		return a
	}
	return xtables.ZeroAddr(f)
}

func orFull(m netip.Addr, f xtables.Family) netip.Addr {
	if m.IsValid() {
		return m
	}
	return xtables.ZeroAddr(f)
}

func (ct *Conntrack) Print(b []byte, ctx *xtables.Context) []byte {
	return ct.dump(b, "", ctx.Numeric, ctx)
}

func (ct *Conntrack) Save(b []byte, ctx *xtables.Context) []byte {
	return ct.dump(b, "--", true, ctx)
}

// State is the state match: the kernel's conntrack revision 3 with the
// alias flag (state_ct23_parse), listed and saved through conntrack_dump.
type State struct {
	Conntrack
}

// stateNames is state_parse_state's order; no SNAT/DNAT.
var stateNames = ctStateNames[:5]

func (s *State) Parse(c *xtables.OptionCall) error {
	arg := c.Arg
	var mask uint16
	bad := func(rest string) error { return xtables.Errorf("Bad state \"%s\"", rest) }
	for {
		comma := strings.IndexByte(arg, ',')
		if comma < 0 {
			break
		}
		if comma == 0 {
			return bad(arg)
		}
		bit := stateBit(arg[:comma])
		if bit == 0 {
			return bad(arg)
		}
		mask |= bit
		arg = arg[comma+1:]
	}
	if arg == "" {
		return xtables.Errorf("\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED")
	}
	bit := stateBit(arg)
	if bit == 0 {
		return bad(arg)
	}
	s.MatchFlags = ctFlagState | ctFlagStateAlias
	s.StateMask = mask | bit
	if c.Invert {
		s.InvertFlags |= ctFlagState
	}
	return nil
}

func stateBit(item string) uint16 {
	for _, n := range stateNames {
		if prefixMatch(item, n.name) {
			return n.bit
		}
	}
	return 0
}

// Final keeps conntrack's "at least one option" check away from state,
// whose --state is mandatory instead.
func (s *State) Final(*xtables.FinalCall) error { return nil }

// ctStateBit is XT_CONNTRACK_STATE_BIT of the packet's ctinfo, or the
// untracked/invalid bit when it has no connection (conntrack_mt).
func ctStateBit(st *xtables.PacketState) uint16 {
	if st.Ct != nil {
		switch st.CtInfo {
		case xtables.CtEstablished:
			return ctStateEstablished
		case xtables.CtRelated:
			return ctStateRelated
		case xtables.CtNew:
			return ctStateNew
		}
		return ctStateInvalid
	}
	if st.CtInfo == xtables.CtUntracked {
		return ctStateUntracked
	}
	return ctStateInvalid
}

// MatchPacket is conntrack_mt (revision 3; the state match is the same
// with its alias flag). Each test fails the match when its result equals
// its inversion, in the kernel's order.
func (ct *Conntrack) MatchPacket(st *xtables.PacketState) bool {
	c := st.Ct
	inv := func(flag uint16) bool { return ct.InvertFlags&flag != 0 }
	if ct.MatchFlags&ctFlagState != 0 {
		bit := ctStateBit(st)
		if c != nil {
			s := c.Status()
			if s&xtables.IPSSrcNAT != 0 {
				bit |= ctStateSNAT
			}
			if s&xtables.IPSDstNAT != 0 {
				bit |= ctStateDNAT
			}
		}
		if (ct.StateMask&bit != 0) == inv(ctFlagState) {
			return false
		}
	}
	if c == nil {
		return ct.MatchFlags&ctFlagState != 0
	}
	if ct.MatchFlags&ctFlagDirection != 0 && !c.Reply() == inv(ctFlagDirection) {
		return false
	}
	orig, repl := c.Tuple(0), c.Tuple(1)
	addr := func(flag uint16, a, want, mask netip.Addr) bool {
		return ct.MatchFlags&flag == 0 || maskedEqual(a, want, mask) != inv(flag)
	}
	if !addr(ctFlagOrigSrc, orig.Src, ct.OrigSrcAddr, ct.OrigSrcMask) ||
		!addr(ctFlagOrigDst, orig.Dst, ct.OrigDstAddr, ct.OrigDstMask) ||
		!addr(ctFlagReplSrc, repl.Src, ct.ReplSrcAddr, ct.ReplSrcMask) ||
		!addr(ctFlagReplDst, repl.Dst, ct.ReplDstAddr, ct.ReplDstMask) {
		return false
	}
	// ct_proto_port_check_v3: the ports are tuple->src.u.all and
	// dst.u.all, whatever the protocol (ICMP id, type<<8|code).
	if ct.MatchFlags&ctFlagProto != 0 && (orig.Proto == ct.L4Proto) == inv(ctFlagProto) {
		return false
	}
	port := func(flag uint16, p, lo, hi uint16) bool {
		return ct.MatchFlags&flag == 0 || (p >= lo && p <= hi) != inv(flag)
	}
	if !port(ctFlagOrigSrcPort, orig.SrcPort, ct.OrigSrcPort, ct.OrigSrcPortHigh) ||
		!port(ctFlagOrigDstPort, orig.DstPort, ct.OrigDstPort, ct.OrigDstPortHigh) ||
		!port(ctFlagReplSrcPort, repl.SrcPort, ct.ReplSrcPort, ct.ReplSrcPortHigh) ||
		!port(ctFlagReplDstPort, repl.DstPort, ct.ReplDstPort, ct.ReplDstPortHigh) {
		return false
	}
	if ct.MatchFlags&ctFlagStatus != 0 && (uint32(ct.StatusMask)&c.Status() != 0) == inv(ctFlagStatus) {
		return false
	}
	if ct.MatchFlags&ctFlagExpires != 0 {
		e := c.Expires()
		if (e >= ct.ExpiresMin && e <= ct.ExpiresMax) == inv(ctFlagExpires) {
			return false
		}
	}
	return true
}
