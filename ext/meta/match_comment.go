package meta

import "github.com/iptwin/iptwin/xtables"

// comment match (libxt_comment.c, xt_comment.h).

const commentMaxLen = 256 // XT_MAX_COMMENT_LEN, including the NUL

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "comment",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "comment", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand},
		},
		New: func() xtables.MatchInfo { return &Comment{} },
		Help: "comment match options:\n" +
			"--comment COMMENT             Attach a comment to a rule\n",
	})
}

// Comment is struct xt_comment_info.
type Comment struct {
	Comment string
}

func (m *Comment) Parse(c *xtables.OptionCall) error {
	s := c.Arg
	// XTOPT_PUT copies at most sizeof(comment)-1 bytes.
	if len(s) >= commentMaxLen {
		s = s[:commentMaxLen-1]
	}
	m.Comment = cstr(s)
	return nil
}

func (m *Comment) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " /* "...)
	b = append(b, m.Comment...)
	return append(b, " */"...)
}

func (m *Comment) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --comment"...)
	return appendSaveString(b, m.Comment)
}

// MatchPacket: a comment always matches (xt_comment.c).
func (m *Comment) MatchPacket(st *xtables.PacketState) bool { return true }
