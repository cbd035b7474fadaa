package rate

import (
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// hashlimit match, revision 3 (libxt_hashlimit.c, struct
// xt_hashlimit_mtinfo3): per-flow token buckets, in packets or bytes.

const (
	hlOptUpto uint = iota
	hlOptAbove
	hlOptLimit // O_LIMIT: unused, kept for the numbering
	hlOptMode
	hlOptSrcmask
	hlOptDstmask
	hlOptName
	hlOptBurst
	hlOptHtableSize
	hlOptHtableMax
	hlOptHtableGCInt
	hlOptHtableExpire
	hlOptRateMatch
	hlOptInterval
)

const (
	hlHashDIP   = 1 << 0 // XT_HASHLIMIT_HASH_DIP
	hlHashDPT   = 1 << 1
	hlHashSIP   = 1 << 2
	hlHashSPT   = 1 << 3
	hlInvert    = 1 << 4
	hlBytes     = 1 << 5
	hlRateMatch = 1 << 6
	hlHashAny   = hlHashDIP | hlHashDPT | hlHashSIP | hlHashSPT

	hlScale            = 1000000 // XT_HASHLIMIT_SCALE_v2
	hlBurstDefault     = 5
	hlBurstMax         = 1000000
	hlByteShift        = 4
	hlByteExpire       = 15
	hlByteExpireBurst  = 60
	hlGCInterval       = 1000
	hlNameSize         = 255     // NAME_MAX
	hlMaxSize          = 1048576 // HASHLIMIT_MAX_SIZE of the kernel
	hlCreditsPerJiffyK = 137438953
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "hashlimit",
		Revision: 3,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "hashlimit-upto", ID: hlOptUpto, Excl: 1 << hlOptAbove, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "hashlimit-above", ID: hlOptAbove, Excl: 1 << hlOptUpto, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "hashlimit", ID: hlOptUpto, Excl: 1 << hlOptAbove, Type: xtables.TypeString, Flags: xtables.Invert},
			// XTTYPE_PLEN, parsed here: a mask is read with getaddrinfo.
			{Name: "hashlimit-srcmask", ID: hlOptSrcmask, Type: xtables.TypeString},
			{Name: "hashlimit-dstmask", ID: hlOptDstmask, Type: xtables.TypeString},
			{Name: "hashlimit-burst", ID: hlOptBurst, Type: xtables.TypeString},
			{Name: "hashlimit-htable-size", ID: hlOptHtableSize, Type: xtables.TypeUint32},
			{Name: "hashlimit-htable-max", ID: hlOptHtableMax, Type: xtables.TypeUint32},
			{Name: "hashlimit-htable-gcinterval", ID: hlOptHtableGCInt, Type: xtables.TypeUint32},
			{Name: "hashlimit-htable-expire", ID: hlOptHtableExpire, Type: xtables.TypeUint32},
			{Name: "hashlimit-mode", ID: hlOptMode, Type: xtables.TypeString},
			{Name: "hashlimit-name", ID: hlOptName, Type: xtables.TypeString, Flags: xtables.Mand, Min: 1},
			{Name: "hashlimit-rate-match", ID: hlOptRateMatch, Type: xtables.TypeNone},
			{Name: "hashlimit-rate-interval", ID: hlOptInterval, Type: xtables.TypeString},
		},
		New: func() xtables.MatchInfo {
			return &Hashlimit{Burst: hlBurstDefault, GCInterval: hlGCInterval}
		},
	})
}

// Hashlimit is struct xt_hashlimit_mtinfo3 (name and hashlimit_cfg3).
// Srcmask and Dstmask not given are the family's length (set in Final).
type Hashlimit struct {
	Name       string
	Avg        uint64
	Burst      uint64
	Mode       uint32
	Size       uint32
	Max        uint32
	GCInterval uint32
	Expire     uint32
	Interval   uint32
	Srcmask    uint8
	Dstmask    uint8

	mult           uint32 // struct hashlimit_mt_udata: the rate's unit, parse only
	hasSrc, hasDst bool   // the masks were given

	state  *hlTable       // the table, found or made by the first packet
	shared *Shared        // the host registry state came from (nil: own)
	fam    xtables.Family // the family state was made for
}

