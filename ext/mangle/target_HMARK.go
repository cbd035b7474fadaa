package mangle

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// HMARK target (libxt_HMARK.c, struct xt_hmark_info): sets the packet mark
// from a hash of selected header fields.

// Option IDs equal the XT_HMARK_* flag bits, as in libxt_HMARK.c.
const (
	hmSrcMask uint = iota
	hmDstMask
	hmSPI
	hmSPIMask
	hmSport
	hmDport
	hmSportMask
	hmDportMask
	hmProtoMask
	hmRnd
	hmModulus
	hmOffset
	hmCT
	hmType // --hmark-tuple; the kernel's bit 13 is XT_HMARK_METHOD_L3
)

// HMARKMethodL3 is XT_HMARK_METHOD_L3 of Flags.
const HMARKMethodL3 = 13

const hmPktMask = 1<<hmSrcMask | 1<<hmDstMask | 1<<hmSPIMask | 1<<hmSportMask |
	1<<hmDportMask | 1<<hmProtoMask | 1<<hmSport | 1<<hmDport | 1<<hmSPI

func init() {
	opts := []xtables.Option{
		{Name: "hmark-tuple", ID: hmType, Type: xtables.TypeString},
		{Name: "hmark-src-prefix", ID: hmSrcMask, Type: xtables.TypePlenMask},
		{Name: "hmark-dst-prefix", ID: hmDstMask, Type: xtables.TypePlenMask},
		{Name: "hmark-sport-mask", ID: hmSportMask, Type: xtables.TypeUint16},
		{Name: "hmark-dport-mask", ID: hmDportMask, Type: xtables.TypeUint16},
		{Name: "hmark-spi-mask", ID: hmSPIMask, Type: xtables.TypeUint32},
		{Name: "hmark-sport", ID: hmSport, Type: xtables.TypeUint16},
		{Name: "hmark-dport", ID: hmDport, Type: xtables.TypeUint16},
		{Name: "hmark-spi", ID: hmSPI, Type: xtables.TypeUint32},
		{Name: "hmark-proto-mask", ID: hmProtoMask, Type: xtables.TypeUint16},
		{Name: "hmark-rnd", ID: hmRnd, Type: xtables.TypeUint32},
		{Name: "hmark-mod", ID: hmModulus, Type: xtables.TypeUint32, Min: 1, Flags: xtables.Mand},
		{Name: "hmark-offset", ID: hmOffset, Type: xtables.TypeUint32},
	}
	for _, f := range []xtables.Family{xtables.IPv4, xtables.IPv6} {
		f := f
		xtables.RegisterTarget(&xtables.TargetType{
			Name:    "HMARK",
			Family:  f,
			Options: opts,
			New: func() xtables.TargetInfo {
				z := xtables.ZeroAddr(f)
				return &HMARK{SrcMask: z, DstMask: z}
			},
		})
	}
}

// HMARK is struct xt_hmark_info. Ports and SPI are kept in host order.
type HMARK struct {
	SrcMask, DstMask  netip.Addr
	SportMask         uint16 // port_mask.p16.src; with DportMask, port_mask.v32
	DportMask         uint16
	Sport, Dport      uint16 // port_set
	Flags             uint32
	ProtoMask         uint16
	HashRnd, HModulus uint32
	HOffset           uint32
	tupleSet          uint64 // option bits --hmark-tuple set (cb->xflags in C)
}

func (h *HMARK) spiMask() uint32 { return uint32(h.SportMask)<<16 | uint32(h.DportMask) }
func (h *HMARK) spiSet() uint32  { return uint32(h.Sport)<<16 | uint32(h.Dport) }

func (h *HMARK) set(bit uint) { h.Flags |= 1 << bit; h.tupleSet |= 1 << bit }

// tuple is hmark_parse: one tuple word, matched as a prefix of each name.
func (h *HMARK) tuple(w string, f xtables.Family) bool {
	is := func(name string) bool {
		return len(w) <= len(name) && strings.EqualFold(w, name[:len(w)])
	}
	switch {
	case is("ct"):
		h.set(hmCT)
	case is("src"):
		h.SrcMask = xtables.PrefixMask(f, f.Bits())
		h.set(hmSrcMask)
	case is("dst"):
		h.DstMask = xtables.PrefixMask(f, f.Bits())
		h.set(hmDstMask)
	case is("sport"):
		h.SportMask = 0xffff
		h.set(hmSportMask)
	case is("dport"):
		h.DportMask = 0xffff
		h.set(hmDportMask)
	case is("proto"):
		h.ProtoMask = 0xffff
		h.set(hmProtoMask)
	case is("spi"):
		h.SportMask, h.DportMask = 0xffff, 0xffff
		h.set(hmSPIMask)
	default:
		return false
	}
	return true
}

