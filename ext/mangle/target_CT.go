package mangle

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// CT target, revision 2 (libxt_CT.c ct_*_v1, struct xt_ct_target_info_v1),
// and NOTRACK, its alias: revision 2 of NOTRACK is CT with the
// XT_CT_NOTRACK_ALIAS flag, listed as "NOTRACK" and saved as "-j NOTRACK"
// (no notice is printed, XTABLES_EXT_ALIAS).

const (
	ctOptNotrack uint = iota
	ctOptHelper
	ctOptTimeout
	ctOptCtEvents
	ctOptExpEvents
	ctOptZone
	ctOptZoneOrig
	ctOptZoneReply
)

// Flags of xt_ct_target_info_v1.
const (
	CTNotrack      uint16 = 1 << 0
	CTNotrackAlias uint16 = 1 << 1
	CTZoneDirOrig  uint16 = 1 << 2
	CTZoneDirRepl  uint16 = 1 << 3
	CTZoneMark     uint16 = 1 << 4
	ctMask                = CTNotrack | CTNotrackAlias | CTZoneDirOrig | CTZoneDirRepl | CTZoneMark
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "CT",
		Revision: 2,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "notrack", ID: ctOptNotrack, Type: xtables.TypeNone},
			{Name: "helper", ID: ctOptHelper, Type: xtables.TypeString},
			{Name: "timeout", ID: ctOptTimeout, Type: xtables.TypeString},
			{Name: "ctevents", ID: ctOptCtEvents, Type: xtables.TypeString},
			{Name: "expevents", ID: ctOptExpEvents, Type: xtables.TypeString},
			{Name: "zone-orig", ID: ctOptZoneOrig, Type: xtables.TypeString},
			{Name: "zone-reply", ID: ctOptZoneReply, Type: xtables.TypeString},
			{Name: "zone", ID: ctOptZone, Type: xtables.TypeString},
		},
		New: func() xtables.TargetInfo { return &CT{} },
		Help: ` CT target options:
 --notrack			Don't track connection
 --helper name			Use conntrack helper 'name' for connection
 --timeout name 		Use timeout policy 'name' for connection
 --ctevents event[,event...]	Generate specified conntrack events for connection
 --expevents event[,event...]	Generate specified expectation events for connection
 --zone {ID|mark}		Assign/Lookup connection in zone ID/packet nfmark
 --zone-orig {ID|mark}		Same as 'zone' option, but only applies to ORIGINAL direction
 --zone-reply {ID|mark} 	Same as 'zone' option, but only applies to REPLY direction
`[1:],
	})
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "NOTRACK",
		Revision: 2,
		Family:   xtables.AnyFamily,
		RealName: "CT", // -L lists it as CT; saved as NOTRACK
		New:      func() xtables.TargetInfo { return &CT{Flags: CTNotrack | CTNotrackAlias} },
	})
}

// CT is struct xt_ct_target_info_v1.
type CT struct {
	Flags     uint16
	Zone      uint16
	CtEvents  uint32
	ExpEvents uint32
	Helper    string // char[16]
	Timeout   string // char[32]
}

type ctEvent struct {
	name string
	bit  uint
}

// ctEvents are enum ip_conntrack_events in the order libxt_CT lists them.
var ctEvents = []ctEvent{
	{"new", 0}, {"related", 1}, {"destroy", 2}, {"reply", 3},
	{"assured", 4}, {"protoinfo", 5}, {"helper", 6}, {"mark", 7},
	{"natseqinfo", 8}, {"secmark", 9},
}

var expEvents = []ctEvent{{"new", 0}}

func ctParseEvents(tbl []ctEvent, s string) (uint32, error) {
	var mask uint32
	for _, t := range strings.Split(s, ",") {
		found := false
		for _, e := range tbl {
			if e.name == t {
				mask |= 1 << e.bit
				found = true
				break
			}
		}
		if !found {
			return 0, xtables.Errorf("Unknown event type \"%s\"", t)
		}
	}
	return mask, nil
}

func (t *CT) Parse(c *xtables.OptionCall) error {
	var err error
	switch c.Opt.ID {
	case ctOptNotrack:
		t.Flags |= CTNotrack
	case ctOptHelper:
		t.Helper = putString(c.Arg, 16)
	case ctOptTimeout:
		t.Timeout = putString(c.Arg, 32)
	case ctOptZone, ctOptZoneOrig, ctOptZoneReply:
		if c.Opt.ID == ctOptZoneOrig {
			t.Flags |= CTZoneDirOrig
		}
		if c.Opt.ID == ctOptZoneReply {
			t.Flags |= CTZoneDirRepl
		}
		t.Zone = 0
		if strings.EqualFold(c.Arg, "mark") {
			t.Flags |= CTZoneMark
		} else {
			v, ok := xtables.StrToUintAll(c.Arg, 0, 0xffff)
			if !ok {
				return xtables.Errorf("Cannot parse %s as a zone ID", c.Arg)
			}
			t.Zone = uint16(v)
		}
	case ctOptCtEvents:
		t.CtEvents, err = ctParseEvents(ctEvents, c.Arg)
	case ctOptExpEvents:
		t.ExpEvents, err = ctParseEvents(expEvents, c.Arg)
	}
	return err
}

func appendCTEvents(b []byte, pfx string, tbl []ctEvent, mask uint32) []byte {
	b = append(b, ' ')
	b = append(b, pfx...)
	b = append(b, ' ')
	sep := false
	for _, e := range tbl {
		if mask&(1<<e.bit) != 0 {
			if sep {
				b = append(b, ',')
			}
			b = append(b, e.name...)
			sep = true
		}
	}
	return b
}

