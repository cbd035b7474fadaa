package rate

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/iptwin/iptwin/xtables"
)

// devgroup match (libxt_devgroup.c, xt_devgroup.h). Group names come from
// /etc/iproute2/group, which the real tool reads from the host too.

const (
	devgroupOptSrc uint = iota
	devgroupOptDst
)

const (
	devgroupMatchSrc  = 0x1
	devgroupInvertSrc = 0x2
	devgroupMatchDst  = 0x4
	devgroupInvertDst = 0x8
)

// DevgroupFile is the name map devgroup reads (f_devgroups).
var DevgroupFile = "/etc/iproute2/group"

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "devgroup",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "src-group", ID: devgroupOptSrc, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "dst-group", ID: devgroupOptDst, Type: xtables.TypeString, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Devgroup{} },
	})
}

// Devgroup is struct xt_devgroup_info.
type Devgroup struct {
	Flags             uint32
	SrcGroup, SrcMask uint32
	DstGroup, DstMask uint32
}

type lmapEntry struct {
	id   uint32
	name string
}

var (
	devgroupOnce sync.Once
	devgroupMap  []lmapEntry
)

// devgroups is xtables_lmap_init of the group file: nil when the file is
// missing or has no valid line.
func devgroups() []lmapEntry {
	devgroupOnce.Do(func() {
		f, err := os.Open(DevgroupFile)
		if err != nil {
			return
		}
		defer f.Close()
		devgroupMap = parseLmap(f)
	})
	return devgroupMap
}

func parseLmap(f *os.File) []lmapEntry {
	var out []lmapEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cur := strings.TrimLeft(sc.Text(), " \t\v\f\r")
		if cur == "" || cur[0] == '#' {
			continue
		}
		base, digits := 10, cur
		if strings.HasPrefix(cur, "0x") {
			base, digits = 16, cur[2:]
		}
		n := 0
		for n < len(digits) && hexVal(digits[n]) < uint64(base) {
			n++
		}
		if n == 0 {
			continue
		}
		id, err := strconv.ParseUint(digits[:n], base, 64)
		if err != nil || id > 255 {
			continue
		}
		rest := digits[n:]
		if rest == "" || !isCSpace(rest[0]) {
			continue
		}
		rest = strings.TrimLeft(rest, " \t\v\f\r")
		if rest == "" || rest[0] == '#' {
			continue
		}
		if i := strings.IndexAny(rest, " \t\v\f\r"); i >= 0 {
			rest = rest[:i]
		}
		out = append(out, lmapEntry{uint32(id), rest})
	}
	return out
}

// parseValMask is xtables_parse_val_mask.
func parseValMask(c *xtables.OptionCall, lmap []lmapEntry) (val, mask uint32, err error) {
	name2val := func() (uint32, uint32, error) {
		for _, e := range lmap {
			if e.name == c.Arg {
				return e.id, math.MaxUint32, nil
			}
		}
		return 0, 0, xtables.Errorf("%s: could not map name %s to an integer value for option \"--%s\".\n", c.Ext, c.Arg, c.Opt.Name)
	}
	badVal := xtables.Errorf("%s: bad integer value for option \"--%s\", or out of range.\n", c.Ext, c.Opt.Name)
	garbage := xtables.Errorf("%s: trailing garbage after value for option \"--%s\".\n", c.Ext, c.Opt.Name)
	v, rest, ok := xtables.StrToUint(c.Arg, 0, math.MaxUint32)
	if !ok {
		if lmap != nil {
			return name2val()
		}
		return 0, 0, badVal
	}
	if rest == "" {
		return uint32(v), math.MaxUint32, nil
	}
	if rest[0] != '/' {
		if lmap != nil {
			return name2val()
		}
		return 0, 0, garbage
	}
	m, rest, ok := xtables.StrToUint(rest[1:], 0, math.MaxUint32)
	if !ok {
		return 0, 0, badVal
	}
	if rest != "" {
		return 0, 0, garbage
	}
	return uint32(v), uint32(m), nil
}

