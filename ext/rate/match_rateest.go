package rate

import (
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// rateest match (libxt_rateest.c, xt_rateest.h): old-style parse with its
// own wording; --rateest-bps1 and the like take an optional value.

const (
	reOptRateest1 uint = iota
	reOptRateest2
	reOptBPS1
	reOptPPS1
	reOptBPS2
	reOptPPS2
	reOptDelta
	reOptLT
	reOptGT
	reOptEQ
)

const (
	reInvert = 1 << 0 // XT_RATEEST_MATCH_INVERT
	reAbs    = 1 << 1
	reRel    = 1 << 2
	reDelta  = 1 << 3
	reBPS    = 1 << 4
	rePPS    = 1 << 5

	reModeNone = 0
	reModeEQ   = 1
	reModeLT   = 2
	reModeGT   = 3
)

func init() {
	raw := xtables.Invert | xtables.Multi // the checks are the extension's own
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "rateest",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "rateest1", ID: reOptRateest1, Type: xtables.TypeString, Flags: raw},
			{Name: "rateest", ID: reOptRateest1, Type: xtables.TypeString, Flags: raw},
			{Name: "rateest2", ID: reOptRateest2, Type: xtables.TypeString, Flags: raw},
			{Name: "rateest-bps1", ID: reOptBPS1, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-pps1", ID: reOptPPS1, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-bps2", ID: reOptBPS2, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-pps2", ID: reOptPPS2, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-bps", ID: reOptBPS2, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-pps", ID: reOptPPS2, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-delta", ID: reOptDelta, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-lt", ID: reOptLT, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-gt", ID: reOptGT, Type: xtables.TypeNone, Flags: raw},
			{Name: "rateest-eq", ID: reOptEQ, Type: xtables.TypeNone, Flags: raw},
		},
		New: func() xtables.MatchInfo { return &Rateest{} },
	})
}

// Rateest is struct xt_rateest_match_info (the user part).
type Rateest struct {
	Name1, Name2 string
	Flags, Mode  uint16
	BPS1, PPS1   uint32
	BPS2, PPS2   uint32

	seen    uint16 // the old-style *flags, one bit per option value
	dupMode bool   // the comparison was given twice, as saved
}

var rateSuffixes = []struct {
	name  string
	scale float64
}{
	{"bit", 1}, {"Kibit", 1024}, {"kbit", 1000}, {"Mibit", 1024 * 1024}, {"mbit", 1000000},
	{"Gibit", 1024 * 1024 * 1024}, {"gbit", 1000000000},
	{"Tibit", 1024 * 1024 * 1024 * 1024}, {"tbit", 1000000000000},
	{"Bps", 8}, {"KiBps", 8 * 1024}, {"KBps", 8000}, {"MiBps", 8 * 1024 * 1024}, {"MBps", 8000000},
	{"GiBps", 8 * 1024 * 1024 * 1024}, {"GBps", 8000000000},
	{"TiBps", 8 * 1024 * 1024 * 1024 * 1024}, {"TBps", 8000000000000},
}

// rateestGetRate is rateest_get_rate: bytes per second, from a plain
// number (bytes/s) or one with an iproute-style unit.
func rateestGetRate(s string) (uint32, bool) {
	bps, n := strtod(s)
	if n == 0 {
		return 0, false
	}
	p := s[n:]
	if p == "" {
		return doubleToUint(bps / 8), true
	}
	for _, sf := range rateSuffixes {
		if strings.EqualFold(sf.name, p) {
			return doubleToUint(bps * sf.scale / 8), true
		}
	}
	return 0, false
}

// optionalArg takes the value after --rateest-bps1 and the like when there
// is one (not an option, not "!").
func optionalArg(c *xtables.OptionCall) (string, bool) {
	v, ok := c.PeekArg()
	if !ok || v != "" && (v[0] == '-' || v[0] == '!') {
		return "", false
	}
	c.TakeArg()
	return v, true
}

