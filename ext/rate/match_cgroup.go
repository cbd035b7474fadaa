package rate

import (
	"encoding/binary"

	"github.com/iptwin/iptwin/xtables"
)

// cgroup match, revision 2 (libxt_cgroup.c, struct xt_cgroup_info_v2):
// --path (cgroup2) or --cgroup (net_cls classid).

const (
	cgroupOptClassid uint = 0
	cgroupOptPath    uint = 1
	cgroupPathMax         = 512 // XT_CGROUP_PATH_MAX
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "cgroup",
		Revision: 2,
		Family:   xtables.AnyFamily,
		Hooks:    1<<xtables.HookInput | 1<<xtables.HookOutput | 1<<xtables.HookPostrouting,
		Options: []xtables.Option{
			{Name: "path", ID: cgroupOptPath, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "cgroup", ID: cgroupOptClassid, Type: xtables.TypeUint32, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Cgroup{} },
	})
}

// Cgroup is struct xt_cgroup_info_v2. Path and Classid share storage in the
// kernel struct (a union): the later option overwrites the other, which
// only matters for rules the kernel refuses anyway.
type Cgroup struct {
	HasPath, HasClassid       bool
	InvertPath, InvertClassid bool
	Path                      string
	Classid                   uint32
}

func (g *Cgroup) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case cgroupOptPath:
		g.HasPath, g.InvertPath = true, g.InvertPath || c.Invert
		g.Path = cString(c.Arg, cgroupPathMax)
		var le [4]byte
		copy(le[:], g.Path)
		g.Classid = binary.LittleEndian.Uint32(le[:])
	case cgroupOptClassid:
		g.HasClassid, g.InvertClassid = true, g.InvertClassid || c.Invert
		g.Classid = uint32(c.Val.U64)
		if g.HasPath {
			var le [4]byte
			binary.LittleEndian.PutUint32(le[:], g.Classid)
			p := append(le[:], g.Path[min(4, len(g.Path)):]...)
			g.Path = cString(string(p), cgroupPathMax)
		}
	}
	return nil
}

// Check is cgroup_mt_check_v2 and the match's hooks. The twin host's
// cgroup2 hierarchy is its root only: a path names it when it is made of
// slashes alone.
func (g *Cgroup) Check(ctx *xtables.Context) error {
	hooks := uint(1<<xtables.HookInput | 1<<xtables.HookOutput | 1<<xtables.HookPostrouting)
	if ctx.Hooks&^hooks != 0 {
		return xtables.ErrInvalidArgument
	}
	if g.HasPath == g.HasClassid {
		return xtables.ErrInvalidArgument
	}
	if g.HasPath {
		for i := 0; i < len(g.Path); i++ {
			if g.Path[i] != '/' {
				return xtables.ErrInvalidArgument
			}
		}
	}
	return nil
}

func (g *Cgroup) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " cgroup"...)
	if g.HasPath {
		b = append(b, ' ')
		if g.InvertPath {
			b = append(b, "! "...)
		}
		b = append(b, g.Path...)
	}
	if g.HasClassid {
		b = append(b, ' ')
		if g.InvertClassid {
			b = append(b, "! "...)
		}
		b = xtables.AppendUint(b, uint64(g.Classid))
	}
	return b
}

func (g *Cgroup) Save(b []byte, ctx *xtables.Context) []byte {
	if g.HasPath {
		b = xtables.AppendInv(b, g.InvertPath)
		b = append(b, " --path"...)
		b = appendSaveString(b, g.Path)
	}
	if g.HasClassid {
		b = xtables.AppendInv(b, g.InvertClassid)
		b = append(b, " --cgroup "...)
		b = xtables.AppendUint(b, uint64(g.Classid))
	}
	return b
}

// MatchPacket is cgroup_mt_v2: only a packet with a local socket has a
// cgroup. The twin's sockets are all in the root of the cgroup2
// hierarchy (the only path Check accepts) and in no net_cls class
// (classid 0).
func (g *Cgroup) MatchPacket(st *xtables.PacketState) bool {
	if !st.HasSock {
		return false
	}
	if g.HasPath {
		return !g.InvertPath
	}
	return (g.Classid == 0) != g.InvertClassid
}
