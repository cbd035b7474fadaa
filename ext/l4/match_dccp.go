package l4

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// dccp match (libxt_dccp.c, struct xt_dccp_info).

const (
	dccpOptSport uint = iota
	dccpOptDport
	dccpOptTypes
	dccpOptOption
)

const (
	dccpSrcPorts  = 0x01 // XT_DCCP_SRC_PORTS
	dccpDestPorts = 0x02
	dccpType      = 0x04
	dccpOption    = 0x08
)

// dccpInvalid is DCCP_PKT_INVALID; types 11-15 count as invalid too.
const (
	dccpInvalid          = 10
	dccpInvalidOtherMask = 0xf800
)

var dccpPktTypes = []string{
	"REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE",
	"RESET", "SYNC", "SYNCACK", "INVALID",
}

func init() {
	inv := xtables.Invert
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "dccp",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "source-port", ID: dccpOptSport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "sport", ID: dccpOptSport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "destination-port", ID: dccpOptDport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "dport", ID: dccpOptDport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "dccp-types", ID: dccpOptTypes, Type: xtables.TypeString, Flags: inv},
			{Name: "dccp-option", ID: dccpOptOption, Type: xtables.TypeUint8, Flags: inv, Min: 1, Max: 255},
		},
		New: func() xtables.MatchInfo { return &DCCP{} },
		Help: "dccp match options\n" +
			"[!] --source-port port[:port]                          match source port(s)\n" +
			" --sport ...\n" +
			"[!] --destination-port port[:port]                     match destination port(s)\n" +
			" --dport ...\n" +
			"[!] --dccp-types type[,...]                            match when packet is one of the given types\n" +
			"[!] --dccp-option option                               match if option (by number!) is set\n",
	})
}

// DCCP is struct xt_dccp_info.
type DCCP struct {
	Dpts, Spts [2]uint16
	Flags      uint16
	InvFlags   uint16
	TypeMask   uint16
	Option     uint8
}

// parseDCCPTypes is parse_dccp_types.
func parseDCCPTypes(s string) (uint16, error) {
	var mask uint16
	for _, p := range strings.Split(s, ",") {
		if p == "" { // strtok skips empty fields
			continue
		}
		i := 0
		for i < len(dccpPktTypes) && !strings.EqualFold(dccpPktTypes[i], p) {
			i++
		}
		if i == len(dccpPktTypes) {
			return 0, xtables.Errorf("Unknown DCCP type `%s'", p)
		}
		mask |= 1 << i
	}
	if mask&(1<<dccpInvalid) != 0 {
		mask |= dccpInvalidOtherMask
	}
	return mask, nil
}

