package iphdr

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/iptwin/iptwin/xtables"
)

// realm match (libipt_realm.c, xt_realm.h). Realm names come from
// /etc/iproute2/rt_realms, read as xtables_lmap_init does; without the
// file only numbers are known, as with the real tool.

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "realm",
		Family: xtables.IPv4,
		Hooks:  realmHooks,
		Options: []xtables.Option{
			{Name: "realm", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Realm{} },
		Help: "realm match options:\n" +
			"[!] --realm value[/mask]\n" +
			"\t\t\t\tMatch realm\n",
	})
}

// Realm is struct xt_realm_info.
type Realm struct {
	ID, Mask uint32
	Invert   uint8
}

type lmapEntry struct {
	id   int
	name string
}

// RealmsFile is where realm names are read from.
var RealmsFile = "/etc/iproute2/rt_realms"

var (
	realmsOnce sync.Once
	realms     []lmapEntry
)

// loadLmap is xtables_lmap_init: "id name" lines, id decimal or 0x hex
// within 0..255, '#' comments.
func loadLmap(path string) []lmapEntry {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []lmapEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cur := strings.TrimLeft(sc.Text(), " \t\n\v\f\r")
		if cur == "" || cur[0] == '#' {
			continue
		}
		base := 10
		if strings.HasPrefix(cur, "0x") {
			base = 16
		}
		v, rest, ok, overflow := cStrtoul(cur, base)
		if !ok || overflow || int32(v) < 0 || int32(v) > 255 {
			continue
		}
		if rest == "" || !isCSpace(rest[0]) {
			continue
		}
		rest = strings.TrimLeft(rest, " \t\n\v\f\r")
		if rest == "" || rest[0] == '#' {
			continue
		}
		if i := strings.IndexAny(rest, " \t\n\v\f\r"); i >= 0 {
			rest = rest[:i]
		}
		out = append(out, lmapEntry{int(v), rest})
	}
	return out
}

func realmMap() []lmapEntry {
	realmsOnce.Do(func() { realms = loadLmap(RealmsFile) })
	return realms
}

// parseValMask is xtables_parse_val_mask with the realm map.
func parseValMask(c *xtables.OptionCall, lmap []lmapEntry) (val, mask uint32, err error) {
	mask = ^uint32(0)
	byName := func() (uint32, uint32, error) {
		for _, e := range lmap {
			if e.name == c.Arg {
				return uint32(e.id), mask, nil
			}
		}
		return 0, 0, xtables.Errorf("%s: could not map name %s to an integer value for option \"--%s\".\n", c.Ext, c.Arg, c.Opt.Name)
	}
	badVal := xtables.Errorf("%s: bad integer value for option \"--%s\", or out of range.\n", c.Ext, c.Opt.Name)
	v, rest, ok := xtables.StrToUint(c.Arg, 0, 0xffffffff)
	if !ok {
		if lmap != nil {
			return byName()
		}
		return 0, 0, badVal
	}
	if rest == "" {
		return uint32(v), mask, nil
	}
	if rest[0] != '/' {
		if lmap != nil {
			return byName()
		}
		return 0, 0, xtables.Errorf("%s: trailing garbage after value for option \"--%s\".\n", c.Ext, c.Opt.Name)
	}
	m, rest, ok := xtables.StrToUint(rest[1:], 0, 0xffffffff)
	if !ok {
		return 0, 0, badVal
	}
	if rest != "" {
		return 0, 0, xtables.Errorf("%s: trailing garbage after value for option \"--%s\".\n", c.Ext, c.Opt.Name)
	}
	return uint32(v), uint32(m), nil
}

func (m *Realm) Parse(c *xtables.OptionCall) error {
	id, mask, err := parseValMask(c, realmMap())
	if err != nil {
		return err
	}
	m.ID, m.Mask = id, mask
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

// appendValMask is xtables_print_val_mask.
func appendValMask(b []byte, val, mask uint32, lmap []lmapEntry) []byte {
	if mask != ^uint32(0) {
		b = append(b, " 0x"...)
		b = strconv.AppendUint(b, uint64(val), 16)
		b = append(b, "/0x"...)
		return strconv.AppendUint(b, uint64(mask), 16)
	}
	for _, e := range lmap {
		if e.id == int(val) {
			return append(append(b, ' '), e.name...)
		}
	}
	b = append(b, " 0x"...)
	return strconv.AppendUint(b, uint64(val), 16)
}

func (m *Realm) Print(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " realm"...)
	var lmap []lmapEntry
	if !ctx.Numeric {
		lmap = realmMap()
	}
	return appendValMask(b, m.ID, m.Mask, lmap)
}

func (m *Realm) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --realm"...)
	return appendValMask(b, m.ID, m.Mask, realmMap())
}

// realmHooks: xt_realm is valid from LOCAL_IN, FORWARD, LOCAL_OUT and
// POST_ROUTING only.
const realmHooks = 1<<xtables.HookInput | 1<<xtables.HookForward | 1<<xtables.HookOutput | 1<<xtables.HookPostrouting

// MatchPacket is realm_mt (xt_realm.c): the route's realm (tclassid)
// under the mask. The twin's routes carry no realm, so it is 0.
func (m *Realm) MatchPacket(st *xtables.PacketState) bool {
	const tclassid = 0
	return (m.ID == tclassid&m.Mask) != (m.Invert != 0)
}
