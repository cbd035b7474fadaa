package ctmatch

import "github.com/iptwin/iptwin/xtables"

// socket match (libxt_socket.c, xt_socket.h), revision 3.

const (
	sockOptTransparent uint = iota
	sockOptNoWildcard
	sockOptRestoreSkMark
)

const (
	sockTransparent   = 1 << 0 // XT_SOCKET_TRANSPARENT
	sockNoWildcard    = 1 << 1
	sockRestoreSkMark = 1 << 2
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "socket",
		Revision: 3,
		Family:   xtables.AnyFamily,
		// xt_socket registers its matches for PREROUTING and INPUT only.
		Hooks: hookMask(xtables.HookPrerouting, xtables.HookInput),
		Help: `socket match options:
  --nowildcard     Do not ignore LISTEN sockets bound on INADDR_ANY
  --transparent    Ignore non-transparent sockets
  --restore-skmark Set the packet mark to the socket mark if
                   the socket matches and transparent / 
                   nowildcard conditions are satisfied

`,
		Options: []xtables.Option{
			{Name: "transparent", ID: sockOptTransparent, Type: xtables.TypeNone},
			{Name: "nowildcard", ID: sockOptNoWildcard, Type: xtables.TypeNone},
			{Name: "restore-skmark", ID: sockOptRestoreSkMark, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &Socket{} },
	})
}

// Socket is struct xt_socket_mtinfo3.
type Socket struct {
	Flags uint8
}

func (s *Socket) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case sockOptTransparent:
		s.Flags |= sockTransparent
	case sockOptNoWildcard:
		s.Flags |= sockNoWildcard
	case sockOptRestoreSkMark:
		s.Flags |= sockRestoreSkMark
	}
	return nil
}

func (s *Socket) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " socket"...)
	return s.Save(b, ctx)
}

func (s *Socket) Save(b []byte, ctx *xtables.Context) []byte {
	if s.Flags&sockTransparent != 0 {
		b = append(b, " --transparent"...)
	}
	if s.Flags&sockNoWildcard != 0 {
		b = append(b, " --nowildcard"...)
	}
	if s.Flags&sockRestoreSkMark != 0 {
		b = append(b, " --restore-skmark"...)
	}
	return b
}

// MatchPacket is socket_match (revision 3): the packet's local socket,
// found by the host (SocketLookup); a listener on a wildcard address
// counts only with --nowildcard, a non-transparent socket not with
// --transparent, and --restore-skmark copies the socket's mark to the
// packet when it counts. A host that cannot look sockets up finds none.
func (s *Socket) MatchPacket(st *xtables.PacketState) bool {
	sl, ok := st.Env.(SocketLookup)
	if !ok {
		return false
	}
	found, wildcard, transparent, mark := sl.LookupSocket(st)
	if !found {
		return false
	}
	wildcard = wildcard && s.Flags&sockNoWildcard == 0
	if s.Flags&sockTransparent == 0 {
		transparent = true
	}
	if s.Flags&sockRestoreSkMark != 0 && !wildcard && transparent {
		st.Mark = mark
	}
	return !wildcard && transparent
}
