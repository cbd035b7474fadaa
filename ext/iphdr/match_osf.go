package iphdr

import "github.com/iptwin/iptwin/xtables"

// osf match (libxt_osf.c, xt_osf.h). The kernel (xt_osf.c) wants TCP (Check)
// and the PREROUTING, INPUT or FORWARD hooks (the static mask).

const (
	osfOptGenre uint = iota
	osfOptTTL
	osfOptLog
)

// Flags of struct xt_osf_info.
const (
	osfTTL    = 1 << 1
	osfLog    = 1 << 2
	osfInvert = 1 << 3
)

const osfGenreLen = 32 // MAXGENRELEN: the C copy keeps 31 characters

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "osf",
		Family: xtables.IPv4,
		Hooks:  osfHooks,
		Options: []xtables.Option{
			{Name: "genre", ID: osfOptGenre, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
			{Name: "ttl", ID: osfOptTTL, Type: xtables.TypeUint32, Max: 2},
			{Name: "log", ID: osfOptLog, Type: xtables.TypeUint32, Max: 2},
		},
		New: func() xtables.MatchInfo { return &OSF{} },
		Help: "OS fingerprint match options:\n" +
			"[!] --genre string     Match a OS genre by passive fingerprinting.\n" +
			"--ttl level            Use some TTL check extensions to determine OS:\n" +
			"       0                       true ip and fingerprint TTL comparison. Works for LAN.\n" +
			"       1                       check if ip TTL is less than fingerprint one. Works for global addresses.\n" +
			"       2                       do not compare TTL at all. This allows NMAP detection, but can produce false results.\n" +
			"--log level            Log determined genres into dmesg even if they do not match desired one:\n" +
			"       0                       log all matched or unknown signatures.\n" +
			"       1                       log only first one.\n" +
			"       2                       log all known matched signatures.\n",
	})
}

// OSF is struct xt_osf_info.
type OSF struct {
	Genre    string
	Len      uint32
	Flags    uint32
	LogLevel uint32
	TTL      uint32
}

func (m *OSF) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case osfOptGenre:
		g := c.Arg
		if len(g) >= osfGenreLen {
			g = g[:osfGenreLen-1]
		}
		m.Genre = g
		if c.Invert {
			m.Flags |= osfInvert
		}
		m.Len = uint32(len(g))
	case osfOptTTL:
		m.TTL = uint32(c.Val.U64)
		m.Flags |= osfTTL
	case osfOptLog:
		m.LogLevel = uint32(c.Val.U64)
		m.Flags |= osfLog
	}
	return nil
}

const osfHooks = 1<<xtables.HookPrerouting | 1<<xtables.HookInput | 1<<xtables.HookForward

func (m *OSF) Check(ctx *xtables.Context) error {
	if ctx.Header != nil && (ctx.Header.Proto != 6 || ctx.Header.Inv&xtables.InvProto != 0) {
		return xtables.ErrInvalidArgument
	}
	return nil
}

func (m *OSF) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " OS fingerprint match "...)
	if m.Flags&osfInvert != 0 {
		b = append(b, "! "...)
	}
	return append(b, m.Genre...)
}

func (m *OSF) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Flags&osfInvert != 0)
	b = append(b, " --genre "...)
	b = append(b, m.Genre...)
	if m.Flags&osfTTL != 0 {
		b = append(b, " --ttl "...)
		b = appendU(b, uint64(m.TTL))
	}
	if m.Flags&osfLog != 0 {
		b = append(b, " --log "...)
		b = appendU(b, uint64(m.LogLevel))
	}
	return b
}

// MatchPacket is xt_osf's nf_osf_match: with no fingerprints loaded
// (nfnl_osf) no genre is ever recognised, and the match fails whatever
// the inversion. (With --log the kernel also logs "Remote OS is not
// known" for a SYN; the twin does not.)
func (m *OSF) MatchPacket(st *xtables.PacketState) bool { return false }