func costToBytes(cost uint64) uint64 {
	r := uint64(math.MaxUint32)
	if cost != 0 {
		r = math.MaxUint32 / cost
	}
	return (r - 1) << hlByteShift
}

func bytesToCost(bytes uint64) uint64 {
	r := uint32(bytes >> hlByteShift)
	if r+1 == 0 { // a division by zero (SIGFPE) in the C code
		return 0
	}
	return math.MaxUint32 / uint64(r+1)
}

func unitFactor(c byte) uint64 {
	switch c {
	case 'm':
		return 1024 * 1024
	case 'k':
		return 1024
	}
	return 1
}

func hlBurstError() error {
	return xtables.Errorf("bad value for option \"--hashlimit-burst\", or out of range (1-%d).", hlBurstMax)
}

// parseBurst is parse_burst (revision 2 and up).
func parseBurst(s string) (uint64, error) {
	v, end, ok := xtables.StrToUint(s, 1, math.MaxUint64)
	if !ok || end == "" && v > hlBurstMax {
		return 0, hlBurstError()
	}
	if end != "" {
		v *= unitFactor(end[0])
	}
	return v, nil
}

// parseBytes is parse_bytes: "<n>[k|m]b/s" as a cost per chunk.
func (h *Hashlimit) parseBytes(rate string) (bool, error) {
	i := strings.Index(rate, "b/s")
	if i <= 0 {
		return false, nil
	}
	r := uint64(atoll(rate))
	if r == 0 {
		return false, nil
	}
	tmp := bytesToCost(r * unitFactor(rate[i-1]))
	if tmp == 0 {
		return false, xtables.Errorf("Rate too high \"%s\"", rate)
	}
	h.mult = hlByteExpire
	h.Avg = tmp
	return true, nil
}

// parseRate is parse_rate (revision 2 and up).
func (h *Hashlimit) parseRate(rate string) (bool, error) {
	h.mult = 1
	if i := strings.IndexByte(rate, '/'); i >= 0 {
		unit := rate[i+1:]
		switch {
		case unit == "":
			return false, nil
		case prefixFold(unit, "second"):
			h.mult = 1
		case prefixFold(unit, "minute"):
			h.mult = 60
		case prefixFold(unit, "hour"):
			h.mult = 3600
		case prefixFold(unit, "day"):
			h.mult = 86400
		default:
			return false, nil
		}
	}
	r := uint64(atoll(rate))
	if r == 0 {
		return false, nil
	}
	tmp := hlScale * uint64(h.mult) / r
	if tmp == 0 {
		return false, xtables.Errorf("Rate too fast \"%s\"", rate)
	}
	h.Avg = tmp
	return true, nil
}

func (h *Hashlimit) parseMode(arg string) bool {
	for _, tok := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == '|' }) {
		switch tok {
		case "dstip":
			h.Mode |= hlHashDIP
		case "srcip":
			h.Mode |= hlHashSIP
		case "srcport":
			h.Mode |= hlHashSPT
		case "dstport":
			h.Mode |= hlHashDPT
		default:
			return false
		}
	}
	return true
}

func badValue(opt, arg string) error {
	return xtables.Errorf("%s: Bad value for \"%s\" option: \"%s\"", "hashlimit", opt, arg)
}

