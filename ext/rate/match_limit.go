package rate

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// limit match (libxt_limit.c, xt_limit.h). iptables-nft turns it into the
// native nft limit expression and back (add_nft_limit, nft_parse_limit),
// which Final reproduces.

const (
	limitScale        = 10000 // XT_LIMIT_SCALE
	limitDefaultBurst = 5
	limitOptLimit     = 0
	limitOptBurst     = 1
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "limit",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "limit", ID: limitOptLimit, Type: xtables.TypeString},
			{Name: "limit-burst", ID: limitOptBurst, Type: xtables.TypeUint32, Min: 0, Max: 10000},
		},
		New: func() xtables.MatchInfo {
			l := &Limit{Burst: limitDefaultBurst}
			l.Avg, _, _ = parseLimitRate("3/hour")
			return l
		},
	})
}

// Limit is struct xt_rateinfo (the user part).
type Limit struct {
	Avg   uint32 // average seconds between packets * XT_LIMIT_SCALE
	Burst uint32
}

// parseLimitRate is parse_rate of libxt_limit: ok false for a bad rate, an
// error for one that maps to infinity.
func parseLimitRate(rate string) (uint32, bool, error) {
	mult := uint32(1)
	if i := strings.IndexByte(rate, '/'); i >= 0 {
		unit := rate[i+1:]
		switch {
		case unit == "":
			return 0, false, nil
		case prefixFold(unit, "second"):
			mult = 1
		case prefixFold(unit, "minute"):
			mult = 60
		case prefixFold(unit, "hour"):
			mult = 3600
		case prefixFold(unit, "day"):
			mult = 86400
		default:
			return 0, false, nil
		}
	}
	r := uint32(atoi(rate))
	if r == 0 {
		return 0, false, nil
	}
	v := limitScale * mult / r
	if v == 0 {
		return 0, false, xtables.Errorf("Rate too fast \"%s\"", rate)
	}
	return v, true, nil
}

// prefixFold is strncasecmp(s, word, strlen(s)) == 0 (s non-empty).
func prefixFold(s, word string) bool {
	return len(s) <= len(word) && strings.EqualFold(s, word[:len(s)])
}

func (l *Limit) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case limitOptLimit:
		v, ok, err := parseLimitRate(c.Arg)
		if err != nil {
			return err
		}
		if !ok {
			return xtables.Errorf("bad rate \"%s\"'", c.Arg)
		}
		l.Avg = v
	case limitOptBurst:
		l.Burst = uint32(c.Val.U64)
	}
	if c.Invert {
		return xtables.Errorf("limit does not support invert")
	}
	return nil
}

var limitMults = [4]uint32{limitScale * 86400, limitScale * 3600, limitScale * 60, limitScale}

// Final stores what the kernel gives back: the nft limit expression holds
// rate and unit (add_nft_limit), and a burst of 0 becomes the default of 5
// (nft_limit_init).
func (l *Limit) Final(f *xtables.FinalCall) error {
	if l.Avg != 0 {
		i := 1
		for ; i < len(limitMults); i++ {
			if l.Avg > limitMults[i] || limitMults[i]/l.Avg < limitMults[i]%l.Avg {
				break
			}
		}
		rate := uint64(limitMults[i-1] / l.Avg)
		unit := uint64(limitMults[i-1] / limitScale)
		if rate != 0 {
			l.Avg = uint32(limitScale * unit / rate)
		}
	}
	if l.Burst == 0 {
		l.Burst = limitDefaultBurst
	}
	return nil
}

var limitRateNames = [4]string{"day", "hour", "min", "sec"}

// appendLimitRate is print_rate of libxt_limit.
func appendLimitRate(b []byte, period uint32) []byte {
	if period == 0 {
		return append(b, " "+cInf...)
	}
	i := 1
	for ; i < len(limitMults); i++ {
		if period > limitMults[i] || limitMults[i]/period < limitMults[i]%period {
			break
		}
	}
	b = append(b, ' ')
	b = xtables.AppendUint(b, uint64(limitMults[i-1]/period))
	b = append(b, '/')
	return append(b, limitRateNames[i-1]...)
}

// cInf is printf("%f", INFINITY).
const cInf = "inf"

func (l *Limit) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " limit: avg"...)
	b = appendLimitRate(b, l.Avg)
	b = append(b, " burst "...)
	return xtables.AppendUint(b, uint64(l.Burst))
}

func (l *Limit) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --limit"...)
	b = appendLimitRate(b, l.Avg)
	if l.Burst != limitDefaultBurst {
		b = append(b, " --limit-burst "...)
		b = xtables.AppendUint(b, uint64(l.Burst))
	}
	return b
}
