package mangle

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// TPROXY target, revision 1 (libxt_TPROXY.c, struct
// xt_tproxy_target_info_v1). Mangle PREROUTING, -p tcp or -p udp.

const (
	tpOptPort uint = iota
	tpOptAddr
	tpOptMark
)

func init() {
	for _, f := range []xtables.Family{xtables.IPv4, xtables.IPv6} {
		f := f
		xtables.RegisterTarget(&xtables.TargetType{
			Name:     "TPROXY",
			Revision: 1,
			Family:   f,
			Options: []xtables.Option{
				{Name: "on-port", ID: tpOptPort, Type: xtables.TypePort, Flags: xtables.Mand},
				{Name: "on-ip", ID: tpOptAddr, Type: xtables.TypeHost},
				{Name: "tproxy-mark", ID: tpOptMark, Type: xtables.TypeString},
			},
			New: func() xtables.TargetInfo { return &TProxy{LAddr: xtables.ZeroAddr(f)} },
		})
	}
}

// TProxy is struct xt_tproxy_target_info_v1.
type TProxy struct {
	MarkMask, MarkValue uint32
	LAddr               netip.Addr
	LPort               uint16
}

func (t *TProxy) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case tpOptPort:
		t.LPort = c.Val.Port
	case tpOptAddr:
		t.LAddr = c.Val.Addr
	case tpOptMark:
		v, m, err := parseValMask(c)
		if err != nil {
			return err
		}
		t.MarkValue, t.MarkMask = v, m
	}
	return nil
}

func (t *TProxy) appendBody(b []byte, save bool) []byte {
	hex := func(b []byte, v uint32) []byte { return xtables.AppendHex(b, uint64(v)) }
	if save {
		b = xtables.AppendUint(append(b, " --on-port "...), uint64(t.LPort))
		b = t.LAddr.AppendTo(append(b, " --on-ip "...))
		b = hex(append(b, " --tproxy-mark "...), t.MarkValue)
	} else {
		b = t.LAddr.AppendTo(append(b, " TPROXY redirect "...))
		b = xtables.AppendUint(append(b, ':'), uint64(t.LPort))
		b = hex(append(b, " mark "...), t.MarkValue)
	}
	return hex(append(b, '/'), t.MarkMask)
}

func (t *TProxy) Print(b []byte, ctx *xtables.Context) []byte { return t.appendBody(b, false) }

func (t *TProxy) Save(b []byte, ctx *xtables.Context) []byte { return t.appendBody(b, true) }

// Check is tproxy_tg4_check/tg6_check plus the table and hook of the
// registration.
func (t *TProxy) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" || hooksOutside(ctx, 1<<xtables.HookPrerouting) {
		return errInval
	}
	if !isProto(ctx, protoTCP) && !isProto(ctx, protoUDP) {
		return errInval
	}
	return nil
}

// TargetPacket is tproxy_tg4_v1 / tproxy_tg6_v1: a TCP or UDP packet is
// given to a transparent local socket (the established one of its
// addresses, else a listener on the target's address and port, the
// packet's destination port when none is given), marked, and accepted;
// without such a socket it is dropped. The host finds and assigns the
// socket (TproxySocket); a host without sockets drops.
func (t *TProxy) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	p := st.Pkt
	off := transportOffset(&p.Headers)
	if off+8 > len(p.Data) {
		return xtables.VerdictCodeDrop // no room for the ports
	}
	lport := t.LPort
	if lport == 0 {
		lport = be.Uint16(p.Data[off+2:])
	}
	ts, ok := st.Env.(TproxySocket)
	if !ok || !ts.TproxyAssign(st, t.LAddr, lport) {
		return xtables.VerdictCodeDrop
	}
	st.Mark = st.Mark&^t.MarkMask ^ t.MarkValue
	return xtables.VerdictCodeAccept
}
