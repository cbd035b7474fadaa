package l4

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// tcp match (libxt_tcp.c, xt_tcpudp.h). Old-style parse: its own error
// wording, "Only one `--source-port' allowed" and so on.

const (
	tcpOptSport uint = iota
	tcpOptDport
	tcpOptSyn
	tcpOptFlags
	tcpOptOption
)

const (
	tcpInvSrcPt  = 0x01
	tcpInvDstPt  = 0x02
	tcpInvFlags  = 0x04
	tcpInvOption = 0x08
)

func init() {
	inv := xtables.Invert | xtables.Multi // once-checks are the extension's own
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "tcp",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "source-port", ID: tcpOptSport, Type: xtables.TypeString, Flags: inv},
			{Name: "sport", ID: tcpOptSport, Type: xtables.TypeString, Flags: inv},
			{Name: "destination-port", ID: tcpOptDport, Type: xtables.TypeString, Flags: inv},
			{Name: "dport", ID: tcpOptDport, Type: xtables.TypeString, Flags: inv},
			{Name: "syn", ID: tcpOptSyn, Type: xtables.TypeNone, Flags: inv},
			{Name: "tcp-flags", ID: tcpOptFlags, Type: xtables.TypeString, Flags: inv},
			{Name: "tcp-option", ID: tcpOptOption, Type: xtables.TypeString, Flags: inv},
		},
		New: func() xtables.MatchInfo { return &TCP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}} },
		Help: "tcp match options:\n" +
			"[!] --tcp-flags mask comp\tmatch when TCP flags & mask == comp\n" +
			"\t\t\t\t(Flags: SYN ACK FIN RST URG PSH ALL NONE)\n" +
			"[!] --syn\t\t\tmatch when only SYN flag set\n" +
			"\t\t\t\t(equivalent to --tcp-flags SYN,RST,ACK,FIN SYN)\n" +
			"[!] --source-port port[:port]\n" +
			" --sport ...\n" +
			"\t\t\t\tmatch source port(s)\n" +
			"[!] --destination-port port[:port]\n" +
			" --dport ...\n" +
			"\t\t\t\tmatch destination port(s)\n" +
			"[!] --tcp-option number        match if TCP option set\n",
	})
}

// TCP is struct xt_tcp.
type TCP struct {
	Spts, Dpts      [2]uint16
	Option          uint8
	FlgMask, FlgCmp uint8
	Inv             uint8
	seen            uint8
	native          bool // rebuilt from nft payload expressions
	nftWord         bool // native: both ports compared as one 32-bit word
}

var tcpFlagNames = []struct {
	name string
	flag uint8
}{
	{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08},
	{"ACK", 0x10}, {"URG", 0x20}, {"ALL", 0x3f}, {"NONE", 0},
}

func parseTCPFlags(s string) (uint8, error) {
	var ret uint8
	for _, p := range strings.Split(s, ",") {
		if p == "" { // strtok skips empty fields
			continue
		}
		found := false
		for _, f := range tcpFlagNames {
			if strings.EqualFold(f.name, p) {
				ret |= f.flag
				found = true
				break
			}
		}
		if !found {
			return 0, xtables.Errorf("Unknown TCP flag `%s'", p)
		}
	}
	return ret, nil
}

func (t *TCP) Parse(c *xtables.OptionCall) error {
	id := c.Opt.ID
	const (
		fSrc  = 1
		fDst  = 2
		fFlag = 4
		fOpt  = 8
	)
	var err error
	switch id {
	case tcpOptSport:
		if t.seen&fSrc != 0 {
			return xtables.Errorf("Only one `--source-port' allowed")
		}
		if t.Spts, err = xtables.ParsePortRange(c.Arg, "tcp", c.Ctx.Names); err != nil {
			return err
		}
		if c.Invert {
			t.Inv |= tcpInvSrcPt
		}
		t.seen |= fSrc
	case tcpOptDport:
		if t.seen&fDst != 0 {
			return xtables.Errorf("Only one `--destination-port' allowed")
		}
		if t.Dpts, err = xtables.ParsePortRange(c.Arg, "tcp", c.Ctx.Names); err != nil {
			return err
		}
		if c.Invert {
			t.Inv |= tcpInvDstPt
		}
		t.seen |= fDst
	case tcpOptSyn, tcpOptFlags:
		if t.seen&fFlag != 0 {
			return xtables.Errorf("Only one of `--syn' or `--tcp-flags'  allowed")
		}
		mask, cmp := "SYN,RST,ACK,FIN", "SYN"
		if id == tcpOptFlags {
			next, ok := c.PeekArg()
			if !ok || next == "" || next[0] == '-' || next[0] == '!' {
				return xtables.Errorf("--tcp-flags requires two args.")
			}
			mask, cmp = c.Arg, next
		}
		if t.FlgMask, err = parseTCPFlags(mask); err != nil {
			return err
		}
		if t.FlgCmp, err = parseTCPFlags(cmp); err != nil {
			return err
		}
		if id == tcpOptFlags {
			c.TakeArg()
		}
		if c.Invert {
			t.Inv |= tcpInvFlags
		}
		t.seen |= fFlag
	case tcpOptOption:
		if t.seen&fOpt != 0 {
			return xtables.Errorf("Only one `--tcp-option' allowed")
		}
		v, ok := xtables.StrToUintAll(c.Arg, 1, 255)
		if !ok {
			return xtables.Errorf("Bad TCP option \"%s\"", c.Arg)
		}
		t.Option = uint8(v)
		if c.Invert {
			t.Inv |= tcpInvOption
		}
		t.seen |= fOpt
	}
	return nil
}

