package rate

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// recent match, revision 1 (libxt_recent.c, struct xt_recent_mtinfo_v1).

const (
	recentOptSet uint = iota
	recentOptRcheck
	recentOptUpdate
	recentOptRemove
	recentOptSeconds
	recentOptReap
	recentOptHitcount
	recentOptRttl
	recentOptName
	recentOptRsource
	recentOptRdest
	recentOptMask
)

const (
	recentCheck  = 1 << 0 // XT_RECENT_CHECK
	recentSet    = 1 << 1
	recentUpdate = 1 << 2
	recentRemove = 1 << 3
	recentTTL    = 1 << 4
	recentReap   = 1 << 5

	recentSource  = 0
	recentDest    = 1
	recentNameLen = 200 // XT_RECENT_NAME_LEN
	// recentMaxStamps is XT_RECENT_MAX_NSTAMPS: the hit count must be
	// below it.
	recentMaxStamps = 65536
)

func init() {
	const anyOp = 1<<recentOptSet | 1<<recentOptRcheck | 1<<recentOptUpdate | 1<<recentOptRemove
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "recent",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "set", ID: recentOptSet, Type: xtables.TypeNone, Excl: anyOp, Flags: xtables.Invert},
			{Name: "rcheck", ID: recentOptRcheck, Type: xtables.TypeNone, Excl: anyOp, Flags: xtables.Invert},
			{Name: "update", ID: recentOptUpdate, Type: xtables.TypeNone, Excl: anyOp, Flags: xtables.Invert},
			{Name: "remove", ID: recentOptRemove, Type: xtables.TypeNone, Excl: anyOp, Flags: xtables.Invert},
			{Name: "seconds", ID: recentOptSeconds, Type: xtables.TypeUint32, Min: 1},
			{Name: "reap", ID: recentOptReap, Type: xtables.TypeNone, Also: 1 << recentOptSeconds},
			{Name: "hitcount", ID: recentOptHitcount, Type: xtables.TypeUint32},
			{Name: "rttl", ID: recentOptRttl, Type: xtables.TypeNone, Excl: 1<<recentOptSet | 1<<recentOptRemove},
			{Name: "name", ID: recentOptName, Type: xtables.TypeString},
			{Name: "rsource", ID: recentOptRsource, Type: xtables.TypeNone},
			{Name: "rdest", ID: recentOptRdest, Type: xtables.TypeNone},
			{Name: "mask", ID: recentOptMask, Type: xtables.TypeHost},
		},
		New: func() xtables.MatchInfo { return &Recent{Name: "DEFAULT", Side: recentSource} },
	})
}

// Recent is struct xt_recent_mtinfo_v1. A zero Mask stands for the
// all-ones default of the family (recent_init).
type Recent struct {
	Seconds  uint32
	HitCount uint32
	CheckSet uint8
	Invert   uint8
	Name     string
	Side     uint8
	Mask     netip.Addr

	tbl    *recentTable // the table, found or made by the first packet
	shared *Shared      // the host registry tbl came from (nil: own)
}

func (r *Recent) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case recentOptSet, recentOptRcheck, recentOptUpdate, recentOptRemove:
		r.CheckSet |= [...]uint8{recentSet, recentCheck, recentUpdate, recentRemove}[c.Opt.ID]
		if c.Invert {
			r.Invert = 1
		}
	case recentOptSeconds:
		r.Seconds = uint32(c.Val.U64)
	case recentOptHitcount:
		r.HitCount = uint32(c.Val.U64)
	case recentOptRttl:
		r.CheckSet |= recentTTL
	case recentOptName:
		r.Name = cString(c.Arg, recentNameLen)
	case recentOptRsource:
		r.Side = recentSource
	case recentOptRdest:
		r.Side = recentDest
	case recentOptReap:
		r.CheckSet |= recentReap
	case recentOptMask:
		r.Mask = c.Val.Addr
	}
	return nil
}