func (h *HMARK) Parse(c *xtables.OptionCall) error {
	id := c.Opt.ID
	// --hmark-tuple marks the options it stands for as used.
	if h.tupleSet&(1<<id) != 0 {
		return xtables.Errorf("%s: option \"--%s\" can only be used once.\n", c.Ext, c.Opt.Name)
	}
	u := c.Val.U64
	switch id {
	case hmType:
		arg := c.Arg
		for {
			comma := strings.IndexByte(arg, ',')
			if comma < 0 {
				break
			}
			if comma == 0 || !h.tuple(arg[:comma], c.Ctx.Family) {
				return xtables.Errorf("Bad type \"%s\"", arg)
			}
			arg = arg[comma+1:]
		}
		if arg == "" {
			return xtables.Errorf("\"--hmark-tuple\" requires a list of types with no spaces, e.g. src,dst,sport,dport,proto")
		}
		if !h.tuple(arg, c.Ctx.Family) {
			return xtables.Errorf("Bad type \"%s\"", arg)
		}
		return nil
	case hmSrcMask:
		h.SrcMask = c.Val.Mask
	case hmDstMask:
		h.DstMask = c.Val.Mask
	case hmSPI:
		h.Sport, h.Dport = uint16(u>>16), uint16(u)
	case hmSport:
		h.Sport = uint16(u)
	case hmDport:
		h.Dport = uint16(u)
	case hmSportMask:
		h.SportMask = uint16(u)
	case hmDportMask:
		h.DportMask = uint16(u)
	case hmSPIMask:
		h.SportMask, h.DportMask = uint16(u>>16), uint16(u)
	case hmProtoMask:
		h.ProtoMask = uint16(u)
	case hmRnd:
		h.HashRnd = uint32(u)
	case hmModulus:
		h.HModulus = uint32(u)
	case hmOffset:
		h.HOffset = uint32(u)
	}
	h.Flags |= 1 << id
	return nil
}

func (h *HMARK) Final(f *xtables.FinalCall) error {
	x := f.XFlags | h.tupleSet
	switch {
	case x&(1<<hmModulus) == 0:
		return xtables.Errorf("--hmark-mod is mandatory")
	case x&(1<<hmRnd) == 0:
		return xtables.Errorf("--hmark-rnd is mandatory")
	case x&(1<<hmSPIMask) != 0 && x&(1<<hmSportMask|1<<hmDportMask) != 0:
		return xtables.Errorf("you cannot use --hmark-spi-mask and --hmark-?port-mask,at the same time")
	case x&hmPktMask == 0 && x&(1<<hmCT) == 0:
		return xtables.Errorf("you have to specify --hmark-tuple at least")
	}
	return nil
}

func (h *HMARK) has(bit uint) bool { return h.Flags&(1<<bit) != 0 }

func (h *HMARK) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " HMARK "...)
	if h.has(hmModulus) {
		b = append(xtables.AppendUint(append(b, "mod "...), uint64(h.HModulus)), ' ')
	}
	if h.has(hmOffset) {
		b = append(xtables.AppendHex(append(b, "+ "...), uint64(h.HOffset)), ' ')
	}
	if h.has(hmCT) {
		b = append(b, "ct, "...)
	}
	if h.has(hmSrcMask) {
		b = append(appendMaskLen(append(b, "src-prefix "...), h.SrcMask), ' ')
	}
	if h.has(hmDstMask) {
		b = append(appendMaskLen(append(b, "dst-prefix "...), h.DstMask), ' ')
	}
	item := func(name string, v uint32) {
		b = append(b, name...)
		b = append(xtables.AppendHex(append(b, ' '), uint64(v)), ' ')
	}
	if h.has(hmSportMask) {
		item("sport-mask", uint32(h.SportMask))
	}
	if h.has(hmDportMask) {
		item("dport-mask", uint32(h.DportMask))
	}
	if h.has(hmSPIMask) {
		item("spi-mask", h.spiMask())
	}
	if h.has(hmSport) {
		item("sport", uint32(h.Sport))
	}
	if h.has(hmDport) {
		item("dport", uint32(h.Dport))
	}
	if h.has(hmSPI) {
		item("spi", h.spiSet())
	}
	if h.has(hmProtoMask) {
		item("proto-mask", uint32(h.ProtoMask))
	}
	if h.has(hmRnd) {
		item("rnd", h.HashRnd)
	}
	return b
}

