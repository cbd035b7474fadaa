package l4

import "github.com/iptwin/iptwin/xtables"

// udp match (libxt_udp.c, struct xt_udp).

const (
	udpOptSport uint = iota
	udpOptDport
)

const (
	udpInvSrcPt = 0x01
	udpInvDstPt = 0x02
	udpInvMask  = 0x03
)

func init() {
	inv := xtables.Invert
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "udp",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "source-port", ID: udpOptSport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "sport", ID: udpOptSport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "destination-port", ID: udpOptDport, Type: xtables.TypePortRC, Flags: inv},
			{Name: "dport", ID: udpOptDport, Type: xtables.TypePortRC, Flags: inv},
		},
		New: func() xtables.MatchInfo { return &UDP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}} },
		Help: "udp match options:\n" +
			"[!] --source-port port[:port]\n" +
			" --sport ...\n" +
			"\t\t\t\tmatch source port(s)\n" +
			"[!] --destination-port port[:port]\n" +
			" --dport ...\n" +
			"\t\t\t\tmatch destination port(s)\n",
	})
}

// UDP is struct xt_udp.
type UDP struct {
	Spts, Dpts [2]uint16
	Inv        uint8
	native     bool // rebuilt from nft payload expressions
	nftWord    bool // native: both ports compared as one 32-bit word
}

func (u *UDP) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case udpOptSport:
		u.Spts = c.Val.Ports // no min > max check, as XTTYPE_PORTRC
		if c.Invert {
			u.Inv |= udpInvSrcPt
		}
	case udpOptDport:
		u.Dpts = c.Val.Ports
		if c.Invert {
			u.Inv |= udpInvDstPt
		}
	}
	return nil
}

func (u *UDP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " udp"...)
	b = appendPorts(b, "spt", u.Spts, u.Inv&udpInvSrcPt != 0, "udp", ctx)
	b = appendPorts(b, "dpt", u.Dpts, u.Inv&udpInvDstPt != 0, "udp", ctx)
	if u.Inv&^udpInvMask != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(u.Inv&^udpInvMask))
	}
	return b
}

func (u *UDP) Save(b []byte, ctx *xtables.Context) []byte {
	b = appendSavePorts(b, "--sport", u.Spts, u.Inv&udpInvSrcPt != 0)
	return appendSavePorts(b, "--dport", u.Dpts, u.Inv&udpInvDstPt != 0)
}

// appendHexUpper is printf("%X").
func appendHexUpper(b []byte, v uint64) []byte {
	const digits = "0123456789ABCDEF"
	var tmp [16]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = digits[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// Check is the kernel's protocol check of the xt match; a match nft turned
// into payload expressions reaches no checkentry.
func (u *UDP) Check(ctx *xtables.Context) error {
	if u.native {
		return nil
	}
	return checkProto(ctx, 17)
}
