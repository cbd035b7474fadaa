package meta

import (
	"github.com/iptwin/iptwin/ipset"
	"github.com/iptwin/iptwin/xtables"
)

// The packet side of the set match and the SET target (xt_set.c). The
// kernel keeps a referenced set's index; the twin finds the set by name
// among the host's objects, which the packet path offers by having its
// Env implement xtables.ObjectStore (kind "ipset", values *ipset.Set). A
// set the host does not have is treated as empty.

// packetSet finds a set for the packet path.
func packetSet(st *xtables.PacketState, name string) (*ipset.Set, xtables.ObjectStore) {
	objs, ok := st.Env.(xtables.ObjectStore)
	if !ok {
		return nil, nil
	}
	v, ok := objs.Lookup("ipset", name)
	if !ok {
		return nil, objs
	}
	s, _ := v.(*ipset.Set)
	return s, objs
}

// setClock is the sets' clock (Unix seconds) from the host's.
func setClock(st *xtables.PacketState) int64 { return st.Env.Now() / 1e9 }

// MatchPacket is set_match_v4: the packet's element in the set (with the
// counter comparisons, and counting the packet unless told not to),
// inverted by "! --match-set".
func (m *SetMatch) MatchPacket(st *xtables.PacketState) bool {
	inv := m.MatchSet.Flags&ipsetInvMatch != 0
	s, objs := packetSet(st, m.MatchSet.Name)
	if s == nil {
		return inv
	}
	opt := ipset.PacketOpt{
		Dim: m.MatchSet.Dim, Flags: m.MatchSet.Flags, Cmd: m.Flags, Timeout: ipset.NoTimeout,
		Packets: m.Packets.Value, Bytes: m.Bytes.Value, PacketsOp: m.Packets.Op, BytesOp: m.Bytes.Op,
		Now: setClock(st), Sets: objs,
	}
	if m.Packets.Op != counterNone || m.Bytes.Op != counterNone {
		opt.Cmd |= ipset.FlagMatchCounters
	}
	ok, _ := s.TestPacket(st, &opt)
	return ok != inv
}

// TargetPacket is set_target_v3: add to and delete from sets, then map
// the skb info of the --map-set element that matches (the mark; the
// priority and queue have no place in the twin's packet). It always
// continues.
func (t *SetTarget) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if t.AddSet.Dim != 0 {
		if s, objs := packetSet(st, t.AddSet.Name); s != nil {
			opt := ipset.PacketOpt{Dim: t.AddSet.Dim, Flags: t.AddSet.Flags, Cmd: t.Flags,
				Timeout: t.Timeout, Now: setClock(st), Sets: objs}
			s.AddPacket(st, &opt)
		}
	}
	if t.DelSet.Dim != 0 {
		if s, objs := packetSet(st, t.DelSet.Name); s != nil {
			opt := ipset.PacketOpt{Dim: t.DelSet.Dim, Flags: t.DelSet.Flags, Timeout: ipset.NoTimeout,
				Now: setClock(st), Sets: objs}
			s.DelPacket(st, &opt)
		}
	}
	if t.MapSet.Dim != 0 {
		if s, objs := packetSet(st, t.MapSet.Name); s != nil {
			opt := ipset.PacketOpt{Dim: t.MapSet.Dim, Flags: t.MapSet.Flags, Timeout: ipset.NoTimeout,
				Cmd: t.Flags & (ipsetFlagMapMark | ipsetFlagMapPrio | ipsetFlagMapQ), Now: setClock(st), Sets: objs}
			ok, info := s.TestPacket(st, &opt)
			if ok != (t.MapSet.Flags&ipsetInvMatch != 0) && t.Flags&ipsetFlagMapMark != 0 {
				st.Mark = st.Mark&^info.Mask ^ info.Mark
			}
		}
	}
	return xtables.VerdictCodeContinue
}
