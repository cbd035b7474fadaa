package l4

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// mh match, IPv6 mobility header (libip6t_mh.c, struct ip6t_mh).

const mhInvType = 0x01 // IP6T_MH_INV_TYPE

var mhNames = []struct {
	name string
	typ  uint8
}{
	{"binding-refresh-request", 0}, {"brr", 0},
	{"home-test-init", 1}, {"hoti", 1},
	{"careof-test-init", 2}, {"coti", 2},
	{"home-test", 3}, {"hot", 3},
	{"careof-test", 4}, {"cot", 4},
	{"binding-update", 5}, {"bu", 5},
	{"binding-acknowledgement", 6}, {"ba", 6},
	{"binding-error", 7}, {"be", 7},
}

func init() {
	var help strings.Builder
	help.WriteString("mh match options:\n[!] --mh-type type[:type]\tmatch mh type\nValid MH types:")
	for i, n := range mhNames {
		if i > 0 && n.typ == mhNames[i-1].typ {
			help.WriteString(" (" + n.name + ")")
		} else {
			help.WriteString("\n" + n.name)
		}
	}
	help.WriteString("\n")
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "mh",
		Family:    xtables.IPv6,
		Options: []xtables.Option{
			{Name: "mh-type", ID: 0, Type: xtables.TypeString, Flags: xtables.Invert},
		},
		New:  func() xtables.MatchInfo { return &MH{Types: [2]uint8{0, 0xFF}} },
		Help: help.String(),
	})
}

// MH is struct ip6t_mh.
type MH struct {
	Types    [2]uint8
	InvFlags uint8
}

// mhNameToType is name_to_type: the first name the argument abbreviates,
// unless a later one equals it; else a number 0..255.
func mhNameToType(s string) (uint8, error) {
	match := -1
	for i, n := range mhNames {
		if len(s) <= len(n.name) && strings.EqualFold(n.name[:len(s)], s) {
			if match < 0 || len(n.name) == len(s) {
				match = i
			}
		}
	}
	if match >= 0 {
		return mhNames[match].typ, nil
	}
	v, ok := xtables.StrToUintAll(s, 0, 255)
	if !ok {
		return 0, xtables.Errorf("Invalid MH type `%s'", s)
	}
	return uint8(v), nil
}

func (m *MH) Parse(c *xtables.OptionCall) error {
	lo, hi, isRange := strings.Cut(c.Arg, ":")
	if !isRange {
		t, err := mhNameToType(lo)
		if err != nil {
			return err
		}
		m.Types = [2]uint8{t, t}
	} else {
		m.Types = [2]uint8{0, 0xFF}
		var err error
		if lo != "" {
			if m.Types[0], err = mhNameToType(lo); err != nil {
				return err
			}
		}
		if hi != "" {
			if m.Types[1], err = mhNameToType(hi); err != nil {
				return err
			}
		}
		if m.Types[0] > m.Types[1] {
			return xtables.Errorf("Invalid MH type range (min > max)")
		}
	}
	if c.Invert {
		m.InvFlags |= mhInvType
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p mh).
func (m *MH) Check(ctx *xtables.Context) error { return checkProto(ctx, 135) }

func appendMHType(b []byte, t uint8, numeric bool) []byte {
	if !numeric {
		for _, n := range mhNames {
			if n.typ == t {
				return append(b, n.name...)
			}
		}
	}
	return xtables.AppendUint(b, uint64(t))
}

func (m *MH) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " mh"...)
	inv := m.InvFlags&mhInvType != 0
	if m.Types != [2]uint8{0, 0xFF} || inv {
		b = append(b, ' ')
		if inv {
			b = append(b, '!')
		}
		b = appendMHType(b, m.Types[0], ctx.Numeric)
		if m.Types[0] != m.Types[1] {
			b = append(b, ':')
			b = appendMHType(b, m.Types[1], ctx.Numeric)
		}
	}
	if m.InvFlags&^mhInvType != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(m.InvFlags&^mhInvType))
	}
	return b
}

func (m *MH) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Types == [2]uint8{0, 0xFF} && !(ctx.State && m.InvFlags&mhInvType != 0) {
		return b // an inverted full range too, except in the state file
	}
	return appendSaveRange(b, "--mh-type", uint64(m.Types[0]), uint64(m.Types[1]), m.InvFlags&mhInvType != 0)
}

// MatchPacket is mh_mt6 (ip6t_mh.c): a mobility header whose payload
// protocol is not "no next header" is dropped.
func (m *MH) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	mh := in.header(6)
	if mh == nil || mh[0] != 59 {
		st.HotDrop = true
		return false
	}
	return (mh[2] >= m.Types[0] && mh[2] <= m.Types[1]) != (m.InvFlags&mhInvType != 0)
}
