package xfrm

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// FormatOptions are ip(8)'s options that change the listing.
type FormatOptions struct {
	// Stats is the number of -s options (show_stats).
	Stats int
	// NoKeys hides keys ("ip xfrm state list nokeys").
	NoKeys bool
	// Oneline is -o: records on one line, lines joined by "\".
	Oneline bool
	// ProtoName is getprotobynumber (nil: numbers).
	ProtoName func(uint8) string
	// IfName is ll_index_to_name (nil: "if" and the index).
	IfName func(int) string
	// Location is the time zone of strxf_time (nil: time.Local).
	Location *time.Location
}

func (o *FormatOptions) sl() string {
	if o.Oneline {
		return "\\"
	}
	return "\n"
}

// strxfTime is strxf_time: "-" for 0, else the local date and time.
func (o *FormatOptions) strxfTime(t int64) string {
	if t == 0 {
		return "-"
	}
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	return time.Unix(t, 0).In(loc).Format("2006-01-02 15:04:05")
}

// XfrmProtoName is strxf_xfrmproto.
func XfrmProtoName(p uint8) string {
	switch p {
	case ProtoESP:
		return "esp"
	case ProtoAH:
		return "ah"
	case ProtoComp:
		return "comp"
	case ProtoRouting:
		return "route2"
	case ProtoDstOpts:
		return "hao"
	case ProtoIPsecAny:
		return "ipsec-any"
	}
	return strconv.Itoa(int(p))
}

// addrString is rt_addr_n2a of an xfrm_address_t in a family.
func addrString(a netip.Addr, f Family) string {
	b := addrBytes(a)
	switch f {
	case Inet:
		return netip.AddrFrom4([4]byte(b[:4])).String()
	case Inet6:
		return netip.AddrFrom16(b).String()
	}
	return "???"
}

