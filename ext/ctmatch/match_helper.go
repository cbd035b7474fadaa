package ctmatch

import "github.com/iptwin/iptwin/xtables"

// helper match (libxt_helper.c, xt_helper.h).

// helperNameLen is sizeof(xt_helper_info.name); XTOPT_PUT keeps at most
// one less.
const helperNameLen = 30

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "helper",
		Family: xtables.AnyFamily,
		Help:   "helper match options:\n[!] --helper string        Match helper identified by string\n",
		Options: []xtables.Option{
			{Name: "helper", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Helper{} },
	})
}

// Helper is struct xt_helper_info.
type Helper struct {
	Invert int32
	Name   string
}

func (h *Helper) Parse(c *xtables.OptionCall) error {
	name := c.Arg
	if len(name) >= helperNameLen {
		name = name[:helperNameLen-1]
	}
	h.Name = name
	if c.Invert {
		h.Invert = 1
	}
	return nil
}

func (h *Helper) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " helper match "...)
	if h.Invert != 0 {
		b = append(b, "! "...)
	}
	b = append(b, '"')
	b = append(b, cstr(h.Name)...)
	return append(b, '"')
}

func (h *Helper) Save(b []byte, ctx *xtables.Context) []byte {
	if h.Invert != 0 {
		b = append(b, " !"...)
	}
	b = append(b, " --helper"...)
	return appendSaveString(b, cstr(h.Name))
}

// cstr is the string as C sees it, up to the first NUL.
func cstr(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// MatchPacket is helper_mt: the helper of the master connection of an
// expected one; an empty name matches any helper, and a name matches when
// it starts with the helper's name (strncmp over the helper's length).
func (h *Helper) MatchPacket(st *xtables.PacketState) bool {
	ret := h.Invert != 0
	if st.Ct == nil {
		return ret
	}
	m, ok := st.Ct.(ConnMaster)
	if !ok {
		return ret
	}
	master := m.Master()
	if master == nil {
		return ret
	}
	helper := master.Helper()
	if helper == "" {
		return ret
	}
	name := cstr(h.Name)
	if name == "" {
		return !ret
	}
	if len(name) >= len(helper) && name[:len(helper)] == helper {
		return !ret
	}
	return ret
}