// appendMaskLen prints a mask as its prefix length; for IPv6 it is
// xtables_ip6mask_to_numeric()+1: a non-contiguous mask as an address, and
// nothing for /128 (the C code points one past "").
func appendMaskLen(b []byte, m netip.Addr) []byte {
	n := xtables.MaskBits(m)
	if m.Is6() {
		switch n {
		case -1:
			return m.AppendTo(b)
		case 128:
			return b
		}
	}
	return xtables.AppendUint(b, uint64(uint32(int32(n))))
}

func (h *HMARK) Save(b []byte, ctx *xtables.Context) []byte {
	if h.has(hmSrcMask) {
		b = append(b, " --hmark-src-prefix "...)
		b = appendInt(b, xtables.MaskBits(h.SrcMask))
	}
	if h.has(hmDstMask) {
		b = append(b, " --hmark-dst-prefix "...)
		b = appendInt(b, xtables.MaskBits(h.DstMask))
	}
	item := func(name string, v uint32, digits int) {
		b = append(b, name...)
		b = appendHexN(append(b, ' '), uint64(v), digits)
	}
	if h.has(hmSportMask) {
		item(" --hmark-sport-mask", uint32(h.SportMask), 4)
	}
	if h.has(hmDportMask) {
		item(" --hmark-dport-mask", uint32(h.DportMask), 4)
	}
	if h.has(hmSPIMask) {
		item(" --hmark-spi-mask", h.spiMask(), 8)
	}
	if h.has(hmSport) {
		item(" --hmark-sport", uint32(h.Sport), 4)
	}
	if h.has(hmDport) {
		item(" --hmark-dport", uint32(h.Dport), 4)
	}
	if h.has(hmSPI) {
		item(" --hmark-spi", h.spiSet(), 8)
	}
	if h.has(hmProtoMask) {
		item(" --hmark-proto-mask", uint32(h.ProtoMask), 2)
	}
	if h.has(hmRnd) {
		item(" --hmark-rnd", h.HashRnd, 8)
	}
	if h.has(hmModulus) {
		b = xtables.AppendUint(append(b, " --hmark-mod "...), uint64(h.HModulus))
	}
	if h.has(hmOffset) {
		b = xtables.AppendUint(append(b, " --hmark-offset "...), uint64(h.HOffset))
	}
	if h.has(hmCT) {
		b = append(b, " --hmark-tuple ct"...)
	}
	return b
}

func appendInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	return xtables.AppendUint(b, uint64(n))
}

// Check is hmark_tg_check.
func (h *HMARK) Check(ctx *xtables.Context) error {
	switch {
	case h.HModulus == 0,
		h.ProtoMask != 0 && h.has(HMARKMethodL3),
		h.has(hmSPIMask) && (h.has(hmSportMask) || h.has(hmDportMask)),
		h.has(hmSPI) && (h.has(hmSport) || h.has(hmDport)):
		return errInval
	}
	return nil
}

// hmarkTuple is struct hmark_tuple, in host order.
type hmarkTuple struct {
	src, dst uint32
	ports    uint32
	proto    uint8
}

// addrWord is hmark_addr_mask: the masked IPv4 address, or the XOR of the
// four masked words of an IPv6 one (as numbers in network order).
func addrWord(a, m netip.Addr) uint32 {
	if a.Is4() {
		x, y := a.As4(), m.As4()
		return be.Uint32(x[:]) & be.Uint32(y[:])
	}
	x, y := a.As16(), m.As16()
	var w uint32
	for i := 0; i < 16; i += 4 {
		w ^= be.Uint32(x[i:]) & be.Uint32(y[i:])
	}
	return w
}

// swapPorts is hmark_swap_ports: mask and set the ports, larger first.
func (h *HMARK) swapPorts(sp, dp uint16) uint32 {
	sp = sp&h.SportMask | h.Sport
	dp = dp&h.DportMask | h.Dport
	if dp > sp {
		return uint32(dp)<<16 | uint32(sp)
	}
	return uint32(sp)<<16 | uint32(dp)
}

