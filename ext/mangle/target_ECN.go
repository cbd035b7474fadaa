package mangle

import (
	"strconv"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// ECN target, IPv4 only (libipt_ECN.c, struct ipt_ECN_info). Mangle table.

const (
	ecnOptRemove uint = iota
	ecnOptCWR
	ecnOptECE
	ecnOptECT
)

// Operation bits of ipt_ECN_info.
const (
	ECNOpSetIP  = 0x01
	ECNOpSetECE = 0x10
	ECNOpSetCWR = 0x20
	ecnOpMask   = 0xce
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "ECN",
		Family: xtables.IPv4,
		Options: []xtables.Option{
			{Name: "ecn-tcp-remove", ID: ecnOptRemove, Type: xtables.TypeNone, Excl: 1<<ecnOptCWR | 1<<ecnOptECE},
			{Name: "ecn-tcp-cwr", ID: ecnOptCWR, Type: xtables.TypeUint8, Min: 0, Max: 1, Excl: 1 << ecnOptRemove},
			{Name: "ecn-tcp-ece", ID: ecnOptECE, Type: xtables.TypeUint8, Min: 0, Max: 1, Excl: 1 << ecnOptRemove},
			{Name: "ecn-ip-ect", ID: ecnOptECT, Type: xtables.TypeUint8, Min: 0, Max: 3},
		},
		New: func() xtables.TargetInfo { return &ECN{} },
	})
}

// ECN is struct ipt_ECN_info; ECE and CWR are its one-bit TCP fields.
type ECN struct {
	Operation uint8
	IPECT     uint8
	ECE, CWR  uint8
}

func (e *ECN) Parse(c *xtables.OptionCall) error {
	v := uint8(c.Val.U64)
	switch c.Opt.ID {
	case ecnOptRemove:
		e.Operation = ECNOpSetECE | ECNOpSetCWR
		e.ECE, e.CWR = 0, 0
	case ecnOptCWR:
		e.Operation |= ECNOpSetCWR
		e.CWR = v
	case ecnOptECE:
		e.Operation |= ECNOpSetECE
		e.ECE = v
	case ecnOptECT:
		e.Operation |= ECNOpSetIP
		e.IPECT = v
	}
	return nil
}

func (e *ECN) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("ECN target: An operation is required")
	}
	return nil
}

func (e *ECN) remove() bool {
	return e.Operation == ECNOpSetECE|ECNOpSetCWR && e.ECE == 0 && e.CWR == 0
}

func (e *ECN) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ECN"...)
	if e.remove() {
		return append(b, " TCP remove"...)
	}
	if e.Operation&ECNOpSetECE != 0 {
		b = strconv.AppendUint(append(b, " ECE="...), uint64(e.ECE), 10)
	}
	if e.Operation&ECNOpSetCWR != 0 {
		b = strconv.AppendUint(append(b, " CWR="...), uint64(e.CWR), 10)
	}
	if e.Operation&ECNOpSetIP != 0 {
		b = strconv.AppendUint(append(b, " ECT codepoint="...), uint64(e.IPECT), 10)
	}
	return b
}

func (e *ECN) Save(b []byte, ctx *xtables.Context) []byte {
	if e.remove() {
		return append(b, " --ecn-tcp-remove"...)
	}
	if e.Operation&ECNOpSetECE != 0 {
		b = strconv.AppendUint(append(b, " --ecn-tcp-ece "...), uint64(e.ECE), 10)
	}
	if e.Operation&ECNOpSetCWR != 0 {
		b = strconv.AppendUint(append(b, " --ecn-tcp-cwr "...), uint64(e.CWR), 10)
	}
	if e.Operation&ECNOpSetIP != 0 {
		b = strconv.AppendUint(append(b, " --ecn-ip-ect "...), uint64(e.IPECT), 10)
	}
	return b
}

// Check is ecn_tg_check: mangle table; setting TCP bits needs -p tcp.
func (e *ECN) Check(ctx *xtables.Context) error {
	switch {
	case ctx.Table != "mangle",
		e.Operation&ecnOpMask != 0,
		e.IPECT&^3 != 0,
		e.Operation&(ECNOpSetECE|ECNOpSetCWR) != 0 && !isProto(ctx, protoTCP):
		return errInval
	}
	return nil
}

// TargetPacket is ecn_tg: the IP ECN codepoint, then the TCP ECE/CWR bits
// (even in a later fragment, whose first bytes the kernel takes for the
// TCP header, as long as 20 of them are there).
func (e *ECN) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	h := &st.Pkt.Headers
	if !h.IsIPv4() || len(h.Net) < 20 {
		return xtables.VerdictCodeContinue
	}
	if e.Operation&ECNOpSetIP != 0 && h.IPv4.TOS&0x03 != e.IPECT&0x03 {
		old := h.Net[1]
		nt := old&^0x03 | e.IPECT&0x03
		h.Net[1] = nt
		csumReplace2(h.Net, 10, uint16(old), uint16(nt))
		h.IPv4.TOS, h.IPv4.Checksum = nt, be.Uint16(h.Net[10:])
	}
	if e.Operation&(ECNOpSetECE|ECNOpSetCWR) == 0 || h.IPv4.Protocol != protoTCP {
		return xtables.VerdictCodeContinue
	}
	off := transportOffset(h)
	if off+20 > len(h.Data) {
		return xtables.VerdictCodeDrop // set_ect_tcp: not enough header
	}
	tcp := h.Data[off:]
	ece, cwr := tcp[13]>>6&1, tcp[13]>>7&1
	if (e.Operation&ECNOpSetECE == 0 || ece == e.ECE) && (e.Operation&ECNOpSetCWR == 0 || cwr == e.CWR) {
		return xtables.VerdictCodeContinue
	}
	old := be.Uint16(tcp[12:])
	if e.Operation&ECNOpSetECE != 0 {
		tcp[13] = tcp[13]&^0x40 | (e.ECE&1)<<6
	}
	if e.Operation&ECNOpSetCWR != 0 {
		tcp[13] = tcp[13]&^0x80 | (e.CWR&1)<<7
	}
	csumReplace2(tcp, 16, old, be.Uint16(tcp[12:]))
	if h.Layers&packet.LayerTCP != 0 {
		h.TCP.Flags, h.TCP.Checksum = tcp[13], be.Uint16(tcp[16:])
	}
	return xtables.VerdictCodeContinue
}
