package meta

import (
	"math"

	"github.com/iptwin/iptwin/xtables"
)

// owner match, revision 1 (libxt_owner.c, xt_owner.h).

// XT_OWNER_* flags.
const (
	ownerUID         = 0x01
	ownerGID         = 0x02
	ownerSocket      = 0x04
	ownerSupplGroups = 0x08
	ownerMask        = 0x0f
)

const (
	ownerOptUser uint = iota
	ownerOptGroup
	ownerOptSocketExists
	ownerOptProcess // revision 0 only
	ownerOptSession // revision 0 only
	ownerOptComm    // revision 0 only
	ownerOptSupplGroups
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "owner",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Hooks:    1<<xtables.HookOutput | 1<<xtables.HookPostrouting,
		Options: []xtables.Option{
			{Name: "uid-owner", ID: ownerOptUser, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "gid-owner", ID: ownerOptGroup, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "socket-exists", ID: ownerOptSocketExists, Type: xtables.TypeNone, Flags: xtables.Invert},
			{Name: "suppl-groups", ID: ownerOptSupplGroups, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &Owner{} },
		Help: "owner match options:\n" +
			"[!] --uid-owner userid[-userid]      Match local UID\n" +
			"[!] --gid-owner groupid[-groupid]    Match local GID\n" +
			"[!] --socket-exists                  Match if socket exists\n" +
			"    --suppl-groups                   Also match supplementary groups set with --gid-owner\n",
	})
}

// Owner is struct xt_owner_match_info.
type Owner struct {
	UIDMin, UIDMax uint32
	GIDMin, GIDMax uint32
	Match, Invert  uint8
}

// parseOwnerRange is owner_parse_range: "n", "n-m" or "n:m", each part
// 0..2^32-2 (-1 is reserved).
func parseOwnerRange(s, opt string) (from, to uint32, err error) {
	bad := xtables.Errorf("owner: Bad value for \"%s\" option: \"%s\"", opt, s)
	v, rest, ok := xtables.StrToUint(s, 0, math.MaxUint32-1)
	if !ok {
		return 0, 0, bad
	}
	w := v
	if rest != "" && (rest[0] == '-' || rest[0] == ':') {
		if w, rest, ok = xtables.StrToUint(rest[1:], 0, math.MaxUint32-1); !ok {
			return 0, 0, bad
		}
	}
	if rest != "" {
		return 0, 0, bad
	}
	return uint32(v), uint32(w), nil
}

func (m *Owner) Parse(c *xtables.OptionCall) error {
	var flag uint8
	switch c.Opt.ID {
	case ownerOptUser:
		from, to, err := m.idRange(c.Arg, passwdDB, "--uid-owner")
		if err != nil {
			return err
		}
		m.UIDMin, m.UIDMax, flag = from, to, ownerUID
	case ownerOptGroup:
		from, to, err := m.idRange(c.Arg, groupDB, "--gid-owner")
		if err != nil {
			return err
		}
		m.GIDMin, m.GIDMax, flag = from, to, ownerGID
	case ownerOptSocketExists:
		flag = ownerSocket
	case ownerOptSupplGroups:
		if m.Match&ownerGID == 0 {
			return xtables.Errorf("owner: Bad value for \"%s\" option: \"%s\"", "--suppl-groups", "you need to use --gid-owner first")
		}
		m.Match |= ownerSupplGroups
		return nil
	}
	if c.Invert {
		m.Invert |= flag
	}
	m.Match |= flag
	return nil
}

// idRange takes a user or group name first, as getpwnam/getgrnam come
// before the numeric parse in the C code.
func (m *Owner) idRange(s string, db *userDB, opt string) (uint32, uint32, error) {
	if id, ok := db.id(s); ok {
		return id, id, nil
	}
	return parseOwnerRange(s, opt)
}

func (m *Owner) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("owner: At least one of --uid-owner, --gid-owner or --socket-exists is required")
	}
	return nil
}

func (m *Owner) appendItem(b []byte, label string, flag uint8, numeric bool) []byte {
	if m.Match&flag == 0 {
		return b
	}
	if m.Invert&flag != 0 {
		b = append(b, " !"...)
	}
	b = append(b, ' ')
	b = append(b, label...)
	var lo, hi uint32
	var db *userDB
	switch flag {
	case ownerUID:
		lo, hi, db = m.UIDMin, m.UIDMax, passwdDB
	case ownerGID:
		lo, hi, db = m.GIDMin, m.GIDMax, groupDB
	default:
		return b
	}
	b = append(b, ' ')
	if lo != hi {
		b = xtables.AppendUint(b, uint64(lo))
		b = append(b, '-')
		return xtables.AppendUint(b, uint64(hi))
	}
	if !numeric {
		if n := db.name(lo); n != "" {
			return append(b, n...)
		}
	}
	return xtables.AppendUint(b, uint64(lo))
}

func (m *Owner) Print(b []byte, ctx *xtables.Context) []byte {
	b = m.appendItem(b, "owner socket exists", ownerSocket, ctx.Numeric)
	b = m.appendItem(b, "owner UID match", ownerUID, ctx.Numeric)
	b = m.appendItem(b, "owner GID match", ownerGID, ctx.Numeric)
	return m.appendItem(b, "incl. suppl. groups", ownerSupplGroups, ctx.Numeric)
}

func (m *Owner) Save(b []byte, ctx *xtables.Context) []byte {
	b = m.appendItem(b, "--socket-exists", ownerSocket, true)
	b = m.appendItem(b, "--uid-owner", ownerUID, true)
	b = m.appendItem(b, "--gid-owner", ownerGID, true)
	return m.appendItem(b, "--suppl-groups", ownerSupplGroups, true)
}

// Check: xt_owner serves OUTPUT and POSTROUTING only (there is a socket
// to look at only for locally generated packets).
func (m *Owner) Check(ctx *xtables.Context) error {
	if m.Match&^ownerMask != 0 {
		return xtables.ErrInvalidArgument
	}
	return checkHooks(ctx, 1<<xtables.HookOutput|1<<xtables.HookPostrouting)
}

// MatchPacket is owner_mt (xt_owner.c, revision 1). Without a local
// socket the match holds only when every option given is inverted (so
// --suppl-groups, never inverted, fails it). The socket's supplementary
// groups are not known to the twin: --suppl-groups adds nothing.
func (m *Owner) MatchPacket(st *xtables.PacketState) bool {
	if !st.HasSock {
		return m.Match^m.Invert == 0
	}
	if m.Match&m.Invert&ownerSocket != 0 {
		return false // a socket, and ! --socket-exists
	}
	if st.SockNoFile {
		// A kernel socket without a file: uid and gid tests hold only
		// when inverted.
		return (m.Match^m.Invert)&(ownerUID|ownerGID) == 0
	}
	if m.Match&ownerUID != 0 {
		in := st.UID >= m.UIDMin && st.UID <= m.UIDMax
		if in == (m.Invert&ownerUID != 0) {
			return false
		}
	}
	if m.Match&ownerGID != 0 {
		in := st.GID >= m.GIDMin && st.GID <= m.GIDMax
		if in == (m.Invert&ownerGID != 0) {
			return false
		}
	}
	return true
}