func (r *Recent) Final(f *xtables.FinalCall) error {
	const anyOp = 1<<recentOptSet | 1<<recentOptRcheck | 1<<recentOptUpdate | 1<<recentOptRemove
	if f.XFlags&anyOp == 0 {
		return xtables.Errorf("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
	}
	return nil
}

// Check is recent_mt_check: exactly one command, no check options with
// --set or --remove, a hit count below the table size, a name fit for
// /proc.
func (r *Recent) Check(ctx *xtables.Context) error {
	ops := r.CheckSet & (recentSet | recentRemove | recentCheck | recentUpdate)
	if ops == 0 || ops&(ops-1) != 0 {
		return xtables.ErrInvalidArgument
	}
	if r.CheckSet&(recentSet|recentRemove) != 0 &&
		(r.Seconds != 0 || r.HitCount != 0 || r.CheckSet&(recentTTL|recentReap) != 0) {
		return xtables.ErrInvalidArgument
	}
	if r.CheckSet&recentReap != 0 && r.Seconds == 0 {
		return xtables.ErrInvalidArgument
	}
	if r.HitCount >= recentMaxStamps {
		return xtables.ErrInvalidArgument
	}
	if r.Name == "" || r.Name == "." || r.Name == ".." || strings.IndexByte(r.Name, '/') >= 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

func (r *Recent) mask(f xtables.Family) netip.Addr {
	if !r.Mask.IsValid() {
		return xtables.PrefixMask(f, f.Bits())
	}
	return r.Mask
}

func (r *Recent) Print(b []byte, ctx *xtables.Context) []byte {
	if r.Invert != 0 {
		b = append(b, " !"...)
	}
	b = append(b, " recent:"...)
	if r.CheckSet&recentSet != 0 {
		b = append(b, " SET"...)
	}
	if r.CheckSet&recentCheck != 0 {
		b = append(b, " CHECK"...)
	}
	if r.CheckSet&recentUpdate != 0 {
		b = append(b, " UPDATE"...)
	}
	if r.CheckSet&recentRemove != 0 {
		b = append(b, " REMOVE"...)
	}
	if r.Seconds != 0 {
		b = append(b, " seconds: "...)
		b = appendInt32(b, r.Seconds)
	}
	if r.CheckSet&recentReap != 0 {
		b = append(b, " reap"...)
	}
	if r.HitCount != 0 {
		b = append(b, " hit_count: "...)
		b = appendInt32(b, r.HitCount)
	}
	if r.CheckSet&recentTTL != 0 {
		b = append(b, " TTL-Match"...)
	}
	b = append(b, " name: "...)
	b = append(b, r.Name...)
	switch r.Side {
	case recentSource:
		b = append(b, " side: source"...)
	case recentDest:
		b = append(b, " side: dest"...)
	}
	b = append(b, " mask: "...)
	return append(b, addrNumeric(r.mask(ctx.Family))...)
}

// appendInt32 is printf("%d") of an unsigned field.
func appendInt32(b []byte, v uint32) []byte {
	if int32(v) < 0 {
		b = append(b, '-')
		return xtables.AppendUint(b, uint64(-int64(int32(v))))
	}
	return xtables.AppendUint(b, uint64(v))
}

func (r *Recent) Save(b []byte, ctx *xtables.Context) []byte {
	if r.Invert != 0 {
		b = append(b, " !"...)
	}
	if r.CheckSet&recentSet != 0 {
		b = append(b, " --set"...)
	}
	if r.CheckSet&recentCheck != 0 {
		b = append(b, " --rcheck"...)
	}
	if r.CheckSet&recentUpdate != 0 {
		b = append(b, " --update"...)
	}
	if r.CheckSet&recentRemove != 0 {
		b = append(b, " --remove"...)
	}
	if r.Seconds != 0 {
		b = append(b, " --seconds "...)
		b = appendInt32(b, r.Seconds)
	}
	if r.CheckSet&recentReap != 0 {
		b = append(b, " --reap"...)
	}
	if r.HitCount != 0 {
		b = append(b, " --hitcount "...)
		b = appendInt32(b, r.HitCount)
	}
	if r.CheckSet&recentTTL != 0 {
		b = append(b, " --rttl"...)
	}
	b = append(b, " --name "...)
	b = append(b, r.Name...)
	b = append(b, " --mask "...)
	b = append(b, addrNumeric(r.mask(ctx.Family))...)
	switch r.Side {
	case recentSource:
		b = append(b, " --rsource"...)
	case recentDest:
		b = append(b, " --rdest"...)
	}
	return b
}
