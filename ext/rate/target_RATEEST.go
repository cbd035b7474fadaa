package rate

import (
	"math"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// RATEEST target (libxt_RATEEST.c, xt_RATEEST.h): names a rate estimator
// that rateest matches compare against.

const (
	rateestOptName uint = iota
	rateestOptInterval
	rateestOptEwmalog
)

const (
	timeUnitsPerSec = 1000000
	ifNameSize      = 16 // IFNAMSIZ
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "RATEEST",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "rateest-name", ID: rateestOptName, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "rateest-interval", ID: rateestOptInterval, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "rateest-ewmalog", ID: rateestOptEwmalog, Type: xtables.TypeString, Flags: xtables.Mand},
		},
		New: func() xtables.TargetInfo { return &RATEEST{} },
	})
}

// RATEEST is struct xt_rateest_target_info (the user part).
type RATEEST struct {
	Name     string
	Interval int8
	EwmaLog  uint8

	// struct rateest_tg_udata: the times as given, in microseconds.
	uInterval, uEwmaLog uint32

	e      *estimator // the estimator, found or made by the first packet
	shared *Shared    // the host registry e came from (nil: own)
}

// doubleToUint is the C conversion of a double to unsigned int on x86-64
// (through a 64-bit integer; out of range gives 0x8000000000000000).
func doubleToUint(t float64) uint32 {
	if math.IsNaN(t) || t >= 1<<63 || t < -(1<<63) {
		return 0
	}
	return uint32(int64(t))
}

// rateestGetTime is RATEEST_get_time: a number of microseconds, or one
// with a s/ms/us suffix.
func rateestGetTime(str string) (uint32, bool) {
	t, n := strtod(str)
	if n == 0 {
		return 0, false
	}
	if p := str[n:]; p != "" {
		switch strings.ToLower(p) {
		case "s", "sec", "secs":
			t *= timeUnitsPerSec
		case "ms", "msec", "msecs":
			t *= timeUnitsPerSec / 1000
		case "us", "usec", "usecs":
			t *= timeUnitsPerSec / 1000000
		default:
			return 0, false
		}
	}
	return doubleToUint(t), true
}

func (r *RATEEST) Parse(c *xtables.OptionCall) error {
	var ok bool
	switch c.Opt.ID {
	case rateestOptName:
		r.Name = cString(c.Arg, ifNameSize)
	case rateestOptInterval:
		if r.uInterval, ok = rateestGetTime(c.Arg); !ok {
			return xtables.Errorf("RATEEST: bad interval value \"%s\"", c.Arg)
		}
	case rateestOptEwmalog:
		if r.uEwmaLog, ok = rateestGetTime(c.Arg); !ok {
			return xtables.Errorf("RATEEST: bad ewmalog value \"%s\"", c.Arg)
		}
	}
	return nil
}

// Final is RATEEST_final_check: the interval as a power of two of 250ms
// (-2 for 250ms … 3 for 8s) and the averaging constant as its log. It runs
// before the check for missing options, with zero for a time not given.
func (r *RATEEST) Final(f *xtables.FinalCall) error {
	iv := 0
	for ; iv <= 5; iv++ {
		if uint64(r.uInterval) <= uint64(1<<iv)*(timeUnitsPerSec/4) {
			break
		}
	}
	if iv > 5 {
		return xtables.Errorf("RATEEST: interval value is too large")
	}
	r.Interval = int8(iv - 2)
	e := 1
	for ; e < 32; e++ {
		w := 1.0 - 1.0/float64(int32(1)<<e)
		if float64(r.uInterval)/(-math.Log(w)) > float64(r.uEwmaLog) {
			break
		}
	}
	e--
	if e == 0 || e >= 31 {
		return xtables.Errorf("RATEEST: ewmalog value is out of range")
	}
	r.EwmaLog = uint8(e)
	return nil
}

// Check is xt_rateest_tg_checkentry: an estimator of that name that
// exists already must have the same parameters.
func (r *RATEEST) Check(ctx *xtables.Context) error {
	p := estParams{Interval: r.Interval, EwmaLog: r.EwmaLog, known: true}
	if old, ok := lookupEstimator(ctx, r.Name); ok {
		if old.known && old != p {
			return xtables.ErrInvalidArgument
		}
		return nil
	}
	addEstimator(ctx, r.Name, p)
	return nil
}

// appendRateestTime is RATEEST_print_time.
func appendRateestTime(b []byte, t uint32) []byte {
	v := float64(t)
	switch {
	case v >= timeUnitsPerSec:
		b = strconv.AppendFloat(append(b, ' '), v/timeUnitsPerSec, 'f', 1, 64)
		return append(b, 's')
	case v >= timeUnitsPerSec/1000:
		b = strconv.AppendFloat(append(b, ' '), v/(timeUnitsPerSec/1000), 'f', 1, 64)
		return append(b, "ms"...)
	}
	b = strconv.AppendUint(append(b, ' '), uint64(t), 10)
	return append(b, "us"...)
}

func (r *RATEEST) appendInfo(b []byte, prefix string) []byte {
	interval := uint32(timeUnitsPerSec<<uint(int(r.Interval)+2)) / 4
	ewma := interval * (uint32(1) << r.EwmaLog)
	b = append(b, " "+prefix+"name "...)
	b = append(b, r.Name...)
	b = appendRateestTime(append(b, " "+prefix+"interval"...), interval)
	return appendRateestTime(append(b, " "+prefix+"ewmalog"...), ewma)
}

func (r *RATEEST) Print(b []byte, ctx *xtables.Context) []byte {
	return r.appendInfo(b, "")
}

func (r *RATEEST) Save(b []byte, ctx *xtables.Context) []byte {
	return r.appendInfo(b, "--rateest-")
}
