package mangle

import (
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// TCPMSS target (libxt_TCPMSS.c, struct xt_tcpmss_info). The two options
// are not exclusive: the last one given wins.

const (
	mssOptSet uint = iota
	mssOptClamp
)

// TCPMSSClampPMTU is XT_TCPMSS_CLAMP_PMTU.
const TCPMSSClampPMTU = 0xffff

func init() {
	for _, f := range []struct {
		fam xtables.Family
		hdr uint64 // sizeof the IP header: the MSS maximum is 65535 minus it
	}{{xtables.IPv4, 20}, {xtables.IPv6, 40}} {
		xtables.RegisterTarget(&xtables.TargetType{
			Name:   "TCPMSS",
			Family: f.fam,
			Options: []xtables.Option{
				{Name: "set-mss", ID: mssOptSet, Type: xtables.TypeUint16, Min: 0, Max: 0xffff - f.hdr},
				{Name: "clamp-mss-to-pmtu", ID: mssOptClamp, Type: xtables.TypeNone},
			},
			New: func() xtables.TargetInfo { return &TCPMSS{} },
		})
	}
}

// TCPMSS is struct xt_tcpmss_info.
type TCPMSS struct {
	MSS uint16
}

func (t *TCPMSS) Parse(c *xtables.OptionCall) error {
	if c.Opt.ID == mssOptClamp {
		t.MSS = TCPMSSClampPMTU
	} else {
		t.MSS = uint16(c.Val.U64)
	}
	return nil
}

func (t *TCPMSS) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("TCPMSS target: At least one parameter is required")
	}
	return nil
}

func (t *TCPMSS) Print(b []byte, ctx *xtables.Context) []byte {
	if t.MSS == TCPMSSClampPMTU {
		return append(b, " TCPMSS clamp to PMTU"...)
	}
	return xtables.AppendUint(append(b, " TCPMSS set "...), uint64(t.MSS))
}

func (t *TCPMSS) Save(b []byte, ctx *xtables.Context) []byte {
	if t.MSS == TCPMSSClampPMTU {
		return append(b, " --clamp-mss-to-pmtu"...)
	}
	return xtables.AppendUint(append(b, " --set-mss "...), uint64(t.MSS))
}

// Check: the target is for -p tcp only; clamping to the path MTU only in
// FORWARD, OUTPUT and POSTROUTING. Under nft_compat the kernel does not ask
// for a SYN match.
func (t *TCPMSS) Check(ctx *xtables.Context) error {
	if !isProto(ctx, protoTCP) {
		return errInval
	}
	if t.MSS == TCPMSSClampPMTU && hooksOutside(ctx, 1<<xtables.HookForward|1<<xtables.HookOutput|1<<xtables.HookPostrouting) {
		return errInval
	}
	return nil
}

// TargetPacket is tcpmss_tg4 / tcpmss_tg6 (tcpmss_mangle_packet): lower
// the MSS option of a SYN to the value (or to the path MTU less 40 or 60
// bytes of headers with --clamp-mss-to-pmtu), never raise it; a SYN
// without one gets one (at most 536 / 1220) when it carries no data and
// its header has room. The packet then grows by 4 bytes in place (its
// buffer's spare capacity): the path must take st.Pkt.Data as the packet
// afterwards. A packet too short for its TCP header, an unknown path MTU
// or no room to grow drops it.
func (t *TCPMSS) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	p := st.Pkt
	if st.FragOff != 0 {
		return xtables.VerdictCodeContinue
	}
	v6 := p.IsIPv6()
	off := transportOffset(&p.Headers)
	minlen := 40
	if v6 {
		minlen = 60
	}
	d := p.Data
	length := len(d) - off
	if length < 20 {
		return xtables.VerdictCodeDrop
	}
	tcp := d[off:]
	hdrlen := int(tcp[12]>>4) * 4
	if length < hdrlen || hdrlen < 20 {
		return xtables.VerdictCodeDrop
	}
	var newmss uint16
	if t.MSS == TCPMSSClampPMTU {
		rm, ok := st.Env.(RouteMTU)
		if !ok {
			return xtables.VerdictCodeDrop // "unknown or invalid path-MTU"
		}
		out, rev := rm.RouteMTU(st)
		mtu := min(out, rev)
		if mtu <= uint32(minlen) {
			return xtables.VerdictCodeDrop
		}
		newmss = uint16(mtu - uint32(minlen))
	} else {
		newmss = t.MSS
	}
	for i := 20; i <= hdrlen-4; i += tcpOptLen(tcp[:hdrlen], i) {
		if tcp[i] == 2 && tcp[i+1] == 4 {
			oldmss := be.Uint16(tcp[i+2:])
			if oldmss <= newmss {
				return xtables.VerdictCodeContinue
			}
			be.PutUint16(tcp[i+2:], newmss)
			csumReplace2(tcp, 16, oldmss, newmss)
			redecode(p, p.Data)
			return xtables.VerdictCodeContinue
		}
	}
	if length > hdrlen || hdrlen >= 15*4 {
		return xtables.VerdictCodeContinue
	}
	// No MSS option: add one at the start of the options.
	if cap(d)-len(d) < 4 {
		return xtables.VerdictCodeDrop
	}
	if v6 {
		newmss = min(newmss, 1220)
	} else {
		newmss = min(newmss, 536)
	}
	d = d[:len(d)+4]
	tcp = d[off:]
	copy(tcp[24:], tcp[20:length])
	csumReplace2(tcp, 16, uint16(length), uint16(length+4)) // pseudo-header length
	opt := uint32(2)<<24 | uint32(4)<<16 | uint32(newmss)
	be.PutUint32(tcp[20:], opt)
	csumReplace4(tcp, 16, 0, opt)
	old := be.Uint16(tcp[12:])
	tcp[12] += 1 << 4 // doff + 1
	csumReplace2(tcp, 16, old, be.Uint16(tcp[12:]))
	if v6 {
		be.PutUint16(d[4:], be.Uint16(d[4:])+4)
	} else {
		oldLen := be.Uint16(d[2:])
		be.PutUint16(d[2:], oldLen+4)
		csumReplace2(d, 10, oldLen, oldLen+4)
	}
	redecode(p, d)
	return xtables.VerdictCodeContinue
}

// redecode refreshes the decoded fields from the packet's bytes d after
// they changed.
func redecode(p *packet.Packet, d []byte) { p.Decode(d) }