func (d *DCCP) Parse(c *xtables.OptionCall) error {
	var bit uint16
	switch c.Opt.ID {
	case dccpOptSport:
		bit = dccpSrcPorts
		d.Spts = c.Val.Ports // no min > max check, as XTTYPE_PORTRC
	case dccpOptDport:
		bit = dccpDestPorts
		d.Dpts = c.Val.Ports
	case dccpOptTypes:
		bit = dccpType
		m, err := parseDCCPTypes(c.Arg)
		if err != nil {
			return err
		}
		d.TypeMask = m
	case dccpOptOption:
		bit = dccpOption
		d.Option = uint8(c.Val.U64)
	}
	d.Flags |= bit
	if c.Invert {
		d.InvFlags |= bit
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p dccp).
func (d *DCCP) Check(ctx *xtables.Context) error { return checkProto(ctx, 33) }

// appendTypes is print_types.
func appendDCCPTypes(b []byte, types uint16, inv, numeric bool) []byte {
	if inv {
		b = append(b, " !"...)
	}
	b = append(b, ' ')
	first := true
	for types != 0 {
		i := 0
		for types&(1<<i) == 0 {
			i++
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if numeric {
			b = xtables.AppendUint(b, uint64(i))
		} else {
			if i < len(dccpPktTypes) {
				b = append(b, dccpPktTypes[i]...)
			}
			if i >= dccpInvalid { // INVALID stands for 11-15 too
				break
			}
		}
		types &^= 1 << i
	}
	return b
}

func (d *DCCP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " dccp"...)
	if d.Flags&dccpSrcPorts != 0 {
		b = appendPorts(b, "spt", d.Spts, d.InvFlags&dccpSrcPorts != 0, "dccp", ctx)
	}
	if d.Flags&dccpDestPorts != 0 {
		b = appendPorts(b, "dpt", d.Dpts, d.InvFlags&dccpDestPorts != 0, "dccp", ctx)
	}
	if d.Flags&dccpType != 0 {
		b = appendDCCPTypes(b, d.TypeMask, d.InvFlags&dccpType != 0, ctx.Numeric)
	}
	if d.Flags&dccpOption != 0 && (d.Option != 0 || d.InvFlags&dccpOption != 0) {
		b = append(b, " option="...)
		if d.InvFlags&dccpOption != 0 {
			b = append(b, '!')
		}
		b = xtables.AppendUint(b, uint64(d.Option))
	}
	return b
}

func (d *DCCP) Save(b []byte, ctx *xtables.Context) []byte {
	if d.Flags&dccpSrcPorts != 0 {
		b = appendSaveRange(b, "--sport", uint64(d.Spts[0]), uint64(d.Spts[1]), d.InvFlags&dccpSrcPorts != 0)
	}
	if d.Flags&dccpDestPorts != 0 {
		b = appendSaveRange(b, "--dport", uint64(d.Dpts[0]), uint64(d.Dpts[1]), d.InvFlags&dccpDestPorts != 0)
	}
	if d.Flags&dccpType != 0 {
		b = xtables.AppendInv(b, d.InvFlags&dccpType != 0)
		b = append(b, " --dccp-types"...)
		b = appendDCCPTypes(b, d.TypeMask, false, false)
	}
	if d.Flags&dccpOption != 0 {
		b = xtables.AppendInv(b, d.InvFlags&dccpOption != 0)
		b = append(b, " --dccp-option "...)
		b = xtables.AppendUint(b, uint64(d.Option))
	}
	return b
}

// dccpHdrLen is __dccp_hdr_len: the generic header (12 bytes), the
// extended sequence number (4) when X is set, and the type's own part.
func dccpHdrLen(dh []byte) int {
	n := 12
	if dh[8]&1 != 0 {
		n += 4
	}
	switch typ := dh[8] >> 1 & 0xf; typ {
	case 2: // DATA
	case 3, 4, 5, 6, 8, 9: // ACK, DATAACK, CLOSEREQ, CLOSE, SYNC, SYNCACK
		n += 8
	case 0: // REQUEST
		n += 4
	default: // RESPONSE, RESET and the invalid types: a reset's size
		n += 12
	}
	return n
}

// dccpOptionFound is dccp_find_option.
func dccpOptionFound(in *pktinfo, dh []byte, option uint8) (found, drop bool) {
	hl := dccpHdrLen(dh)
	doff := int(dh[4]) * 4
	if doff < hl {
		return false, true
	}
	optlen := doff - hl
	if optlen == 0 {
		return false, false
	}
	op := in.at(in.thoff+hl, optlen)
	if op == nil {
		return false, true
	}
	for i := 0; i < optlen; {
		if op[i] == option {
			return true, false
		}
		if op[i] < 2 || i == optlen-1 {
			i++
			continue
		}
		if op[i+1] == 0 {
			i++
		} else {
			i += int(op[i+1])
		}
	}
	return false, false
}

// MatchPacket is dccp_mt (xt_dccp.c): each given option in turn, the
// option search last (it may drop the packet).
func (d *DCCP) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	dh := in.header(12)
	if dh == nil {
		st.HotDrop = true
		return false
	}
	check := func(bit uint16, cond bool) bool {
		return d.Flags&bit == 0 || cond != (d.InvFlags&bit != 0)
	}
	sport, dport := be16(dh), be16(dh[2:])
	if !check(dccpSrcPorts, sport >= d.Spts[0] && sport <= d.Spts[1]) ||
		!check(dccpDestPorts, dport >= d.Dpts[0] && dport <= d.Dpts[1]) ||
		!check(dccpType, d.TypeMask&(1<<(dh[8]>>1&0xf)) != 0) {
		return false
	}
	if d.Flags&dccpOption == 0 {
		return true
	}
	found, drop := dccpOptionFound(&in, dh, d.Option)
	if drop {
		st.HotDrop = true
		return false
	}
	return found != (d.InvFlags&dccpOption != 0)
}
