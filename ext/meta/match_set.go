package meta

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// set match, revision 4 (libxt_set.c, libxt_set.h, xt_set.h): the
// revision iptables-nft picks on current kernels. Old-style parse with its
// own wording; "--match-set" takes two arguments.

const (
	ipsetDimMax      = 6
	ipsetMaxNameLen  = 32
	ipsetInvMatch    = 1 << 0 // IPSET_INV_MATCH (flag bit 0 of the dimension flags)
	ipsetFlagSkipCnt = 1 << 3 // IPSET_FLAG_SKIP_COUNTER_UPDATE
	ipsetFlagSkipSub = 1 << 4 // IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE
	ipsetFlagRetNoMa = 1 << 7 // IPSET_FLAG_RETURN_NOMATCH
	ipsetFlagExist   = 1 << 0 // IPSET_FLAG_EXIST
	ipsetFlagMapMark = 1 << 8
	ipsetFlagMapPrio = 1 << 9
	ipsetFlagMapQ    = 1 << 10
)

// IPSET_COUNTER_* comparison operators.
const (
	counterNone = iota
	counterEQ
	counterNE
	counterLT
	counterGT
)

const (
	setOptMatchSet uint = iota
	setOptSet
	setOptReturnNomatch
	setOptUpdateCounters
	setOptPacketsEq
	setOptPacketsLt
	setOptPacketsGt
	setOptBytesEq
	setOptBytesLt
	setOptBytesGt
	setOptUpdateSubcounters
)

func init() {
	f := xtables.Invert | xtables.Multi // every check is the extension's own
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "set",
		Revision: 4,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "match-set", ID: setOptMatchSet, Type: xtables.TypeString, Flags: f},
			{Name: "set", ID: setOptSet, Type: xtables.TypeString, Flags: f},
			{Name: "return-nomatch", ID: setOptReturnNomatch, Type: xtables.TypeNone, Flags: f},
			{Name: "update-counters", ID: setOptUpdateCounters, Type: xtables.TypeNone, Flags: f},
			{Name: "packets-eq", ID: setOptPacketsEq, Type: xtables.TypeString, Flags: f},
			{Name: "packets-lt", ID: setOptPacketsLt, Type: xtables.TypeString, Flags: f},
			{Name: "packets-gt", ID: setOptPacketsGt, Type: xtables.TypeString, Flags: f},
			{Name: "bytes-eq", ID: setOptBytesEq, Type: xtables.TypeString, Flags: f},
			{Name: "bytes-lt", ID: setOptBytesLt, Type: xtables.TypeString, Flags: f},
			{Name: "bytes-gt", ID: setOptBytesGt, Type: xtables.TypeString, Flags: f},
			{Name: "update-subcounters", ID: setOptUpdateSubcounters, Type: xtables.TypeNone, Flags: f},
		},
		New: func() xtables.MatchInfo { return &SetMatch{} },
		Help: "set match options:\n" +
			" [!] --match-set name flags [--return-nomatch]\n" +
			"   [! --update-counters] [! --update-subcounters]\n" +
			"   [[!] --packets-eq value | --packets-lt value | --packets-gt value\n" +
			"   [[!] --bytes-eq value | --bytes-lt value | --bytes-gt value\n" +
			"\t\t 'name' is the set name from to match,\n" +
			"\t\t 'flags' are the comma separated list of\n" +
			"\t\t 'src' and 'dst' specifications.\n",
	})
}

// SetInfo is struct xt_set_info. The kernel keeps the set's index; the
// twin keeps its name, which is what a listing shows (ipset swap keeps a
// set's name with its index, and a referenced set cannot be renamed).
type SetInfo struct {
	Name  string
	Dim   uint8
	Flags uint8 // bit 0: inverted; bit i (1..Dim): dimension i is "src"
}

// Counter is struct ip_set_counter_match.
type Counter struct {
	Op    uint8
	Value uint64
}

// SetMatch is struct xt_set_info_match_v4.
type SetMatch struct {
	MatchSet       SetInfo
	Packets, Bytes Counter
	Flags          uint32
}

// ipsetObject is what the host's ipset model offers a rule: the family
// the set serves (0 when family-neutral).
type ipsetObject interface {
	IPSetFamily() xtables.Family
}

// parseDirs is parse_dirs: up to six comma-separated "src"/"dst" (only
// the first three letters are looked at).
func parseDirs(arg string, info *SetInfo) error {
	rest, more := arg, true
	for info.Dim < ipsetDimMax && more {
		info.Dim++
		var part string
		part, rest, more = strings.Cut(rest, ",")
		switch {
		case strings.HasPrefix(part, "src"):
			info.Flags |= 1 << info.Dim
		case !strings.HasPrefix(part, "dst"):
			return xtables.Errorf("You must spefify (the comma separated list of) 'src' or 'dst'.")
		}
	}
	if more {
		return xtables.Errorf("Can't be more src/dst options than %d.", ipsetDimMax)
	}
	return nil
}

// lookupSet is get_set_byname: the set must exist and serve the family.
func lookupSet(name string, ctx *xtables.Context) error {
	if ctx == nil || ctx.Objects == nil {
		return nil
	}
	o, ok := ctx.Objects.Lookup("ipset", name)
	if !ok {
		return xtables.Errorf("Set %s doesn't exist.\n", name)
	}
	if s, ok := o.(ipsetObject); ok {
		if f := s.IPSetFamily(); f != 0 && f != ctx.Family {
			return xtables.Errorf("The protocol family of set %s is %s, which is not applicable.\n", name, f.String())
		}
	}
	return nil
}

