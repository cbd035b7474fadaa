package ctmatch

import (
	"net/netip"
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// policy match (libxt_policy.c, xt_policy.h): up to four policy elements
// separated by --next.

const (
	polOptDir uint = iota
	polOptPol
	polOptStrict
	polOptReqid
	polOptSpi
	polOptProto
	polOptMode
	polOptTunnelSrc
	polOptTunnelDst
	polOptNext
)

// xt_policy_info.flags.
const (
	polMatchIn     = 1 << 0 // XT_POLICY_MATCH_IN
	polMatchOut    = 1 << 1
	polMatchNone   = 1 << 2
	polMatchStrict = 1 << 3
)

const (
	polModeTransport = 0 // XT_POLICY_MODE_TRANSPORT
	polModeTunnel    = 1
	polMaxElem       = 4 // XT_POLICY_MAX_ELEM

	ipprotoESP  = 50
	ipprotoAH   = 51
	ipprotoComp = 108
)

func init() {
	multi := xtables.Multi | xtables.Invert
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "policy",
		Family: xtables.AnyFamily,
		Help: `policy match options:
  --dir in|out			match policy applied during decapsulation/
				policy to be applied during encapsulation
  --pol none|ipsec		match policy
  --strict 			match entire policy instead of single element
				at any position
These options may be used repeatedly, to describe policy elements:
[!] --reqid reqid		match reqid
[!] --spi spi			match SPI
[!] --proto proto		match protocol (ah/esp/ipcomp)
[!] --mode mode 		match mode (transport/tunnel)
[!] --tunnel-src addr/mask	match tunnel source
[!] --tunnel-dst addr/mask	match tunnel destination
  --next 			begin next element in policy
`,
		Options: []xtables.Option{
			{Name: "dir", ID: polOptDir, Type: xtables.TypeString},
			{Name: "pol", ID: polOptPol, Type: xtables.TypeString},
			{Name: "strict", ID: polOptStrict, Type: xtables.TypeNone},
			{Name: "reqid", ID: polOptReqid, Type: xtables.TypeUint32, Flags: multi},
			{Name: "spi", ID: polOptSpi, Type: xtables.TypeUint32, Flags: multi},
			{Name: "tunnel-src", ID: polOptTunnelSrc, Type: xtables.TypeHostMask, Flags: multi},
			{Name: "tunnel-dst", ID: polOptTunnelDst, Type: xtables.TypeHostMask, Flags: multi},
			{Name: "proto", ID: polOptProto, Type: xtables.TypeProtocol, Flags: multi},
			{Name: "mode", ID: polOptMode, Type: xtables.TypeString, Flags: multi},
			{Name: "next", ID: polOptNext, Type: xtables.TypeNone, Flags: xtables.Multi, Also: 1 << polOptStrict},
		},
		New: func() xtables.MatchInfo { return &Policy{} },
	})
}

// PolicyElemFlags is the match/invert bit field of struct xt_policy_elem.
type PolicyElemFlags struct {
	Saddr, Daddr, Proto, Mode, Spi, Reqid bool
}

// PolicyElem is struct xt_policy_elem.
type PolicyElem struct {
	Saddr, Smask netip.Addr
	Daddr, Dmask netip.Addr
	Spi          uint32
	Reqid        uint32
	Proto        uint8
	Mode         uint8
	Match        PolicyElemFlags
	Invert       PolicyElemFlags
}

// Policy is struct xt_policy_info.
type Policy struct {
	Pol   [polMaxElem]PolicyElem
	Flags uint16
	Len   uint16
}

