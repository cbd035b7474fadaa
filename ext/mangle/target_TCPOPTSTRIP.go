package mangle

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// TCPOPTSTRIP target (libxt_TCPOPTSTRIP.c, struct
// xt_tcpoptstrip_target_info). Mangle table, -p tcp.

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "TCPOPTSTRIP",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "strip-options", ID: 0, Type: xtables.TypeString},
		},
		New: func() xtables.TargetInfo { return &TCPOptStrip{} },
	})
}

// TCPOptStrip is struct xt_tcpoptstrip_target_info: a bitmap of the TCP
// option kinds to strip.
type TCPOptStrip struct {
	StripBmap [8]uint32
}

var tcpOptionMap = []struct {
	name string
	opt  uint
}{
	{"wscale", 3}, {"mss", 2}, {"sack-permitted", 4},
	{"sack", 5}, {"timestamp", 8}, {"md5", 19},
}

func (t *TCPOptStrip) test(o uint) bool { return t.StripBmap[o>>5]&(1<<(o&31)) != 0 }

func (t *TCPOptStrip) Parse(c *xtables.OptionCall) error {
	// Repeated --strip-options add to the same bitmap.
	for _, arg := range strings.Split(c.Arg, ",") {
		var opt uint
		for _, m := range tcpOptionMap {
			if m.name == arg {
				opt = m.opt
				break
			}
		}
		if opt == 0 {
			v, ok := xtables.StrToUintAll(arg, 0, 255)
			if !ok {
				return xtables.Errorf("Bad TCP option value \"%s\"", arg)
			}
			opt = uint(v)
		}
		if opt < 2 {
			return xtables.Errorf("Option value may not be 0 or 1")
		}
		if t.test(opt) {
			return xtables.Errorf("Option \"%s\" already specified", arg)
		}
		t.StripBmap[opt>>5] |= 1 << (opt & 31)
	}
	return nil
}

func (t *TCPOptStrip) empty() bool { return t.StripBmap == [8]uint32{} }

func (t *TCPOptStrip) appendList(b []byte, numeric bool) []byte {
	first := true
	for i := uint(0); i < 256; i++ {
		if !t.test(i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		name := ""
		if !numeric {
			for _, m := range tcpOptionMap {
				if m.opt == i {
					name = m.name
				}
			}
		}
		if name != "" {
			b = append(b, name...)
		} else {
			b = xtables.AppendUint(b, uint64(i))
		}
	}
	return b
}

func (t *TCPOptStrip) Print(b []byte, ctx *xtables.Context) []byte {
	if t.empty() {
		return b
	}
	return t.appendList(append(b, " TCPOPTSTRIP options "...), ctx.Numeric)
}

func (t *TCPOptStrip) Save(b []byte, ctx *xtables.Context) []byte {
	if t.empty() {
		return b
	}
	return t.appendList(append(b, " --strip-options "...), true)
}

func (t *TCPOptStrip) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" || !isProto(ctx, protoTCP) {
		return errInval
	}
	return nil
}

// TargetPacket is tcpoptstrip_tg4/6 (tcpoptstrip_mangle_packet): every
// option of the set is overwritten with NOPs, the checksum updated byte
// by byte. A later fragment is left alone; a packet shorter than its TCP
// header is dropped.
func (t *TCPOptStrip) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	p := st.Pkt
	if st.FragOff != 0 {
		return xtables.VerdictCodeContinue
	}
	off := transportOffset(&p.Headers)
	if off+20 > len(p.Data) {
		return xtables.VerdictCodeDrop
	}
	tcp := p.Data[off:]
	hdrlen := int(tcp[12]>>4) * 4
	if hdrlen < 20 || hdrlen > len(tcp) {
		return xtables.VerdictCodeDrop
	}
	changed := false
	for i := 20; i < hdrlen-1; {
		optl := tcpOptLen(tcp[:hdrlen], i)
		if i+optl > hdrlen {
			break
		}
		if t.test(uint(tcp[i])) {
			for j := 0; j < optl; j++ {
				o, n := uint16(tcp[i+j]), uint16(1)
				if (i+j)%2 == 0 {
					o <<= 8
					n <<= 8
				}
				csumReplace2(tcp, 16, o, n)
			}
			for j := 0; j < optl; j++ {
				tcp[i+j] = 1
			}
			changed = true
		}
		i += optl
	}
	if changed {
		redecode(p, p.Data)
	}
	return xtables.VerdictCodeContinue
}