func (r *Rateest) Parse(c *xtables.OptionCall) error {
	id := c.Opt.ID
	once := func(what string) error {
		if r.seen&(1<<id) != 0 {
			return xtables.Errorf("rateest: can't specify %s twice", what)
		}
		r.seen |= 1 << id
		return nil
	}
	switch id {
	case reOptRateest1, reOptRateest2:
		if c.Invert {
			return xtables.Errorf("rateest: rateest can't be inverted")
		}
		if err := once([2]string{"--rateest1", "--rateest2"}[id]); err != nil {
			return err
		}
		if id == reOptRateest1 {
			r.Name1 = cString(c.Arg, ifNameSize)
		} else {
			r.Name2 = cString(c.Arg, ifNameSize)
			r.Flags |= reRel
		}
	case reOptBPS1, reOptBPS2:
		if c.Invert {
			return xtables.Errorf("rateest: rateest-bps can't be inverted")
		}
		if err := once(map[uint]string{reOptBPS1: "--rateest-bps1", reOptBPS2: "--rateest-bps2"}[id]); err != nil {
			return err
		}
		r.Flags |= reBPS
		if v, ok := optionalArg(c); ok {
			rate, good := rateestGetRate(v)
			if !good {
				return xtables.Errorf("rateest: could not parse rate `%s'", v)
			}
			if id == reOptBPS1 {
				r.BPS1 = rate
			} else {
				r.BPS2 = rate
			}
		}
	case reOptPPS1, reOptPPS2:
		if c.Invert {
			return xtables.Errorf("rateest: rateest-pps can't be inverted")
		}
		if err := once(map[uint]string{reOptPPS1: "--rateest-pps1", reOptPPS2: "--rateest-pps2"}[id]); err != nil {
			return err
		}
		r.Flags |= rePPS
		if v, ok := optionalArg(c); ok {
			n, good := xtables.StrToUintAll(v, 0, 0xffffffff)
			if !good {
				return xtables.Errorf("rateest: could not parse pps `%s'", v)
			}
			if id == reOptPPS1 {
				r.PPS1 = uint32(n)
			} else {
				r.PPS2 = uint32(n)
			}
		}
	case reOptDelta:
		if c.Invert {
			return xtables.Errorf("rateest: rateest-delta can't be inverted")
		}
		if err := once("--rateest-delta"); err != nil {
			return err
		}
		r.Flags |= reDelta
	case reOptEQ, reOptLT, reOptGT:
		if r.seen&(1<<id) != 0 {
			// rateest_save writes the comparison once per rate kind, which
			// the real tool then cannot read back; the twin keeps its
			// rules as saved, so it takes that form (see Final).
			if r.Mode != map[uint]uint16{reOptEQ: reModeEQ, reOptLT: reModeLT, reOptGT: reModeGT}[id] ||
				c.Invert != (r.Flags&reInvert != 0) || r.Flags&(reBPS|rePPS) == 0 {
				return xtables.Errorf("rateest: can't specify lt/gt/eq twice")
			}
			r.dupMode = true
			return nil
		}
		r.seen |= 1 << id
		r.Mode = map[uint]uint16{reOptEQ: reModeEQ, reOptLT: reModeLT, reOptGT: reModeGT}[id]
		if c.Invert {
			r.Flags |= reInvert
		}
	}
	return nil
}

func (r *Rateest) Final(f *xtables.FinalCall) error {
	if r.dupMode && r.Flags&(reBPS|rePPS) != reBPS|rePPS {
		return xtables.Errorf("rateest: can't specify lt/gt/eq twice")
	}
	if r.Flags&reRel == 0 {
		r.Flags |= reAbs
	}
	return nil
}

// Check is xt_rateest_mt_checkentry: a comparison and a rate kind, and
// estimators that exist.
func (r *Rateest) Check(ctx *xtables.Context) error {
	if r.Flags&(reAbs|reRel) == reAbs|reRel || r.Flags&(reAbs|reRel) == 0 ||
		r.Flags&(reBPS|rePPS) == 0 || r.Mode < reModeEQ || r.Mode > reModeGT {
		return xtables.ErrInvalidArgument
	}
	if _, ok := lookupEstimator(ctx, r.Name1); !ok {
		return ErrNoEntry
	}
	if r.Flags&reRel != 0 {
		if _, ok := lookupEstimator(ctx, r.Name2); !ok {
			return ErrNoEntry
		}
	}
	return nil
}