func (h *Hashlimit) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case hlOptBurst:
		v, err := parseBurst(c.Arg)
		if err != nil {
			return err
		}
		h.Burst = v
	case hlOptUpto, hlOptAbove:
		if c.Invert == (c.Opt.ID == hlOptUpto) {
			h.Mode |= hlInvert
		}
		ok, err := h.parseBytes(c.Arg)
		if err != nil {
			return err
		}
		if ok {
			h.Mode |= hlBytes
			break
		}
		if ok, err = h.parseRate(c.Arg); err != nil {
			return err
		}
		if !ok {
			return badValue("--"+[2]string{"hashlimit-upto", "hashlimit-above"}[c.Opt.ID], c.Arg)
		}
	case hlOptMode:
		if !h.parseMode(c.Arg) {
			return badValue("--hashlimit-mode", c.Arg)
		}
	case hlOptSrcmask, hlOptDstmask:
		n, err := parsePlen(c)
		if err != nil {
			return err
		}
		if c.Opt.ID == hlOptSrcmask {
			h.Srcmask, h.hasSrc = n, true
		} else {
			h.Dstmask, h.hasDst = n, true
		}
	case hlOptName:
		h.Name = cString(c.Arg, hlNameSize)
	case hlOptHtableSize:
		h.Size = uint32(c.Val.U64)
	case hlOptHtableMax:
		h.Max = uint32(c.Val.U64)
	case hlOptHtableGCInt:
		h.GCInterval = uint32(c.Val.U64)
	case hlOptHtableExpire:
		h.Expire = uint32(c.Val.U64)
	case hlOptRateMatch:
		h.Mode |= hlRateMatch
	case hlOptInterval:
		r := atoi(c.Arg)
		if r <= 0 {
			return badValue("--hashlimit-rate-interval", c.Arg)
		}
		h.Interval = uint32(r)
	}
	return nil
}

// Final is hashlimit_mt_check of libxt_hashlimit; it also puts in the
// family's prefix length for masks not given (hashlimit_mt[46]_init).
func (h *Hashlimit) Final(f *xtables.FinalCall) error {
	bits := uint8(f.Ctx.Family.Bits())
	if !h.hasSrc {
		h.Srcmask = bits
	}
	if !h.hasDst {
		h.Dstmask = bits
	}
	if !f.Has(hlOptUpto) && !f.Has(hlOptAbove) {
		return xtables.Errorf("You have to specify --hashlimit")
	}
	if !f.Has(hlOptHtableExpire) {
		h.Expire = h.mult * 1000
	}
	if h.Mode&hlBytes != 0 {
		var burst uint32
		if f.Has(hlOptBurst) {
			unit := costToBytes(h.Avg)
			if h.Burst < unit {
				return xtables.Errorf("burst cannot be smaller than %db", unit)
			}
			burst = uint32(uint64(uint32(h.Burst)) / unit)
			if h.Burst%unit != 0 {
				burst++
			}
			if !f.Has(hlOptHtableExpire) {
				h.Expire = hlByteExpireBurst * 1000
			}
		}
		h.Burst = uint64(burst)
	} else if h.Burst > hlBurstMax {
		return hlBurstError()
	}
	if f.Has(hlOptRateMatch) {
		if h.Mode&hlBytes == 0 && h.mult != 0 {
			h.Avg /= uint64(h.mult)
		}
		if h.Interval == 0 {
			if h.Mode&hlBytes != 0 {
				h.Interval = 1
			} else {
				h.Interval = h.mult
			}
		}
	}
	return nil
}

