package meta

import (
	"math"

	"github.com/iptwin/iptwin/xtables"
)

// SET target, revision 3 (libxt_SET.c, xt_set.h).

const (
	setTgAdd      = 0x1
	setTgDel      = 0x2
	setTgExist    = 0x4
	setTgTimeout  = 0x8
	setTgMap      = 0x10
	setTgMapMark  = 0x20
	setTgMapPrio  = 0x40
	setTgMapQueue = 0x80
)

const (
	setTgOptAdd uint = iota
	setTgOptDel
	setTgOptExist
	setTgOptTimeout
	setTgOptMap
	setTgOptMapMark
	setTgOptMapPrio
	setTgOptMapQueue
)

func init() {
	f := xtables.Invert | xtables.Multi
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "SET",
		Revision: 3,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "add-set", ID: setTgOptAdd, Type: xtables.TypeString, Flags: f},
			{Name: "del-set", ID: setTgOptDel, Type: xtables.TypeString, Flags: f},
			{Name: "exist", ID: setTgOptExist, Type: xtables.TypeNone, Flags: f},
			{Name: "timeout", ID: setTgOptTimeout, Type: xtables.TypeString, Flags: f},
			{Name: "map-set", ID: setTgOptMap, Type: xtables.TypeString, Flags: f},
			{Name: "map-mark", ID: setTgOptMapMark, Type: xtables.TypeNone, Flags: f},
			{Name: "map-prio", ID: setTgOptMapPrio, Type: xtables.TypeNone, Flags: f},
			{Name: "map-queue", ID: setTgOptMapQueue, Type: xtables.TypeNone, Flags: f},
		},
		New: func() xtables.TargetInfo { return &SetTarget{Timeout: math.MaxUint32} },
		Help: "SET target options:\n" +
			" --add-set name flags [--exist] [--timeout n]\n" +
			" --del-set name flags\n" +
			" --map-set name flags [--map-mark] [--map-prio] [--map-queue]\n" +
			"\t\tadd/del src/dst IP/port from/to named sets,\n" +
			"\t\twhere flags are the comma separated list of\n" +
			"\t\t'src' and 'dst' specifications.\n",
	})
}

// SetTarget is struct xt_set_info_target_v3; an unused set reference
// has Dim 0 (the kernel's IPSET_INVALID_ID index).
type SetTarget struct {
	AddSet, DelSet, MapSet SetInfo
	Flags                  uint32
	Timeout                uint32
	seen                   uint8
}

func (t *SetTarget) Parse(c *xtables.OptionCall) error {
	ref := func(info *SetInfo, what string, flag uint8) error {
		if info.Dim != 0 {
			return xtables.Errorf("--%s can be specified only once", what)
		}
		if err := parseSetRef(c, info, what); err != nil {
			return err
		}
		t.seen |= flag
		return nil
	}
	switch c.Opt.ID {
	case setTgOptAdd:
		return ref(&t.AddSet, "add-set", setTgAdd)
	case setTgOptDel:
		return ref(&t.DelSet, "del-set", setTgDel)
	case setTgOptMap:
		return ref(&t.MapSet, "map-set", setTgMap)
	case setTgOptExist:
		t.Flags |= ipsetFlagExist
		t.seen |= setTgExist
	case setTgOptTimeout:
		v, ok := xtables.StrToUintAll(c.Arg, 0, math.MaxUint32-1)
		if !ok {
			return xtables.Errorf("Invalid value for option --timeout or out of range 0-%d", uint32(math.MaxUint32-1))
		}
		t.Timeout = uint32(v)
		t.seen |= setTgTimeout
	case setTgOptMapMark:
		t.Flags |= ipsetFlagMapMark
		t.seen |= setTgMapMark
	case setTgOptMapPrio:
		t.Flags |= ipsetFlagMapPrio
		t.seen |= setTgMapPrio
	case setTgOptMapQueue:
		t.Flags |= ipsetFlagMapQ
		t.seen |= setTgMapQueue
	}
	return nil
}

// Final is set_target_check_v3.
func (t *SetTarget) Final(f *xtables.FinalCall) error {
	fl := t.seen
	if fl&(setTgAdd|setTgDel|setTgMap) == 0 {
		return xtables.Errorf("You must specify either `--add-set' or `--del-set' or `--map-set'")
	}
	if fl&setTgAdd == 0 {
		if fl&setTgExist != 0 {
			return xtables.Errorf("Flag `--exist' can be used with `--add-set' only")
		}
		if fl&setTgTimeout != 0 {
			return xtables.Errorf("Option `--timeout' can be used with `--add-set' only")
		}
	}
	if fl&setTgMap == 0 {
		if fl&setTgMapMark != 0 {
			return xtables.Errorf("Flag `--map-mark' can be used with `--map-set' only")
		}
		if fl&setTgMapPrio != 0 {
			return xtables.Errorf("Flag `--map-prio' can be used with `--map-set' only")
		}
		if fl&setTgMapQueue != 0 {
			return xtables.Errorf("Flag `--map-queue' can be used with `--map-set' only")
		}
	}
	if fl&setTgMap != 0 && fl&(setTgMapMark|setTgMapPrio|setTgMapQueue) == 0 {
		return xtables.Errorf("You must specify flags `--map-mark' or '--map-prio` or `--map-queue'")
	}
	return nil
}

func (t *SetTarget) appendInfo(b []byte, sep string) []byte {
	ref := func(info *SetInfo, what string) {
		if info.Dim != 0 {
			b = appendSetRef(b, sep+what, info, false)
		}
	}
	ref(&t.AddSet, "add-set")
	if t.Flags&ipsetFlagExist != 0 {
		b = append(b, ' ')
		b = append(b, sep...)
		b = append(b, "exist"...)
	}
	if t.Timeout != math.MaxUint32 {
		b = append(b, ' ')
		b = append(b, sep...)
		b = append(b, "timeout "...)
		b = xtables.AppendUint(b, uint64(t.Timeout))
	}
	ref(&t.DelSet, "del-set")
	ref(&t.MapSet, "map-set")
	for _, f := range []struct {
		bit  uint32
		name string
	}{{ipsetFlagMapMark, "map-mark"}, {ipsetFlagMapPrio, "map-prio"}, {ipsetFlagMapQ, "map-queue"}} {
		if t.Flags&f.bit != 0 {
			b = append(b, ' ')
			b = append(b, sep...)
			b = append(b, f.name...)
		}
	}
	return b
}

func (t *SetTarget) Print(b []byte, ctx *xtables.Context) []byte { return t.appendInfo(b, "") }

func (t *SetTarget) Save(b []byte, ctx *xtables.Context) []byte { return t.appendInfo(b, "--") }

// Check is set_target_v3_checkentry: the sets exist; --map-set only in
// the mangle table, and prio/queue mapping only from OUTPUT, FORWARD and
// POSTROUTING.
func (t *SetTarget) Check(ctx *xtables.Context) error {
	for _, info := range []*SetInfo{&t.AddSet, &t.DelSet, &t.MapSet} {
		if info.Dim != 0 {
			if err := lookupSet(info.Name, ctx); err != nil {
				return err
			}
		}
	}
	if t.MapSet.Dim != 0 {
		if ctx.Table != "mangle" {
			return xtables.ErrInvalidArgument
		}
		if t.Flags&(ipsetFlagMapPrio|ipsetFlagMapQ) != 0 &&
			ctx.Hooks&^(1<<xtables.HookForward|1<<xtables.HookOutput|1<<xtables.HookPostrouting) != 0 {
			return xtables.ErrInvalidArgument
		}
	}
	return nil
}
