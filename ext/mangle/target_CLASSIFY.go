package mangle

import "github.com/iptwin/iptwin/xtables"

// CLASSIFY target (libxt_CLASSIFY.c, struct xt_classify_target_info):
// sets skb->priority to a tc class handle. Any table (the kernel no longer
// limits it to mangle); OUTPUT, FORWARD and POSTROUTING only.

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "CLASSIFY",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "set-class", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand},
		},
		New: func() xtables.TargetInfo { return &Classify{} },
	})
}

// Classify is struct xt_classify_target_info.
type Classify struct {
	Priority uint32
}

// scanHex is one sscanf "%x" conversion: blanks, an optional sign, an
// optional 0x, hex digits; it returns the value (as unsigned int) and the
// rest.
func scanHex(s string) (uint32, string, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && hexVal(s[i+2]) >= 0 {
		i += 2
	}
	start := i
	var v uint64
	over := false
	for i < len(s) && hexVal(s[i]) >= 0 {
		v = v<<4 | uint64(hexVal(s[i]))
		if v > 0xffffffff {
			over = true
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	if over {
		v = 0xffffffff
	}
	if neg {
		v = -v
	}
	return uint32(v), s[i:], true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (t *Classify) Parse(c *xtables.OptionCall) error {
	bad := xtables.Errorf("Bad class value \"%s\"", c.Arg)
	maj, rest, ok := scanHex(c.Arg)
	if !ok || rest == "" || rest[0] != ':' {
		return bad
	}
	min, _, ok := scanHex(rest[1:])
	if !ok {
		return bad
	}
	t.Priority = maj<<16&0xffff0000 | min&0xffff
	return nil
}

func (t *Classify) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " CLASSIFY set "...)
	b = appendHexDigits(b, uint64(t.Priority>>16), 0)
	b = append(b, ':')
	return appendHexDigits(b, uint64(t.Priority&0xffff), 0)
}

func (t *Classify) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --set-class "...)
	b = appendHexDigits(b, uint64(t.Priority>>16), 4)
	b = append(b, ':')
	return appendHexDigits(b, uint64(t.Priority&0xffff), 4)
}

// appendHexDigits is printf("%.Nx").
func appendHexDigits(b []byte, v uint64, n int) []byte {
	x := appendHexN(nil, v, n)
	return append(b, x[2:]...)
}

func (t *Classify) Check(ctx *xtables.Context) error {
	if hooksOutside(ctx, 1<<xtables.HookOutput|1<<xtables.HookForward|1<<xtables.HookPostrouting) {
		return errInval
	}
	return nil
}

// TargetPacket is classify_tg: skb->priority = the class (given to the
// host when it keeps priorities).
func (c *Classify) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if h, ok := st.Env.(PriorityHost); ok {
		h.SetPriority(st, c.Priority)
	}
	return xtables.VerdictCodeContinue
}