// appendRate is rateest_print_rate.
func appendRate(b []byte, rate uint32, numeric bool) []byte {
	tmp := float64(rate) * 8
	b = append(b, ' ')
	switch {
	case numeric:
		return strconv.AppendUint(b, uint64(rate), 10)
	case tmp >= 1000.0*1000000.0:
		return append(strconv.AppendFloat(b, tmp/1000000.0, 'f', 0, 64), "Mbit"...)
	case tmp >= 1000.0*1000.0:
		return append(strconv.AppendFloat(b, tmp/1000.0, 'f', 0, 64), "Kbit"...)
	}
	return append(strconv.AppendFloat(b, tmp, 'f', 0, 64), "bit"...)
}

// appendMode is rateest_print_mode (which exits for a rule without a
// comparison; the kernel refuses those).
func (r *Rateest) appendMode(b []byte, prefix string) []byte {
	if r.Flags&reInvert != 0 {
		b = append(b, " !"...)
	}
	switch r.Mode {
	case reModeEQ:
		b = append(b, " "+prefix+"eq"...)
	case reModeLT:
		b = append(b, " "+prefix+"lt"...)
	case reModeGT:
		b = append(b, " "+prefix+"gt"...)
	}
	return b
}

func (r *Rateest) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " rateest match "...)
	b = append(b, r.Name1...)
	if r.Flags&reDelta != 0 {
		b = append(b, " delta"...)
	}
	if r.Flags&reBPS != 0 {
		b = append(b, " bps"...)
		if r.Flags&reDelta != 0 {
			b = appendRate(b, r.BPS1, ctx.Numeric)
		}
		if r.Flags&reAbs != 0 {
			b = appendRate(b, r.BPS2, ctx.Numeric)
			b = r.appendMode(b, "")
		}
	}
	if r.Flags&rePPS != 0 {
		b = append(b, " pps"...)
		if r.Flags&reDelta != 0 {
			b = strconv.AppendUint(append(b, ' '), uint64(r.PPS1), 10)
		}
		if r.Flags&reAbs != 0 {
			b = r.appendMode(b, "")
			b = strconv.AppendUint(append(b, ' '), uint64(r.PPS2), 10)
		}
	}
	if r.Flags&reRel != 0 {
		b = r.appendMode(b, "")
		b = append(append(b, ' '), r.Name2...)
		if r.Flags&reBPS != 0 {
			b = append(b, " bps"...)
			if r.Flags&reDelta != 0 {
				b = appendRate(b, r.BPS2, ctx.Numeric)
			}
		}
		if r.Flags&rePPS != 0 {
			b = append(b, " pps"...)
			if r.Flags&reDelta != 0 {
				b = strconv.AppendUint(append(b, ' '), uint64(r.PPS2), 10)
			}
		}
	}
	return b
}

// appendSaveRate is __rateest_save_rate.
func (r *Rateest) appendSaveRate(b []byte, name string, r1, r2 uint32, numeric bool) []byte {
	if r.Flags&reDelta != 0 {
		b = append(b, " --rateest-"+name+"1"...)
		b = appendRate(b, r1, numeric)
		b = r.appendMode(b, "--rateest-")
		b = append(b, " --rateest-"+name+"2"...)
	} else {
		b = r.appendMode(b, "--rateest-")
		b = append(b, " --rateest-"+name...)
	}
	if r.Flags&(reAbs|reDelta) != 0 {
		b = appendRate(b, r2, numeric)
	}
	return b
}

func (r *Rateest) Save(b []byte, ctx *xtables.Context) []byte {
	if r.Flags&reDelta != 0 {
		b = append(b, " --rateest-delta"...)
	}
	if r.Flags&reRel != 0 {
		b = append(append(b, " --rateest1 "...), r.Name1...)
	} else {
		b = append(append(b, " --rateest "...), r.Name1...)
	}
	if r.Flags&reBPS != 0 {
		b = r.appendSaveRate(b, "bps", r.BPS1, r.BPS2, false)
	}
	if r.Flags&rePPS != 0 {
		b = r.appendSaveRate(b, "pps", r.PPS1, r.PPS2, true)
	}
	if r.Flags&reRel != 0 {
		b = append(append(b, " --rateest2 "...), r.Name2...)
	}
	return b
}
