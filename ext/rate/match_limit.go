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

	// the nft limit expression's bucket (struct nft_limit)
	tokens, last uint64
	started      bool
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

// nftRateUnit is what add_nft_limit sends for the rule: the rate per unit
// (in seconds), from the period kept in Avg.
func (l *Limit) nftRateUnit() (rate, unit uint64) {
	if l.Avg == 0 {
		return 0, 1
	}
	i := 1
	for ; i < len(limitMults); i++ {
		if l.Avg > limitMults[i] || limitMults[i]/l.Avg < limitMults[i]%l.Avg {
			break
		}
	}
	return uint64(limitMults[i-1] / l.Avg), uint64(limitMults[i-1] / limitScale)
}

// MatchPacket is nft_limit_pkts_eval (iptables-nft makes the limit match
// a native nft limit expression): a token bucket in nanoseconds holding
// burst packets' worth, each packet costing unit/rate seconds. The
// bucket starts full, as nft_limit_init leaves it when the rule is made.
func (l *Limit) MatchPacket(st *xtables.PacketState) bool {
	rate, unit := l.nftRateUnit()
	if rate == 0 {
		return true
	}
	nsecs := unit * 1000000000
	cost := nsecs / rate
	burst := uint64(l.Burst)
	if burst == 0 {
		burst = limitDefaultBurst
	}
	max := cost * burst
	now := uint64(st.Env.Now())
	if !l.started {
		l.started, l.tokens, l.last = true, max, now
	}
	tokens := l.tokens + now - l.last
	if tokens > max {
		tokens = max
	}
	l.last = now
	if delta := int64(tokens - cost); delta >= 0 {
		l.tokens = uint64(delta)
		return true
	}
	l.tokens = tokens
	return false
}
