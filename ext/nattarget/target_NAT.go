package nattarget

import "github.com/iptwin/iptwin/xtables"

// SNAT, DNAT, MASQUERADE and REDIRECT (libxt_NAT.c; kernel xt_nat.c,
// xt_MASQUERADE.c, xt_REDIRECT.c). IPv4 SNAT, MASQUERADE and REDIRECT are
// revision 0 (nf_nat_ipv4_multi_range_compat), their IPv6 twins use
// nf_nat_range, and DNAT is revision 2 (nf_nat_range2, with shifted port
// ranges) for both families, the revision iptables-nft picks on a current
// kernel.

const (
	optToDest uint = iota
	optToSrc
	optToPorts
	optRandom
	optRandomFully
	optPersistent
)

// natKind is what differs between the four targets.
type natKind struct {
	name      string
	printOpt  string // -L prefix of the range
	saveOpt   string // -S option of the range
	skipColon bool   // ports only: drop the leading ':'
	hasBase   bool   // the kernel struct keeps the /base port
	noShift   bool   // x6_fcheck refuses shifted ranges (REDIRECT)
	hooks     uint   // hooks the kernel allows (xt_target.hooks)
	noMapIPs  bool   // checkentry refuses NF_NAT_RANGE_MAP_IPS
	options   []xtables.Option
	help      string
}

const (
	hookPre  = 1 << xtables.HookPrerouting
	hookIn   = 1 << xtables.HookInput
	hookOut  = 1 << xtables.HookOutput
	hookPost = 1 << xtables.HookPostrouting
)

var (
	snatKind = &natKind{
		name: "SNAT", printOpt: "to:", saveOpt: "--to-source ",
		hooks: hookPost | hookIn,
		options: []xtables.Option{
			{Name: "to-source", ID: optToSrc, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "random", ID: optRandom, Type: xtables.TypeNone},
			{Name: "random-fully", ID: optRandomFully, Type: xtables.TypeNone},
			{Name: "persistent", ID: optPersistent, Type: xtables.TypeNone},
		},
		help: "SNAT target options:\n" +
			" --to-source [<ipaddr>[-<ipaddr>]][:port[-port]]\n" +
			"\t\t\t\tAddress to map source to.\n" +
			"[--random] [--random-fully] [--persistent]\n",
	}
	dnatKind = &natKind{
		name: "DNAT", printOpt: "to:", saveOpt: "--to-destination ",
		hasBase: true, hooks: hookPre | hookOut,
		options: []xtables.Option{
			{Name: "to-destination", ID: optToDest, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "random", ID: optRandom, Type: xtables.TypeNone},
			{Name: "persistent", ID: optPersistent, Type: xtables.TypeNone},
		},
		help: "DNAT target options:\n" +
			" --to-destination [<ipaddr>[-<ipaddr>]][:port[-port[/port]]]\n" +
			"\t\t\t\tAddress to map destination to.\n" +
			"[--random] [--persistent]\n",
	}
	masqKind = &natKind{
		name: "MASQUERADE", printOpt: "masq ports: ", saveOpt: "--to-ports ",
		skipColon: true, hooks: hookPost, noMapIPs: true,
		options: []xtables.Option{
			{Name: "to-ports", ID: optToPorts, Type: xtables.TypeString},
			{Name: "random", ID: optRandom, Type: xtables.TypeNone},
			{Name: "random-fully", ID: optRandomFully, Type: xtables.TypeNone},
		},
		help: "MASQUERADE target options:\n" +
			" --to-ports <port>[-<port>]\n" +
			"\t\t\t\tPort (range) to map to.\n" +
			" --random\n" +
			"\t\t\t\tRandomize source port.\n" +
			" --random-fully\n" +
			"\t\t\t\tFully randomize source port.\n",
	}
	redirectKind = &natKind{
		name: "REDIRECT", printOpt: "redir ports ", saveOpt: "--to-ports ",
		skipColon: true, noShift: true, hooks: hookPre | hookOut, noMapIPs: true,
		options: []xtables.Option{
			{Name: "to-ports", ID: optToPorts, Type: xtables.TypeString},
			{Name: "random", ID: optRandom, Type: xtables.TypeNone},
		},
		help: "REDIRECT target options:\n" +
			" --to-ports <port>[-<port>]\n" +
			"\t\t\t\tPort (range) to map to.\n" +
			" [--random]\n",
	}
)