func (p *Policy) Parse(c *xtables.OptionCall) error {
	if int(p.Len) >= polMaxElem {
		return xtables.Errorf("policy match: maximum policy depth reached")
	}
	e := &p.Pol[p.Len]
	double := func(opt string) error {
		return xtables.Errorf("policy match: double --%s option", opt)
	}
	switch c.Opt.ID {
	case polOptDir:
		switch c.Arg {
		case "in":
			p.Flags |= polMatchIn
		case "out":
			p.Flags |= polMatchOut
		default:
			return xtables.Errorf("policy_match: invalid dir \"%s\"", c.Arg)
		}
	case polOptPol:
		switch c.Arg {
		case "none":
			p.Flags |= polMatchNone
		case "ipsec":
		default:
			return xtables.Errorf("policy match: invalid policy \"%s\"", c.Arg)
		}
	case polOptStrict:
		p.Flags |= polMatchStrict
	case polOptReqid:
		if e.Match.Reqid {
			return double("reqid")
		}
		e.Match.Reqid, e.Invert.Reqid, e.Reqid = true, c.Invert, uint32(c.Val.U64)
	case polOptSpi:
		if e.Match.Spi {
			return double("spi")
		}
		e.Match.Spi, e.Invert.Spi, e.Spi = true, c.Invert, uint32(c.Val.U64)
	case polOptTunnelSrc:
		if e.Match.Saddr {
			return double("tunnel-src")
		}
		e.Match.Saddr, e.Invert.Saddr = true, c.Invert
		e.Saddr, e.Smask = c.Val.Addr, hostMask(&c.Val, c.Ctx.Family)
	case polOptTunnelDst:
		if e.Match.Daddr {
			return double("tunnel-dst")
		}
		e.Match.Daddr, e.Invert.Daddr = true, c.Invert
		e.Daddr, e.Dmask = c.Val.Addr, hostMask(&c.Val, c.Ctx.Family)
	case polOptProto:
		if e.Match.Proto {
			return double("proto")
		}
		e.Proto = c.Val.Proto
		if e.Proto != ipprotoAH && e.Proto != ipprotoESP && e.Proto != ipprotoComp {
			return xtables.Errorf("policy match: protocol must be ah/esp/ipcomp")
		}
		e.Match.Proto, e.Invert.Proto = true, c.Invert
	case polOptMode:
		if e.Match.Mode {
			return double("mode")
		}
		e.Match.Mode, e.Invert.Mode = true, c.Invert
		switch c.Arg {
		case "transport":
			e.Mode = polModeTransport
		case "tunnel":
			e.Mode = polModeTunnel
		default:
			return xtables.Errorf("policy match: invalid mode \"%s\"", c.Arg)
		}
	case polOptNext:
		p.Len++
		if int(p.Len) == polMaxElem {
			return xtables.Errorf("policy match: maximum policy depth reached")
		}
	}
	return nil
}

// Final is policy_check; it also counts the last element into Len.
func (p *Policy) Final(f *xtables.FinalCall) error {
	if p.Flags&(polMatchIn|polMatchOut) == 0 {
		return xtables.Errorf("policy match: neither --dir in nor --dir out specified")
	}
	if p.Flags&polMatchNone != 0 {
		if p.Flags&polMatchStrict != 0 {
			return xtables.Errorf("policy match: policy none but --strict given")
		}
		if p.Len != 0 {
			return xtables.Errorf("policy match: policy none but policy given")
		}
	} else {
		p.Len++
	}
	for i := 0; i < int(p.Len); i++ {
		e := &p.Pol[i]
		m := e.Match
		if p.Flags&polMatchStrict != 0 && !(m.Reqid || m.Spi || m.Saddr || m.Daddr || m.Proto || m.Mode) {
			return xtables.Errorf("policy match: empty policy element %d. --strict is in effect, but at least one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.", i)
		}
		if (m.Saddr || m.Daddr) && ((e.Mode == polModeTunnel && e.Invert.Mode) || (e.Mode == polModeTransport && !e.Invert.Mode)) {
			return xtables.Errorf("policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode")
		}
	}
	return nil
}

// Check is the hook test of policy_mt_check: an inbound policy cannot be
// matched on the way out and the reverse.
func (p *Policy) Check(ctx *xtables.Context) error {
	if ctx.Hooks&hookMask(xtables.HookPrerouting, xtables.HookInput) != 0 && p.Flags&polMatchOut != 0 {
		return xtables.ErrInvalidArgument
	}
	if ctx.Hooks&hookMask(xtables.HookPostrouting, xtables.HookOutput) != 0 && p.Flags&polMatchIn != 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

func (p *Policy) appendFlags(b []byte, prefix string) []byte {
	opt := func(s string) {
		b = append(b, ' ')
		b = append(b, prefix...)
		b = append(b, s...)
	}
	if p.Flags&polMatchIn != 0 {
		opt("dir in")
	} else {
		opt("dir out")
	}
	if p.Flags&polMatchNone != 0 {
		opt("pol none")
	} else {
		opt("pol ipsec")
	}
	if p.Flags&polMatchStrict != 0 {
		opt("strict")
	}
	return b
}

// appendEntry is print_entry; protocols are named unless numeric.
func appendPolicyEntry(b []byte, prefix string, e *PolicyElem, numeric bool, ctx *xtables.Context) []byte {
	f := ctx.Family
	inv := func(on bool) {
		if on {
			b = append(b, " !"...)
		}
	}
	opt := func(s string) {
		b = append(b, ' ')
		b = append(b, prefix...)
		b = append(b, s...)
	}
	if e.Match.Reqid {
		inv(e.Invert.Reqid)
		opt("reqid ")
		b = xtables.AppendUint(b, uint64(e.Reqid))
	}
	if e.Match.Spi {
		inv(e.Invert.Spi)
		opt("spi 0x")
		b = strconv.AppendUint(b, uint64(e.Spi), 16)
	}
	if e.Match.Proto {
		inv(e.Invert.Proto)
		opt("proto ")
		name := ""
		if !numeric && ctx.Names != nil {
			name = ctx.Names.ProtoName(e.Proto)
		}
		if name != "" {
			b = append(b, name...)
		} else {
			b = xtables.AppendUint(b, uint64(e.Proto))
		}
	}
	if e.Match.Mode {
		inv(e.Invert.Mode)
		opt("mode ")
		switch e.Mode {
		case polModeTransport:
			b = append(b, "transport"...)
		case polModeTunnel:
			b = append(b, "tunnel"...)
		default:
			b = append(b, "???"...)
		}
	}
	if e.Match.Daddr {
		inv(e.Invert.Daddr)
		opt("tunnel-dst ")
		b = append(b, orZero(e.Daddr, f).String()...)
		b = appendMaskNumeric(b, orFull(e.Dmask, f), f)
	}
	if e.Match.Saddr {
		inv(e.Invert.Saddr)
		opt("tunnel-src ")
		b = append(b, orZero(e.Saddr, f).String()...)
		b = appendMaskNumeric(b, orFull(e.Smask, f), f)
	}
	return b
}

func (p *Policy) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " policy match"...)
	b = p.appendFlags(b, "")
	for i := 0; i < int(p.Len) && i < polMaxElem; i++ {
		if p.Len > 1 {
			b = append(b, " ["...)
			b = xtables.AppendUint(b, uint64(i))
			b = append(b, ']')
		}
		b = appendPolicyEntry(b, "", &p.Pol[i], ctx.Numeric, ctx)
	}
	return b
}

