package meta

import "github.com/iptwin/iptwin/xtables"

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