// parseSetRef reads "--<what> name flags" into info (parse_target and the
// --match-set case of the match).
func parseSetRef(c *xtables.OptionCall, info *SetInfo, what string) error {
	next, ok := c.PeekArg()
	if !ok || next == "" || next[0] == '-' || next[0] == '!' {
		return xtables.Errorf("--%s requires two args.", what)
	}
	if len(c.Arg) > ipsetMaxNameLen-1 {
		return xtables.Errorf("setname `%s' too long, max %d characters.", c.Arg, ipsetMaxNameLen-1)
	}
	if err := lookupSet(c.Arg, c.Ctx); err != nil {
		return err
	}
	info.Name = c.Arg
	if err := parseDirs(next, info); err != nil {
		return err
	}
	c.TakeArg()
	return nil
}

// parseCounter is parse_counter.
func parseCounter(s string) (uint64, error) {
	v, ok := xtables.StrToUintAll(s, 0, 0)
	if !ok {
		return 0, xtables.Errorf("Cannot parse %s as a counter value", s)
	}
	return v, nil
}

func (m *SetMatch) Parse(c *xtables.OptionCall) error {
	counter := func(ctr *Counter, kind, op string) error {
		if ctr.Op != counterNone {
			return xtables.Errorf("only one of the --%s-[eq|lt|gt] is allowed", kind)
		}
		switch op {
		case "gt", "lt":
			if c.Invert {
				return xtables.Errorf("--%s-%s option cannot be inverted", kind, op)
			}
			ctr.Op = counterGT
			if op == "lt" {
				ctr.Op = counterLT
			}
		default:
			ctr.Op = counterEQ
			if c.Invert {
				ctr.Op = counterNE
			}
		}
		v, err := parseCounter(c.Arg)
		ctr.Value = v
		return err
	}
	switch c.Opt.ID {
	case setOptUpdateSubcounters:
		if c.Invert {
			m.Flags |= ipsetFlagSkipSub
		}
	case setOptBytesGt:
		return counter(&m.Bytes, "bytes", "gt")
	case setOptBytesLt:
		return counter(&m.Bytes, "bytes", "lt")
	case setOptBytesEq:
		return counter(&m.Bytes, "bytes", "eq")
	case setOptPacketsGt:
		return counter(&m.Packets, "packets", "gt")
	case setOptPacketsLt:
		return counter(&m.Packets, "packets", "lt")
	case setOptPacketsEq:
		return counter(&m.Packets, "packets", "eq")
	case setOptUpdateCounters:
		if c.Invert {
			m.Flags |= ipsetFlagSkipCnt
		}
	case setOptReturnNomatch:
		if c.Invert {
			return xtables.Errorf("--return-nomatch flag cannot be inverted")
		}
		m.Flags |= ipsetFlagRetNoMa
	case setOptSet, setOptMatchSet:
		if c.Opt.ID == setOptSet {
			c.Notice("--set option deprecated, please use --match-set")
		}
		if m.MatchSet.Dim != 0 {
			return xtables.Errorf("--match-set can be specified only once")
		}
		if c.Invert {
			m.MatchSet.Flags |= ipsetInvMatch
		}
		return parseSetRef(c, &m.MatchSet, "match-set")
	}
	return nil
}

func (m *SetMatch) Final(f *xtables.FinalCall) error {
	if !f.Has(setOptMatchSet) && !f.Has(setOptSet) {
		return xtables.Errorf("You must specify `--match-set' with proper arguments")
	}
	return nil
}

// appendSetRef is print_match / print_target.
func appendSetRef(b []byte, prefix string, info *SetInfo, inv bool) []byte {
	if inv {
		b = append(b, " !"...)
	}
	b = append(b, ' ')
	b = append(b, prefix...)
	b = append(b, ' ')
	b = append(b, info.Name...)
	for i := uint8(1); i <= info.Dim; i++ {
		if i == 1 {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		if info.Flags&(1<<i) != 0 {
			b = append(b, "src"...)
		} else {
			b = append(b, "dst"...)
		}
	}
	return b
}

func appendCounter(b []byte, c Counter, name, sep string) []byte {
	var op string
	switch c.Op {
	case counterEQ:
		op = "-eq "
	case counterNE:
		b = append(b, " !"...)
		op = "-eq "
	case counterLT:
		op = "-lt "
	case counterGT:
		op = "-gt "
	default:
		return b
	}
	b = append(b, ' ')
	b = append(b, sep...)
	b = append(b, name...)
	b = append(b, op...)
	return xtables.AppendUint(b, c.Value)
}

func (m *SetMatch) appendInfo(b []byte, opt, sep string) []byte {
	b = appendSetRef(b, opt, &m.MatchSet, m.MatchSet.Flags&ipsetInvMatch != 0)
	if m.Flags&ipsetFlagRetNoMa != 0 {
		b = append(b, ' ')
		b = append(b, sep...)
		b = append(b, "return-nomatch"...)
	}
	if m.Flags&ipsetFlagSkipCnt != 0 {
		b = append(b, " ! "...)
		b = append(b, sep...)
		b = append(b, "update-counters"...)
	}
	if m.Flags&ipsetFlagSkipSub != 0 {
		b = append(b, " ! "...)
		b = append(b, sep...)
		b = append(b, "update-subcounters"...)
	}
	b = appendCounter(b, m.Packets, "packets", sep)
	return appendCounter(b, m.Bytes, "bytes", sep)
}

func (m *SetMatch) Print(b []byte, ctx *xtables.Context) []byte {
	return m.appendInfo(b, "match-set", "")
}

func (m *SetMatch) Save(b []byte, ctx *xtables.Context) []byte {
	return m.appendInfo(b, "--match-set", "--")
}

// Check repeats the look-up of the set when the rule is committed: the
// parse may have run without the host's sets at hand.
func (m *SetMatch) Check(ctx *xtables.Context) error {
	return lookupSet(m.MatchSet.Name, ctx)
}