func (p *Policy) Save(b []byte, ctx *xtables.Context) []byte {
	b = p.appendFlags(b, "--")
	for i := 0; i < int(p.Len) && i < polMaxElem; i++ {
		b = appendPolicyEntry(b, "--", &p.Pol[i], false, ctx)
		if i+1 < int(p.Len) {
			b = append(b, " --next"...)
		}
	}
	return b
}

// matchState is match_xfrm_state: each element field given must equal the
// SA's (addresses under their masks), each comparison inverted on "!".
func (e *PolicyElem) matchState(x *XfrmState) bool {
	if e.Match.Saddr && maskedEqual(e.Saddr, x.Src, e.Smask) == e.Invert.Saddr {
		return false
	}
	if e.Match.Daddr && maskedEqual(e.Daddr, x.Dst, e.Dmask) == e.Invert.Daddr {
		return false
	}
	if e.Match.Proto && (e.Proto == x.Proto) == e.Invert.Proto {
		return false
	}
	if e.Match.Mode && (e.Mode == x.Mode) == e.Invert.Mode {
		return false
	}
	if e.Match.Spi && (e.Spi == x.SPI) == e.Invert.Spi {
		return false
	}
	if e.Match.Reqid && (e.Reqid == x.Reqid) == e.Invert.Reqid {
		return false
	}
	return true
}

// matchIn is match_policy_in over skb->sp, innermost SA first: -1 without
// a secpath, else 1 or 0. In strict mode the SAs pair with the elements
// in order (pos = sp->len - i - 1, as fixed upstream in 2020).
func (p *Policy) matchIn(sas []XfrmState, ok bool) int {
	if !ok {
		return -1
	}
	strict := p.Flags&polMatchStrict != 0
	n := len(sas)
	if strict && int(p.Len) != n {
		return 0
	}
	for i := n - 1; i >= 0; i-- {
		pos := 0
		if strict {
			pos = n - i - 1
		}
		if pos >= int(p.Len) {
			return 0
		}
		if p.Pol[pos].matchState(&sas[i]) {
			if !strict {
				return 1
			}
		} else if strict {
			return 0
		}
	}
	if strict {
		return 1
	}
	return 0
}

// matchOut is match_policy_out over the route's bundle, outermost first.
func (p *Policy) matchOut(sas []XfrmState, ok bool) int {
	if !ok || len(sas) == 0 {
		return -1
	}
	strict := p.Flags&polMatchStrict != 0
	i := 0
	for ; i < len(sas); i++ {
		pos := 0
		if strict {
			pos = i
		}
		if pos >= int(p.Len) {
			return 0
		}
		if p.Pol[pos].matchState(&sas[i]) {
			if !strict {
				return 1
			}
		} else if strict {
			return 0
		}
	}
	if strict && i == int(p.Len) {
		return 1
	}
	return 0
}

// MatchPacket is policy_mt: with no secpath (input) or no xfrm on the
// route (output) only --pol none matches; otherwise --pol none never
// matches and --pol ipsec matches what the elements select.
func (p *Policy) MatchPacket(st *xtables.PacketState) bool {
	var ret int
	ip, _ := st.Env.(IPsecPath)
	if p.Flags&polMatchIn != 0 {
		ret = -1
		if ip != nil {
			ret = p.matchIn(ip.InputSAs(st))
		}
	} else {
		ret = -1
		if ip != nil {
			ret = p.matchOut(ip.OutputSAs(st))
		}
	}
	if ret < 0 {
		return p.Flags&polMatchNone != 0
	}
	if p.Flags&polMatchNone != 0 {
		return false
	}
	return ret == 1
}
