package rate

import (
	"math"
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// statistic match (libxt_statistic.c, xt_statistic.h).

const (
	statOptMode uint = iota
	statOptProbability
	statOptEvery
	statOptPacket
)

const (
	statModeRandom = 0 // XT_STATISTIC_MODE_RANDOM
	statModeNth    = 1
	statInvert     = 0x1
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "statistic",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "mode", ID: statOptMode, Type: xtables.TypeString, Flags: xtables.Mand},
			// XTTYPE_DOUBLE parsed here with strtod, as libxtables does.
			{Name: "probability", ID: statOptProbability, Type: xtables.TypeString, Flags: xtables.Invert,
				Excl: 1<<statOptEvery | 1<<statOptPacket},
			{Name: "every", ID: statOptEvery, Type: xtables.TypeUint32, Min: 1, Flags: xtables.Invert,
				Excl: 1 << statOptProbability, Also: 1 << statOptPacket},
			{Name: "packet", ID: statOptPacket, Type: xtables.TypeUint32,
				Excl: 1 << statOptProbability, Also: 1 << statOptEvery},
		},
		New: func() xtables.MatchInfo { return &Statistic{} },
	})
}

// Statistic is struct xt_statistic_info; Probability is u.random, Every,
// Packet and Count are u.nth. Probability and Every share their storage
// in the C union, so Parse keeps them equal.
type Statistic struct {
	Mode, Flags   uint16
	Probability   uint32
	Every, Packet uint32
	Count         uint32

	count   uint32 // the kernel's master->count
	started bool
}

func (s *Statistic) Parse(c *xtables.OptionCall) error {
	if c.Invert {
		s.Flags |= statInvert
	}
	switch c.Opt.ID {
	case statOptMode:
		switch c.Arg {
		case "random":
			s.Mode = statModeRandom
		case "nth":
			s.Mode = statModeNth
		default:
			return xtables.Errorf("Bad mode \"%s\"", c.Arg)
		}
	case statOptProbability:
		v, n := strtod(c.Arg)
		if n == 0 || n != len(c.Arg) || v < 0 || v > 1 {
			return xtables.Errorf("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", c.Ext, c.Opt.Name, 0, 1)
		}
		s.Probability = lround32(0x80000000 * v)
		s.Every = s.Probability
	case statOptEvery:
		s.Every = uint32(c.Val.U64) - 1
		s.Probability = s.Every
	case statOptPacket:
		s.Packet = uint32(c.Val.U64)
	}
	return nil
}

// lround32 is (uint32_t)lround(v) on x86-64 (NaN gives LONG_MIN).
func lround32(v float64) uint32 {
	if math.IsNaN(v) {
		return 0
	}
	return uint32(int64(math.Round(v)))
}

func (s *Statistic) Final(f *xtables.FinalCall) error {
	if s.Mode == statModeRandom && !f.Has(statOptProbability) {
		return xtables.Errorf("--probability must be specified when using random mode")
	}
	if s.Mode == statModeNth && !f.Has(statOptEvery) && !f.Has(statOptPacket) {
		return xtables.Errorf("--every and --packet must be specified when using nth mode")
	}
	// Every is already decreased.
	if s.Packet > s.Every {
		return xtables.Errorf("the --packet p must be 0 <= p <= n-1")
	}
	s.Count = s.Every - s.Packet
	return nil
}

func (s *Statistic) appendMatch(b []byte, prefix string) []byte {
	inv := ""
	if s.Flags&statInvert != 0 {
		inv = " !"
	}
	switch s.Mode {
	case statModeRandom:
		b = append(b, " "+prefix+"mode random"+inv+" "+prefix+"probability "...)
		b = strconv.AppendFloat(b, float64(s.Probability)/0x80000000, 'f', 11, 64)
	case statModeNth:
		b = append(b, " "+prefix+"mode nth"+inv+" "+prefix+"every "...)
		b = xtables.AppendUint(b, uint64(s.Every+1))
		if s.Packet != 0 || prefix != "" {
			b = append(b, " "+prefix+"packet "...)
			b = xtables.AppendUint(b, uint64(s.Packet))
		}
	}
	return b
}

func (s *Statistic) Print(b []byte, ctx *xtables.Context) []byte {
	return s.appendMatch(append(b, " statistic"...), "")
}

func (s *Statistic) Save(b []byte, ctx *xtables.Context) []byte {
	return s.appendMatch(b, "--")
}

// MatchPacket is statistic_mt: random mode draws get_random_u32() (the
// host's Random) against the probability in 31 bits; nth mode counts
// every packet through 0..n-1 and matches when the counter comes round
// to 0, the counter starting at n-1-packet (libxt_statistic's count), so
// that packet p+1, p+1+n, ... match (measured: testdata/kernel-rate.txt).
func (s *Statistic) MatchPacket(st *xtables.PacketState) bool {
	ret := s.Flags&statInvert != 0
	switch s.Mode {
	case statModeRandom:
		if st.Env.Random()&0x7FFFFFFF < s.Probability {
			ret = !ret
		}
	case statModeNth:
		if !s.started {
			s.started, s.count = true, s.Count
		}
		if s.count == s.Every {
			s.count = 0
		} else {
			s.count++
		}
		if s.count == 0 {
			ret = !ret
		}
	}
	return ret
}