// Check is hashlimit_mt_check of the kernel. It also caps the table sizes
// as the kernel does in the rule it keeps.
func (h *Hashlimit) Check(ctx *xtables.Context) error {
	if h.Name == "." || h.Name == ".." || strings.IndexByte(h.Name, '/') >= 0 {
		return xtables.ErrInvalidArgument
	}
	if h.GCInterval == 0 || h.Expire == 0 {
		return xtables.ErrInvalidArgument
	}
	bits := uint8(ctx.Family.Bits())
	if h.Srcmask > bits || h.Dstmask > bits {
		return xtables.ErrInvalidArgument
	}
	if h.Max > hlMaxSize {
		h.Max = hlMaxSize
	}
	if h.Size > hlMaxSize {
		h.Size = hlMaxSize
	}
	// A table of that name in the family must agree on rate-match.
	rm := h.Mode&hlRateMatch != 0
	if old, ok := lookupHtable(ctx, h.Name); ok && old != rm {
		return xtables.ErrInvalidArgument
	}
	erange := &xtables.KernelError{Errno: "Numerical result out of range"}
	switch {
	case h.Mode&hlRateMatch != 0:
		if h.Avg == 0 || h.Avg > math.MaxUint32 {
			return erange
		}
		if h.Interval == 0 {
			return xtables.ErrInvalidArgument
		}
	case h.Mode&hlBytes != 0:
		if h.Avg == 0 {
			return xtables.ErrInvalidArgument
		}
	default:
		// user2credits(avg * burst) < user2credits(avg), in wrapping
		// 64-bit arithmetic.
		if h.Burst == 0 || h.Avg*h.Burst*hlCreditsPerJiffyK < h.Avg*hlCreditsPerJiffyK {
			return erange
		}
	}
	addHtable(ctx, h.Name, rm)
	return nil
}

var hlRates = [4]struct {
	name string
	mult uint64
}{
	{"day", hlScale * 86400}, {"hour", hlScale * 3600}, {"min", hlScale * 60}, {"sec", hlScale},
}

// appendHLRate is print_rate; it returns the default expiry in ms.
func appendHLRate(b []byte, period uint64) ([]byte, uint32) {
	if period == 0 {
		return append(b, " "+cInf...), 0
	}
	i := 1
	for ; i < len(hlRates); i++ {
		if period > hlRates[i].mult || hlRates[i].mult/period < hlRates[i].mult%period {
			break
		}
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, hlRates[i-1].mult/period, 10)
	b = append(b, '/')
	b = append(b, hlRates[i-1].name...)
	return b, uint32(hlRates[i-1].mult / hlScale * 1000)
}

var hlUnits = [3]struct {
	name   string
	thresh uint64
}{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}

// appendHLBytes is print_bytes; it returns the default expiry in ms.
func appendHLBytes(b []byte, avg, burst uint64, prefix string) ([]byte, uint32) {
	r := costToBytes(avg)
	i := 0
	for ; i < len(hlUnits)-1; i++ {
		if r >= hlUnits[i].thresh && bytesToCost(r&^(hlUnits[i].thresh-1)) == avg {
			break
		}
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, r/hlUnits[i].thresh, 10)
	b = append(b, hlUnits[i].name+"b/s"...)
	if burst == 0 {
		return b, hlByteExpire * 1000
	}
	r *= burst
	b = append(b, " "+prefix...)
	for i = 0; i < len(hlUnits)-1; i++ {
		if r >= hlUnits[i].thresh {
			break
		}
	}
	b = append(b, "burst "...)
	b = strconv.AppendUint(b, r/hlUnits[i].thresh, 10)
	b = append(b, hlUnits[i].name+"b"...)
	return b, hlByteExpireBurst * 1000
}

func appendHLMode(b []byte, mode uint32, sep byte) []byte {
	b = append(b, ' ')
	prev := false
	for _, m := range []struct {
		bit  uint32
		name string
	}{{hlHashSIP, "srcip"}, {hlHashSPT, "srcport"}, {hlHashDIP, "dstip"}, {hlHashDPT, "dstport"}} {
		if mode&m.bit == 0 {
			continue
		}
		if prev {
			b = append(b, sep)
		}
		b = append(b, m.name...)
		prev = true
	}
	return b
}

func appendU32(b []byte, s string, v uint32) []byte {
	return strconv.AppendUint(append(b, s...), uint64(v), 10)
}

