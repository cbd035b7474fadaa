package mangle

import "github.com/iptwin/iptwin/xtables"

// TTL target (libipt_TTL.c, struct ipt_TTL_info). Mangle table only.

const (
	ttlOptSet uint = iota
	ttlOptInc
	ttlOptDec
	ttlAny = 1<<ttlOptSet | 1<<ttlOptInc | 1<<ttlOptDec
)

// Modes of TTL.
const (
	TTLSet uint8 = iota
	TTLInc
	TTLDec
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "TTL",
		Family: xtables.IPv4,
		Options: []xtables.Option{
			{Name: "ttl-set", ID: ttlOptSet, Type: xtables.TypeUint8, Excl: ttlAny},
			{Name: "ttl-dec", ID: ttlOptDec, Type: xtables.TypeUint8, Excl: ttlAny, Min: 1},
			{Name: "ttl-inc", ID: ttlOptInc, Type: xtables.TypeUint8, Excl: ttlAny, Min: 1},
		},
		New: func() xtables.TargetInfo { return &TTL{} },
	})
}

// TTL is the kernel's info struct.
type TTL struct {
	Mode uint8
	TTL  uint8
}

func (t *TTL) Parse(c *xtables.OptionCall) error {
	t.TTL = uint8(c.Val.U64)
	switch c.Opt.ID {
	case ttlOptSet:
		t.Mode = TTLSet
	case ttlOptInc:
		t.Mode = TTLInc
	case ttlOptDec:
		t.Mode = TTLDec
	}
	return nil
}

func (t *TTL) Final(f *xtables.FinalCall) error {
	if f.XFlags&ttlAny == 0 {
		return xtables.Errorf("TTL: You must specify an action")
	}
	return nil
}

func (t *TTL) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " TTL "...)
	switch t.Mode {
	case TTLSet:
		b = append(b, "set to"...)
	case TTLDec:
		b = append(b, "decrement by"...)
	case TTLInc:
		b = append(b, "increment by"...)
	}
	b = append(b, ' ')
	return xtables.AppendUint(b, uint64(t.TTL))
}

func (t *TTL) Save(b []byte, ctx *xtables.Context) []byte {
	switch t.Mode {
	case TTLSet:
		b = append(b, " --ttl-set"...)
	case TTLDec:
		b = append(b, " --ttl-dec"...)
	case TTLInc:
		b = append(b, " --ttl-inc"...)
	}
	b = append(b, ' ')
	return xtables.AppendUint(b, uint64(t.TTL))
}

// Check is ttl_tg_check: mangle table, a known mode, no zero step.
func (t *TTL) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" || t.Mode > TTLDec || (t.Mode != TTLSet && t.TTL == 0) {
		return errInval
	}
	return nil
}

// TargetPacket is ttl_tg: set, increase (to 255 at most) or decrease (to
// 0 at least) the TTL.
func (t *TTL) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	h := &st.Pkt.Headers
	if h.IsIPv4() {
		if nt := newHopCount(h.IPv4.TTL, t.Mode, t.TTL); nt != h.IPv4.TTL {
			h.SetTTL(nt)
		}
	}
	return xtables.VerdictCodeContinue
}

// newHopCount is the arithmetic of ttl_tg and hl_tg6.
func newHopCount(cur, mode, v uint8) uint8 {
	n := int(cur)
	switch mode {
	case TTLSet:
		n = int(v)
	case TTLInc:
		n += int(v)
		if n > 255 {
			n = 255
		}
	case TTLDec:
		n -= int(v)
		if n < 0 {
			n = 0
		}
	}
	return uint8(n)
}