// appendPorts is print_ports of libxt_tcp/libxt_udp.
func appendPorts(b []byte, name string, r [2]uint16, inv bool, proto string, ctx *xtables.Context) []byte {
	if r[0] == 0 && r[1] == 0xffff && !inv {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	if r[0] == r[1] {
		b = append(b, ':')
		if inv {
			b = append(b, '!')
		}
		return xtables.AppendPort(b, r[0], proto, ctx)
	}
	b = append(b, "s:"...)
	if inv {
		b = append(b, '!')
	}
	b = xtables.AppendPort(b, r[0], proto, ctx)
	b = append(b, ':')
	return xtables.AppendPort(b, r[1], proto, ctx)
}

func appendTCPFlagNames(b []byte, flags uint8) []byte {
	have := false
	for flags != 0 {
		i := 0
		for flags&tcpFlagNames[i].flag == 0 {
			i++
		}
		if have {
			b = append(b, ',')
		}
		b = append(b, tcpFlagNames[i].name...)
		have = true
		flags &^= tcpFlagNames[i].flag
	}
	if !have {
		b = append(b, "NONE"...)
	}
	return b
}

func (t *TCP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " tcp"...)
	b = appendPorts(b, "spt", t.Spts, t.Inv&tcpInvSrcPt != 0, "tcp", ctx)
	b = appendPorts(b, "dpt", t.Dpts, t.Inv&tcpInvDstPt != 0, "tcp", ctx)
	if t.Option != 0 || t.Inv&tcpInvOption != 0 {
		b = append(b, " option="...)
		if t.Inv&tcpInvOption != 0 {
			b = append(b, '!')
		}
		b = xtables.AppendUint(b, uint64(t.Option))
	}
	if t.FlgMask != 0 || t.Inv&tcpInvFlags != 0 {
		b = append(b, " flags:"...)
		if t.Inv&tcpInvFlags != 0 {
			b = append(b, '!')
		}
		if ctx.Numeric {
			b = append(b, "0x"...)
			b = appendHex2(b, t.FlgMask)
			b = append(b, "/0x"...)
			b = appendHex2(b, t.FlgCmp)
		} else {
			b = appendTCPFlagNames(b, t.FlgMask)
			b = append(b, '/')
			b = appendTCPFlagNames(b, t.FlgCmp)
		}
	}
	return b
}

// appendHex2 is printf("%02X").
func appendHex2(b []byte, v uint8) []byte {
	const digits = "0123456789ABCDEF"
	return append(b, digits[v>>4], digits[v&0xf])
}

func (t *TCP) Save(b []byte, ctx *xtables.Context) []byte {
	b = appendSavePorts(b, "--sport", t.Spts, t.Inv&tcpInvSrcPt != 0)
	b = appendSavePorts(b, "--dport", t.Dpts, t.Inv&tcpInvDstPt != 0)
	if t.Option != 0 || t.Inv&tcpInvOption != 0 {
		b = xtables.AppendInv(b, t.Inv&tcpInvOption != 0)
		b = append(b, " --tcp-option "...)
		b = xtables.AppendUint(b, uint64(t.Option))
	}
	if t.FlgMask != 0 || t.Inv&tcpInvFlags != 0 {
		b = xtables.AppendInv(b, t.Inv&tcpInvFlags != 0)
		b = append(b, " --tcp-flags "...)
		b = appendTCPFlagNames(b, t.FlgMask)
		b = append(b, ' ')
		b = appendTCPFlagNames(b, t.FlgCmp)
	}
	return b
}

// appendSavePorts is the save form of a port range of tcp/udp.
func appendSavePorts(b []byte, opt string, r [2]uint16, inv bool) []byte {
	if r[0] == 0 && r[1] == 0xffff {
		return b
	}
	b = xtables.AppendInv(b, inv)
	b = append(b, ' ')
	b = append(b, opt...)
	b = append(b, ' ')
	b = xtables.AppendUint(b, uint64(r[0]))
	if r[0] != r[1] {
		b = append(b, ':')
		b = xtables.AppendUint(b, uint64(r[1]))
	}
	return b
}

// Check is the kernel's protocol check of the xt match; a match nft turned
// into payload expressions reaches no checkentry.
func (t *TCP) Check(ctx *xtables.Context) error {
	if t.native {
		return nil
	}
	return checkProto(ctx, 6)
}