// setPorts is hmark_set_tuple_ports: the 4 bytes at the protocol's ports
// offset (the SPI for ESP and AH), left zero when not there.
func (h *HMARK) setPorts(t *hmarkTuple, b []byte) {
	poff := -1
	switch t.proto {
	case 6, 17, 136, 33, 132, 50:
		poff = 0
	case 51:
		poff = 4
	}
	if poff < 0 || poff+4 > len(b) {
		return
	}
	t.ports = h.swapPorts(be.Uint16(b[poff:]), be.Uint16(b[poff+2:]))
}

// pktTuple is hmark_pkt_set_htuple_ipv4/ipv6: the packet's header, or
// the one an ICMP error quotes.
func (h *HMARK) pktTuple(p *packet.Packet) (hmarkTuple, bool) {
	var t hmarkTuple
	hd := &p.Headers
	if p.Layers&packet.LayerInner != 0 {
		icmpErr := false
		if hd.IsIPv4() {
			ty := hd.ICMP.Type
			icmpErr = ty <= 18 && (ty == 3 || ty == 4 || ty == 5 || ty == 11 || ty == 12)
		} else {
			icmpErr = hd.ICMP.Type != 0 && hd.ICMP.Type < 128 && !hd.IsFragment()
		}
		if icmpErr {
			hd = &p.Inner
		}
	}
	if hd.IsIPv4() && len(hd.Net) < 20 || hd.IsIPv6() && len(hd.Net) < 40 {
		return t, false
	}
	t.src = addrWord(hd.Src(), h.SrcMask)
	t.dst = addrWord(hd.Dst(), h.DstMask)
	if h.Flags&(1<<HMARKMethodL3) != 0 {
		return t, true
	}
	if hd.IsIPv4() {
		t.proto = hd.IPv4.Protocol
		if t.proto == 1 || hd.IPv4.Flags&packet.IPv4MF != 0 || hd.IPv4.FragOff != 0 {
			return t, true
		}
	} else {
		t.proto = hd.Proto
		if ah := ahOffset(hd); ah > 0 {
			// ipv6_find_hdr with IP6_FH_F_AUTH stops at AH: its SPI
			// stands for the ports, as ESP's does.
			t.proto = packet.ProtoAH
			h.setPorts(&t, hd.Data[ah:])
			return t, true
		}
		if t.proto == 58 || hd.Layers&packet.LayerFragment != 0 {
			return t, true
		}
	}
	off := transportOffset(hd)
	if off <= len(hd.Data) {
		h.setPorts(&t, hd.Data[off:])
	}
	return t, true
}

// ctTuple is hmark_ct_set_htuple: the connection's original source and
// reply source (the real destination), and their ports.
func (h *HMARK) ctTuple(c xtables.Conn) hmarkTuple {
	o, r := c.Tuple(0), c.Tuple(1)
	t := hmarkTuple{src: addrWord(o.Src, h.SrcMask), dst: addrWord(r.Src, h.DstMask)}
	if h.Flags&(1<<HMARKMethodL3) != 0 {
		return t
	}
	t.proto = o.Proto
	if t.proto != 1 {
		t.ports = h.swapPorts(o.SrcPort, r.SrcPort)
	}
	return t
}

// TargetPacket is hmark_tg_v4/v6: the mark is the hash of the tuple
// (addresses in order, ports, protocol under its mask) scaled into the
// modulus, plus the offset.
func (h *HMARK) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	var t hmarkTuple
	if h.Flags&(1<<hmCT) != 0 {
		if st.Ct == nil {
			return xtables.VerdictCodeContinue
		}
		t = h.ctTuple(st.Ct)
	} else {
		var ok bool
		if t, ok = h.pktTuple(st.Pkt); !ok {
			return xtables.VerdictCodeContinue
		}
	}
	src, dst := t.src, t.dst
	if dst < src {
		src, dst = dst, src
	}
	hash := kern.Jhash3Words(src, dst, t.ports, h.HashRnd)
	hash ^= uint32(uint16(t.proto) & h.ProtoMask)
	st.Mark = kern.ReciprocalScale(hash, h.HModulus) + h.HOffset
	return xtables.VerdictCodeContinue
}

// ahOffset is where an IPv6 packet's AH header starts (0 when it has
// none, or when a fragment header comes first).
func ahOffset(h *packet.Headers) int {
	if h.Layers&packet.LayerAH == 0 {
		return 0
	}
	off := 40
	for i := 0; i < int(h.NumExt); i++ {
		switch h.Ext[i].Proto {
		case packet.ProtoAH:
			return off
		case packet.ProtoFragment:
			return 0
		}
		off += len(h.Ext[i].Data)
	}
	return 0
}