func (t *CT) appendZone(b []byte, pfx string) []byte {
	b = append(b, ' ')
	b = append(b, pfx...)
	switch t.Flags & (CTZoneDirOrig | CTZoneDirRepl) {
	case CTZoneDirOrig:
		b = append(b, "-orig"...)
	case CTZoneDirRepl:
		b = append(b, "-reply"...)
	}
	if t.Flags&CTZoneMark != 0 {
		return append(b, " mark"...)
	}
	b = append(b, ' ')
	return xtables.AppendUint(b, uint64(t.Zone))
}

// appendBody is the part print and save share; pfx is "" or "--".
func (t *CT) appendBody(b []byte, pfx string) []byte {
	if t.Flags&CTNotrack != 0 {
		b = append(b, ' ')
		b = append(b, pfx+"notrack"...)
	}
	if t.Helper != "" {
		b = append(b, ' ')
		b = append(b, pfx+"helper "+t.Helper...)
	}
	if t.Timeout != "" {
		b = append(b, ' ')
		b = append(b, pfx+"timeout "+t.Timeout...)
	}
	if t.CtEvents != 0 {
		b = appendCTEvents(b, pfx+"ctevents", ctEvents, t.CtEvents)
	}
	if t.ExpEvents != 0 {
		b = appendCTEvents(b, pfx+"expevents", expEvents, t.ExpEvents)
	}
	if t.Flags&CTZoneMark != 0 || t.Zone != 0 {
		b = t.appendZone(b, pfx+"zone")
	}
	return b
}

func (t *CT) Print(b []byte, ctx *xtables.Context) []byte {
	if t.Flags&CTNotrackAlias != 0 {
		return append(b, " NOTRACK"...)
	}
	return t.appendBody(append(b, " CT"...), "")
}

func (t *CT) Save(b []byte, ctx *xtables.Context) []byte {
	if t.Flags&CTNotrackAlias != 0 {
		return b
	}
	return t.appendBody(b, "--")
}

// ctHelpers are the conntrack helpers the kernel has: name, protocols,
// and whether IPv6 is served too.
var ctHelpers = []struct {
	name   string
	protos []uint8
	v6     bool
}{
	{"ftp", []uint8{protoTCP}, true},
	{"tftp", []uint8{protoUDP}, true},
	{"sip", []uint8{protoTCP, protoUDP}, true},
	{"irc", []uint8{protoTCP}, false},
	{"amanda", []uint8{protoUDP}, true},
	{"pptp", []uint8{protoTCP}, false},
	{"sane", []uint8{protoTCP}, true},
	{"snmp", []uint8{protoUDP}, false},
	{"snmp_trap", []uint8{protoUDP}, false},
	{"netbios-ns", []uint8{protoUDP}, false},
	{"RAS", []uint8{protoUDP}, true},
	{"Q.931", []uint8{protoTCP}, true},
	{"H.245", []uint8{protoUDP}, true},
}

// Check is xt_ct_tg_check_v2: raw table only; a helper needs the rule's
// protocol and must exist for it; a timeout policy must exist.
func (t *CT) Check(ctx *xtables.Context) error {
	if ctx.Table != "raw" {
		return errInval
	}
	if t.Flags&^ctMask != 0 {
		return errInval
	}
	if t.Flags&CTNotrack != 0 {
		return nil
	}
	if t.Helper != "" {
		var proto uint8
		if h := ctx.Header; h != nil && h.Inv&xtables.InvProto == 0 {
			proto = h.Proto
		}
		if proto == 0 {
			return errNoEnt
		}
		found := false
		for _, h := range ctHelpers {
			if h.name != t.Helper || (ctx.Family == xtables.IPv6 && !h.v6) {
				continue
			}
			for _, p := range h.protos {
				found = found || p == proto
			}
		}
		if !found {
			return errNoEnt
		}
	}
	if t.Timeout != "" {
		if ctx.Objects == nil {
			return errNoEnt
		}
		if _, ok := ctx.Objects.Lookup("cttimeout", t.Timeout); !ok {
			return errNoEnt
		}
	}
	return nil
}

// TargetPacket is xt_ct_target: a packet that has its conntrack already
// (looped back) is left alone; --notrack makes it untracked at once
// (later rules see the UNTRACKED state); otherwise the rule's template
// goes with the packet to conntrack: its zone (the packet mark's low 16
// bits for --zone mark, taken by conntrack: set here from the mark as it
// is now), and the rest through CTTemplateHost.
func (t *CT) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if st.Ct != nil || st.CtInfo == xtables.CtUntracked {
		return xtables.VerdictCodeContinue
	}
	if t.Flags&CTNotrack != 0 {
		st.Notrack = true
		st.CtInfo = xtables.CtUntracked
		return xtables.VerdictCodeContinue
	}
	if t.Flags&CTZoneMark != 0 {
		st.CtZone, st.CtZoneSet = uint16(st.Mark), true
	} else if t.Zone != 0 || t.Flags&(CTZoneDirOrig|CTZoneDirRepl) != 0 {
		st.CtZone, st.CtZoneSet = t.Zone, true
	}
	if h, ok := st.Env.(CTTemplateHost); ok {
		h.SetCTTemplate(st, t)
	}
	return xtables.VerdictCodeContinue
}