func (h *Hashlimit) Print(b []byte, ctx *xtables.Context) []byte {
	if h.Mode&hlInvert != 0 {
		b = append(b, " limit: above"...)
	} else {
		b = append(b, " limit: up to"...)
	}
	var quantum uint32
	if h.Mode&hlBytes != 0 {
		b, quantum = appendHLBytes(b, h.Avg, h.Burst, "")
	} else {
		period := h.Avg
		if h.Interval != 0 {
			period *= uint64(h.Interval)
		}
		b, quantum = appendHLRate(b, period)
		b = strconv.AppendUint(append(b, " burst "...), h.Burst, 10)
	}
	if h.Mode&hlHashAny != 0 {
		b = appendHLMode(append(b, " mode"...), h.Mode, '-')
	}
	return h.appendTail(b, ctx, quantum, " ", "")
}

// appendTail renders the table parameters, masks and rate-match part that
// print and save share, with their option prefix.
func (h *Hashlimit) appendTail(b []byte, ctx *xtables.Context, quantum uint32, pfx, sub string) []byte {
	if h.Size != 0 {
		b = appendU32(b, pfx+sub+"htable-size ", h.Size)
	}
	if h.Max != 0 {
		b = appendU32(b, pfx+sub+"htable-max ", h.Max)
	}
	if h.GCInterval != hlGCInterval {
		b = appendU32(b, pfx+sub+"htable-gcinterval ", h.GCInterval)
	}
	if h.Expire != quantum {
		b = appendU32(b, pfx+sub+"htable-expire ", h.Expire)
	}
	bits := uint8(ctx.Family.Bits())
	if h.Srcmask != bits {
		b = appendU32(b, pfx+sub+"srcmask ", uint32(h.Srcmask))
	}
	if h.Dstmask != bits {
		b = appendU32(b, pfx+sub+"dstmask ", uint32(h.Dstmask))
	}
	if h.Mode&hlRateMatch != 0 {
		b = append(b, pfx+sub+"rate-match"...)
		if h.Interval != 1 {
			b = appendU32(b, pfx+sub+"rate-interval ", h.Interval)
		}
	}
	return b
}

func (h *Hashlimit) Save(b []byte, ctx *xtables.Context) []byte {
	if h.Mode&hlInvert != 0 {
		b = append(b, " --hashlimit-above"...)
	} else {
		b = append(b, " --hashlimit-upto"...)
	}
	var quantum uint32
	if h.Mode&hlBytes != 0 {
		b, quantum = appendHLBytes(b, h.Avg, h.Burst, "--hashlimit-")
	} else {
		b, quantum = appendHLRate(b, h.Avg)
		b = strconv.AppendUint(append(b, " --hashlimit-burst "...), h.Burst, 10)
	}
	if h.Mode&hlHashAny != 0 {
		b = appendHLMode(append(b, " --hashlimit-mode"...), h.Mode, ',')
	}
	b = append(b, " --hashlimit-name "...)
	b = append(b, h.Name...)
	return h.appendTail(b, ctx, quantum, " --", "hashlimit-")
}

// parsePlen is xtopt_parse_plen: a prefix length of the family, or a mask
// in numeric address form (getaddrinfo with AI_NUMERICHOST, so "33" is
// 0.0.0.33); a mask that is not a prefix gives 255 (the C -1 in a u8).
func parsePlen(c *xtables.OptionCall) (uint8, error) {
	bits := c.Ctx.Family.Bits()
	if v, ok := xtables.StrToUintAll(c.Arg, 0, uint64(bits)); ok {
		return uint8(v), nil
	}
	var m netip.Addr
	ok := false
	if c.Ctx.Family == xtables.IPv6 {
		m, ok = xtables.ParseIPv6Numeric(c.Arg)
	} else {
		m, ok = inetAton(c.Arg)
	}
	if !ok {
		return 0, xtables.Errorf("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (%d-%d).\n", c.Ext, c.Opt.Name, 0, bits)
	}
	return uint8(xtables.MaskBits(m)), nil
}
