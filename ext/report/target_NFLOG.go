package report

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// NFLOG target (libxt_NFLOG.c, xt_NFLOG.h). iptables-nft turns it into a
// native nft "log" expression (add_log) and reads that back
// (nft_parse_log), so a rule keeps what the expression keeps: the prefix
// from the 128-byte user data (127 characters, not the 63 of
// xt_nflog_info), the snap length only with --nflog-size.

const (
	nflogOptGroup uint = iota
	nflogOptPrefix
	nflogOptRange
	nflogOptSize
	nflogOptThreshold
)

const (
	nflogFCopyLen         = 0x1 // XT_NFLOG_F_COPY_LEN
	nflogDefaultThreshold = 0   // XT_NFLOG_DEFAULT_THRESHOLD
	nfLogPrefixLen        = 128 // NF_LOG_PREFIXLEN, the user data size
	nflogRangeWarning     = "warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead"
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "NFLOG",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "nflog-group", ID: nflogOptGroup, Type: xtables.TypeUint16},
			{Name: "nflog-prefix", ID: nflogOptPrefix, Type: xtables.TypeString, Min: 1},
			{Name: "nflog-range", ID: nflogOptRange, Type: xtables.TypeUint32, Excl: 1 << nflogOptSize},
			{Name: "nflog-size", ID: nflogOptSize, Type: xtables.TypeUint32, Excl: 1 << nflogOptRange},
			{Name: "nflog-threshold", ID: nflogOptThreshold, Type: xtables.TypeUint16},
		},
		New: func() xtables.TargetInfo { return &NFLog{Threshold: nflogDefaultThreshold} },
		Help: "NFLOG target options:\n" +
			" --nflog-group NUM		NETLINK group used for logging\n" +
			" --nflog-range NUM		This option has no effect, use --nflog-size\n" +
			" --nflog-size NUM		Number of bytes to copy\n" +
			" --nflog-threshold NUM		Message threshold of in-kernel queue\n" +
			" --nflog-prefix STRING		Prefix string for log messages\n",
	})
}

// NFLog is struct xt_nflog_info as nft_parse_log rebuilds it.
type NFLog struct {
	Len       uint32
	Group     uint16
	Threshold uint16
	Flags     uint16
	Prefix    string
}

func (n *NFLog) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case nflogOptGroup:
		n.Group = uint16(c.Val.U64)
	case nflogOptPrefix:
		if strings.IndexByte(c.Arg, '\n') >= 0 {
			return xtables.Errorf("Newlines not allowed in --log-prefix")
		}
		n.Prefix = cString(c.Arg, nfLogPrefixLen)
	case nflogOptRange, nflogOptSize:
		n.Len = uint32(c.Val.U64)
	case nflogOptThreshold:
		n.Threshold = uint16(c.Val.U64)
	}
	return nil
}

// Final is NFLOG_check plus what the nft round trip loses: without
// --nflog-size no snap length is stored, so --nflog-range's value is gone.
func (n *NFLog) Final(f *xtables.FinalCall) error {
	if f.Has(nflogOptRange) {
		warn(f.Ctx, nflogRangeWarning)
	}
	if f.Has(nflogOptSize) {
		n.Flags |= nflogFCopyLen
	}
	if n.Flags&nflogFCopyLen == 0 {
		n.Len = 0
	}
	return nil
}

// appendNFLog is nflog_print: the -L and save forms differ only in the
// "--" before each name.
func (n *NFLog) appendNFLog(b []byte, dashes string) []byte {
	if n.Prefix != "" {
		b = append(b, ' ')
		b = append(b, dashes...)
		b = append(b, "nflog-prefix"...)
		b = appendSaveString(b, n.Prefix)
	}
	if n.Group != 0 {
		b = appendNamedUint(b, dashes, "nflog-group", uint64(n.Group))
	}
	if n.Flags&nflogFCopyLen != 0 {
		b = appendNamedUint(b, dashes, "nflog-size", uint64(n.Len))
	} else if n.Len != 0 {
		b = appendNamedUint(b, dashes, "nflog-range", uint64(n.Len))
	}
	if n.Threshold != nflogDefaultThreshold {
		b = appendNamedUint(b, dashes, "nflog-threshold", uint64(n.Threshold))
	}
	return b
}

func appendNamedUint(b []byte, dashes, name string, v uint64) []byte {
	b = append(b, ' ')
	b = append(b, dashes...)
	b = append(b, name...)
	b = append(b, ' ')
	return xtables.AppendUint(b, v)
}

func (n *NFLog) Print(b []byte, ctx *xtables.Context) []byte { return n.appendNFLog(b, "") }

func (n *NFLog) Save(b []byte, ctx *xtables.Context) []byte { return n.appendNFLog(b, "--") }

// TargetPacket is what iptables-nft's native log expression does (log
// group N): the packet is sent to nfnetlink_log listeners of the group;
// the twin has none, so nothing is seen, and the packet goes on.
func (n *NFLog) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