func (d *Devgroup) Parse(c *xtables.OptionCall) error {
	g, m, err := parseValMask(c, devgroups())
	if err != nil {
		return err
	}
	switch c.Opt.ID {
	case devgroupOptSrc:
		d.SrcGroup, d.SrcMask = g, m
		d.Flags |= devgroupMatchSrc
		if c.Invert {
			d.Flags |= devgroupInvertSrc
		}
	case devgroupOptDst:
		d.DstGroup, d.DstMask = g, m
		d.Flags |= devgroupMatchDst
		if c.Invert {
			d.Flags |= devgroupInvertDst
		}
	}
	return nil
}

func (d *Devgroup) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("devgroup match: You must specify either '--src-group' or '--dst-group'")
	}
	return nil
}

// Check is devgroup_mt_checkentry: the input device is known only before
// routing, the output device only after.
func (d *Devgroup) Check(ctx *xtables.Context) error {
	in := uint(1<<xtables.HookPrerouting | 1<<xtables.HookInput | 1<<xtables.HookForward)
	out := uint(1<<xtables.HookForward | 1<<xtables.HookOutput | 1<<xtables.HookPostrouting)
	if d.Flags&devgroupMatchSrc != 0 && ctx.Hooks&^in != 0 {
		return xtables.ErrInvalidArgument
	}
	if d.Flags&devgroupMatchDst != 0 && ctx.Hooks&^out != 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// appendValMask is xtables_print_val_mask.
func appendValMask(b []byte, val, mask uint32, lmap []lmapEntry) []byte {
	if mask != math.MaxUint32 {
		b = append(b, ' ')
		b = xtables.AppendHex(b, uint64(val))
		b = append(b, '/')
		return xtables.AppendHex(b, uint64(mask))
	}
	for _, e := range lmap {
		if e.id == val {
			return append(append(b, ' '), e.name...)
		}
	}
	return xtables.AppendHex(append(b, ' '), uint64(val))
}

func (d *Devgroup) show(b []byte, pfx string, lmap []lmapEntry) []byte {
	if d.Flags&devgroupMatchSrc != 0 {
		b = xtables.AppendInv(b, d.Flags&devgroupInvertSrc != 0)
		b = append(b, " "+pfx+"src-group"...)
		b = appendValMask(b, d.SrcGroup, d.SrcMask, lmap)
	}
	if d.Flags&devgroupMatchDst != 0 {
		b = xtables.AppendInv(b, d.Flags&devgroupInvertDst != 0)
		b = append(b, " "+pfx+"dst-group"...)
		b = appendValMask(b, d.DstGroup, d.DstMask, lmap)
	}
	return b
}

func (d *Devgroup) Print(b []byte, ctx *xtables.Context) []byte {
	var lmap []lmapEntry
	if !ctx.Numeric {
		lmap = devgroups()
	}
	return d.show(b, "", lmap)
}

// Save uses the names too: devgroup_save passes numeric 0.
func (d *Devgroup) Save(b []byte, ctx *xtables.Context) []byte {
	return d.show(b, "--", devgroups())
}

// DevGrouper is implemented by a host whose devices have groups (ip link
// set dev X group N); a host without it has every device in group 0, the
// default.
type DevGrouper interface {
	DevGroup(dev string) uint32
}

func devGroup(st *xtables.PacketState, dev string) uint32 {
	if g, ok := st.Env.(DevGrouper); ok {
		return g.DevGroup(dev)
	}
	return 0
}

// MatchPacket is devgroup_mt: the group of the in device and/or the out
// device under the mask.
func (d *Devgroup) MatchPacket(st *xtables.PacketState) bool {
	if d.Flags&devgroupMatchSrc != 0 &&
		((d.SrcGroup^devGroup(st, st.In))&d.SrcMask != 0) != (d.Flags&devgroupInvertSrc != 0) {
		return false
	}
	if d.Flags&devgroupMatchDst != 0 &&
		((d.DstGroup^devGroup(st, st.Out))&d.DstMask != 0) != (d.Flags&devgroupInvertDst != 0) {
		return false
	}
	return true
}