func maskBits8(v uint8) string {
	var b [8]byte
	for i := 0; i < 8; i++ {
		if v&(0x80>>i) != 0 {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
	}
	return string(b[:])
}

// flagList is XFRM_FLAG_PRINT over a list of (bit, name): each name
// followed by a space when bits remain, then the unknown bits in hex.
func flagList(b []byte, flags uint32, names []flagName) []byte {
	for _, n := range names {
		if flags&n.bit != 0 {
			flags &^= n.bit
			b = append(b, n.name...)
			if flags != 0 {
				b = append(b, ' ')
			}
		}
	}
	if flags != 0 {
		b = strconv.AppendUint(b, uint64(flags), 16)
	}
	return b
}

type flagName struct {
	bit  uint32
	name string
}

var stateFlagNames = []flagName{
	{StateNoECN, "noecn"}, {StateDecapDSCP, "decap-dscp"}, {StateNoPMTUDisc, "nopmtudisc"},
	{StateWildRecv, "wildrecv"}, {StateICMP, "icmp"}, {StateAFUnspec, "af-unspec"},
	{StateAlign4, "align4"}, {StateESN, "esn"},
}

var extraFlagNames = []flagName{{ExtraDontEncapDSCP, "dont-encap-dscp"}, {ExtraOSeqMayWrap, "oseq-may-wrap"}}

var policyFlagNames = []flagName{{PolicyLocalOK, "localok"}, {PolicyICMP, "icmp"}}

// idInfo is xfrm_id_info_print.
func (o *FormatOptions) idInfo(b []byte, saddr, daddr netip.Addr, proto uint8, spi uint32, mode Mode,
	reqid uint32, f Family, forceSPI bool, prefix, title string) []byte {
	b = append(b, title...)
	b = append(b, "src "+addrString(saddr, f)+" dst "+addrString(daddr, f)+o.sl()...)
	b = append(b, prefix+"\tproto "+XfrmProtoName(proto)+" "...)
	if o.Stats > 0 || forceSPI || spi != 0 {
		b = fmt.Appendf(b, "spi 0x%08x", spi)
		if o.Stats > 0 {
			b = fmt.Appendf(b, "(%d)", spi)
		}
		b = append(b, ' ')
	}
	b = fmt.Appendf(b, "reqid %d", reqid)
	if o.Stats > 0 {
		b = fmt.Appendf(b, "(0x%08x)", reqid)
	}
	b = append(b, " mode "+mode.String()+o.sl()...)
	return b
}

// selector is xfrm_selector_print.
func (o *FormatOptions) selector(b []byte, s *Selector, f Family, prefix string) []byte {
	fam := s.Family
	if fam == Unspec {
		fam = f
	}
	b = append(b, prefix...)
	b = fmt.Appendf(b, "src %s/%d ", addrString(s.Src, fam), s.SrcLen)
	b = fmt.Appendf(b, "dst %s/%d ", addrString(s.Dst, fam), s.DstLen)
	if s.Proto != 0 {
		b = append(b, "proto "+o.protoName(s.Proto)+" "...)
	}
	switch s.Proto {
	case protoICMP, protoICMPv6:
		if s.SportMask != 0 {
			b = fmt.Appendf(b, "type %d ", s.Sport)
		}
		if s.DportMask != 0 {
			b = fmt.Appendf(b, "code %d ", s.Dport)
		}
	case protoGRE:
		if s.SportMask != 0 || s.DportMask != 0 {
			b = fmt.Appendf(b, "key %d ", uint32(s.Sport)<<16+uint32(s.Dport))
		}
	case protoMH:
		if s.SportMask != 0 {
			b = fmt.Appendf(b, "type %d ", s.Sport)
		}
		if s.DportMask != 0 && o.Stats > 0 {
			// printed as the raw network-order field
			b = fmt.Appendf(b, "(dport) 0x%.4x ", s.Dport>>8|s.Dport<<8)
		}
	default:
		if s.SportMask != 0 {
			b = fmt.Appendf(b, "sport %d ", s.Sport)
		}
		if s.DportMask != 0 {
			b = fmt.Appendf(b, "dport %d ", s.Dport)
		}
	}
	if s.Ifindex > 0 {
		b = append(b, "dev "+o.ifName(s.Ifindex)+" "...)
	}
	if o.Stats > 0 {
		b = fmt.Appendf(b, "uid %d", s.User)
	}
	return append(b, o.sl()...)
}

func (o *FormatOptions) protoName(p uint8) string {
	if o.ProtoName != nil {
		if n := o.ProtoName(p); n != "" {
			return n
		}
	}
	return strconv.Itoa(int(p))
}

func (o *FormatOptions) ifName(i int) string {
	if o.IfName != nil {
		if n := o.IfName(i); n != "" {
			return n
		}
	}
	return "if" + strconv.Itoa(i)
}

func strxfLimit(v uint64) string {
	if v == Inf {
		return "(INF)"
	}
	return strconv.FormatUint(v, 10)
}

// lifetime is xfrm_lifetime_print.
func (o *FormatOptions) lifetime(b []byte, cfg *LifetimeCfg, cur *LifetimeCur, prefix string) []byte {
	sl := o.sl()
	b = append(b, prefix+"lifetime config:"+sl...)
	b = append(b, prefix+"  limit: soft "+strxfLimit(cfg.SoftBytes)+"(bytes), hard "+strxfLimit(cfg.HardBytes)+"(bytes)"+sl...)
	b = append(b, prefix+"  limit: soft "+strxfLimit(cfg.SoftPackets)+"(packets), hard "+strxfLimit(cfg.HardPackets)+"(packets)"+sl...)
	b = fmt.Appendf(b, "%s  expire add: soft %d(sec), hard %d(sec)%s", prefix, cfg.SoftAdd, cfg.HardAdd, sl)
	b = fmt.Appendf(b, "%s  expire use: soft %d(sec), hard %d(sec)%s", prefix, cfg.SoftUse, cfg.HardUse, sl)
	b = append(b, prefix+"lifetime current:"+sl...)
	b = fmt.Appendf(b, "%s  %d(bytes), %d(packets)%s", prefix, cur.Bytes, cur.Packets, sl)
	b = append(b, prefix+"  add "+o.strxfTime(cur.AddTime)+" use "+o.strxfTime(cur.UseTime)+sl...)
	return b
}

// algo is __xfrm_algo_print.
func (o *FormatOptions) algo(b []byte, typ string, a *Algo, prefix string) []byte {
	b = append(b, prefix+typ+" "+a.Name+" "...)
	switch {
	case o.NoKeys:
		b = append(b, "<<Keys hidden>>"...)
	case a.KeyBits/8 > 0:
		b = append(b, "0x"...)
		for i := 0; i < a.KeyBits/8 && i < len(a.Key); i++ {
			b = fmt.Appendf(b, "%.2x", a.Key[i])
		}
		if o.Stats > 0 {
			b = fmt.Appendf(b, " (%d bits)", a.KeyBits)
		}
	}
	return b
}

// hexMark is printf's %#x: 0 is "0", else 0x and the digits.
func hexMark(v uint32) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// AppendState appends a state as `ip xfrm state` lists it
// (xfrm_state_info_print and xfrm_xfrma_print of the attributes the kernel
// dumps: copy_to_user_state_extra).
func AppendState(b []byte, x *State, o *FormatOptions) []byte {
	sl := o.sl()
	b = o.idInfo(b, x.Src, x.Dst, x.Proto, x.SPI, x.Mode, x.Reqid, x.Family, isIPsecProto(x.Proto), "", "")
	b = fmt.Appendf(b, "\treplay-window %d ", x.ReplayWindow)
	if o.Stats > 0 {
		b = fmt.Appendf(b, "seq 0x%08d ", x.KmSeq)
	}
	if o.Stats > 0 || x.Flags != 0 {
		b = append(b, "flag "...)
		b = flagList(b, uint32(x.Flags), stateFlagNames)
	}
	if o.Stats > 0 && x.ExtraFlags != 0 {
		b = append(b, "extra_flag "...)
		b = flagList(b, x.ExtraFlags, extraFlagNames)
	}
	if o.Stats > 0 {
		b = append(b, " (0x"+maskBits8(x.Flags)+")"...)
	}
	b = append(b, sl...)

	// xfrm_xfrma_print with prefix "\t"
	p := "\t"
	switch {
	case x.Mark.V|x.Mark.M != 0:
		b = append(b, "\tmark "+hexMark(x.Mark.V)+"/"+hexMark(x.Mark.M)+" "...)
		if x.SetMark.V|x.SetMark.M != 0 {
			b = fmt.Appendf(b, "output-mark 0x%x/0x%x", x.SetMark.V, x.SetMark.M)
		}
		b = append(b, sl...)
	case x.SetMark.V|x.SetMark.M != 0:
		b = fmt.Appendf(b, "\toutput-mark 0x%x/0x%x%s", x.SetMark.V, x.SetMark.M, sl)
	}
	if x.Auth != nil {
		b = o.algo(b, "auth-trunc", x.Auth, p)
		b = fmt.Appendf(b, " %d%s", x.Auth.TruncLen, sl)
	}
	if x.AEAD != nil {
		b = o.algo(b, "aead", x.AEAD, p)
		b = fmt.Appendf(b, " %d%s", x.AEAD.ICVLen, sl)
	}
	if x.Enc != nil {
		b = append(o.algo(b, "enc", x.Enc, p), sl...)
	}
	if x.Comp != nil {
		b = append(o.algo(b, "comp", x.Comp, p), sl...)
	}
	if e := x.Encap; e != nil {
		b = append(b, p+"encap type "...)
		switch e.Type {
		case EncapESPinUDPNonIKE:
			b = append(b, "espinudp-nonike "...)
		case EncapESPinUDP:
			b = append(b, "espinudp "...)
		case EncapESPinTCP:
			b = append(b, "espintcp "...)
		default:
			b = fmt.Appendf(b, "%d ", e.Type)
		}
		b = fmt.Appendf(b, "sport %d dport %d addr %s%s", e.Sport, e.Dport, addrString(e.OA, x.Family), sl)
	}
	if x.Coaddr.IsValid() {
		b = append(b, p+"coa "+addrString(x.Coaddr, x.Family)+sl...)
	}
	if x.LastUsed != 0 {
		b = append(b, p+"lastused "+o.strxfTime(x.LastUsed)+sl...)
	}
	if r := &x.Replay; r.ESN {
		b = append(b, p+"anti-replay esn context:"+sl...)
		b = fmt.Appendf(b, "%s seq-hi 0x%x, seq 0x%x, oseq-hi 0x%x, oseq 0x%x%s", p, r.SeqHi, r.Seq, r.OSeqHi, r.OSeq, sl)
		b = fmt.Appendf(b, "%s replay_window %d, bitmap-length %d", p, r.Window, len(r.Bmp))
		for i, j := len(r.Bmp), 0; i > 0; i-- {
			if j%8 == 0 {
				b = append(b, sl+p+" "...)
			}
			j++
			b = fmt.Appendf(b, "%08x ", r.Bmp[i-1])
		}
		b = append(b, sl...)
	} else {
		b = fmt.Appendf(b, "%santi-replay context: seq 0x%x, oseq 0x%x, bitmap 0x%08x%s", p, r.Seq, r.OSeq, r.Bitmap, sl)
	}
	if x.IfID != 0 {
		b = append(b, p+"if_id "+hexMark(x.IfID)+sl...)
	}
	if x.TFCPad != 0 {
		b = fmt.Appendf(b, "%stfcpad %d%s", p, x.TFCPad, sl)
	}
	if !x.Sel.IsZero() {
		b = o.selector(b, &x.Sel, x.Family, p+"sel ")
	}
	if o.Stats > 0 {
		b = o.lifetime(b, &x.Lft, &x.Cur, p)
		b = append(b, p+"stats:"+sl...)
		b = fmt.Appendf(b, "%s  replay-window %d replay %d failed %d%s", p, x.Stats.ReplayWindow, x.Stats.Replay, x.Stats.IntegrityFailed, sl)
	}
	if o.Oneline {
		b = append(b, '\n')
	}
	return b
}

// AppendPolicy appends a policy as `ip xfrm policy` lists it
// (xfrm_policy_info_print and the attributes of dump_one_policy).
func AppendPolicy(b []byte, pol *Policy, o *FormatOptions) []byte {
	sl := o.sl()
	b = o.selector(b, &pol.Sel, pol.Sel.Family, "")
	p := "\t"
	// xfrm_policy_info_print: a socket's policy is "socket in"
	if pol.Dir.Socket() {
		b = append(b, p+"socket "+(pol.Dir-numDirs).String()+" "...)
	} else {
		b = append(b, p+"dir "+pol.Dir.String()+" "...)
	}
	switch pol.Action {
	case Allow:
		if o.Stats > 0 {
			b = append(b, "action allow "...)
		}
	case Block:
		b = append(b, "action block "...)
	default:
		b = fmt.Appendf(b, "action %d ", pol.Action)
	}
	if o.Stats > 0 {
		b = fmt.Appendf(b, "index %d ", pol.Index)
	}
	b = fmt.Appendf(b, "priority %d ", pol.Priority)
	switch pol.Type {
	case TypeMain:
		b = append(b, "ptype main "...)
	case TypeSub:
		b = append(b, "ptype sub "...)
	default:
		b = fmt.Appendf(b, "ptype %d ", pol.Type)
	}
	if o.Stats > 0 {
		b = append(b, "share "+shareName(pol.Share)+" "...)
	}
	if o.Stats > 0 || pol.Flags != 0 {
		b = append(b, "flag "...)
		b = flagList(b, uint32(pol.Flags), policyFlagNames)
	}
	if o.Stats > 0 {
		b = append(b, " (0x"+maskBits8(pol.Flags)+")"...)
	}
	b = append(b, sl...)
	if o.Stats > 0 {
		b = o.lifetime(b, &pol.Lft, &pol.Cur, p)
	}
	if pol.Mark.V|pol.Mark.M != 0 {
		b = append(b, "\tmark "+hexMark(pol.Mark.V)+"/"+hexMark(pol.Mark.M)+" "+sl...)
	}
	for i := range pol.Tmpls {
		t := &pol.Tmpls[i]
		b = append(b, p...)
		b = o.idInfo(b, t.Src, t.Dst, t.Proto, t.SPI, t.Mode, t.Reqid, t.Family, false, p, "tmpl ")
		if o.Stats > 0 || t.Optional != 0 {
			b = append(b, p+"\t"...)
			switch t.Optional {
			case 0:
				if o.Stats > 0 {
					b = append(b, "level required "...)
				}
			case 1:
				b = append(b, "level use "...)
			default:
				b = fmt.Appendf(b, "level %d ", t.Optional)
			}
			if o.Stats > 0 {
				b = append(b, "share "+shareName(t.Share)+" "...)
			}
			b = append(b, sl...)
		}
		if o.Stats > 0 {
			b = fmt.Appendf(b, "%s\tenc-mask %.8x auth-mask %.8x comp-mask %.8x%s", p, t.EAlgos, t.AAlgos, t.CAlgos, sl)
		}
	}
	if pol.IfID != 0 {
		b = append(b, p+"if_id "+hexMark(pol.IfID)+sl...)
	}
	if o.Oneline {
		b = append(b, '\n')
	}
	return b
}

func shareName(s uint8) string {
	switch s {
	case 0:
		return "any"
	case 1:
		return "session"
	case 2:
		return "user"
	case 3:
		return "unique"
	}
	return strconv.Itoa(int(s))
}