func init() {
	for _, k := range []*natKind{snatKind, dnatKind, masqKind, redirectKind} {
		k := k
		var rev uint8
		if k.hasBase {
			rev = 2
		}
		xtables.RegisterTarget(&xtables.TargetType{
			Name:     k.name,
			Revision: rev,
			Family:   xtables.AnyFamily,
			Hooks:    k.hooks,
			Options:  k.options,
			New:      func() xtables.TargetInfo { return &NAT{kind: k} },
			Help:     k.help,
		})
	}
}

// NAT is the per-rule data of SNAT, DNAT, MASQUERADE and REDIRECT.
type NAT struct {
	Range Range
	kind  *natKind
}

func (n *NAT) Parse(c *xtables.OptionCall) error {
	ok := portOK(c.Ctx)
	r := &n.Range
	switch c.Opt.ID {
	case optToDest, optToSrc:
		if err := parseTo(c.Arg, ok, !n.kind.hasBase, r, c.Ctx); err != nil {
			return err
		}
	case optToPorts:
		if err := parsePorts(c.Arg, ok, !n.kind.hasBase, r, c.Ctx); err != nil {
			return err
		}
	case optPersistent:
		r.Flags |= RangePersistent
	case optRandom:
		r.Flags |= RangeProtoRandom
	case optRandomFully:
		r.Flags |= RangeProtoRandomFully
	}
	if !n.kind.hasBase {
		// The older structs have no room for the base port, but the
		// flag is kept: such a range then shows "/0".
		r.BaseProto = 0
	}
	return nil
}

// Final is DNAT_fcheck as REDIRECT uses it.
func (n *NAT) Final(f *xtables.FinalCall) error {
	if n.kind.noShift && n.Range.Flags&RangeProtoOffset != 0 {
		return xtables.Errorf("Shifted portmap ranges not supported with this kernel")
	}
	return nil
}

// Check is the kernel side: the nat table only, the target's hooks, and
// for MASQUERADE/REDIRECT no address range.
func (n *NAT) Check(ctx *xtables.Context) error {
	if ctx.Table != "nat" {
		return xtables.ErrInvalidArgument
	}
	if ctx.Hooks&^n.kind.hooks != 0 {
		return xtables.ErrInvalidArgument
	}
	if n.kind.noMapIPs && n.Range.Flags&RangeMapIPs != 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// appendNAT is __NAT_print.
func (n *NAT) appendNAT(b []byte, f xtables.Family, rangeOpt, flagPfx string) []byte {
	start := len(b)
	b = appendRange(b, &n.Range, f)
	rs := string(b[start:])
	b = b[:start]
	if rs != "" {
		if rs[0] == ':' && n.kind.skipColon {
			rs = rs[1:]
		}
		b = append(b, ' ')
		b = append(b, rangeOpt...)
		b = append(b, rs...)
	}
	if n.Range.Flags&RangeProtoRandom != 0 {
		b = append(b, ' ')
		b = append(b, flagPfx...)
		b = append(b, "random"...)
	}
	if n.Range.Flags&RangeProtoRandomFully != 0 {
		b = append(b, ' ')
		b = append(b, flagPfx...)
		b = append(b, "random-fully"...)
	}
	if n.Range.Flags&RangePersistent != 0 {
		b = append(b, ' ')
		b = append(b, flagPfx...)
		b = append(b, "persistent"...)
	}
	return b
}

func (n *NAT) Print(b []byte, ctx *xtables.Context) []byte {
	return n.appendNAT(b, ctx.Family, n.kind.printOpt, "")
}

func (n *NAT) Save(b []byte, ctx *xtables.Context) []byte {
	return n.appendNAT(b, ctx.Family, n.kind.saveOpt, "--")
}
