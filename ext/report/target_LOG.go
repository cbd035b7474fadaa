package report

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// LOG target (libxt_LOG.c, xt_LOG.h), the same for both families.

// Option IDs follow the XT_LOG_* bit positions, as in the C code, so a
// flag option sets bit 1<<ID.
const (
	logOptTCPSeq uint = iota
	logOptTCPOpts
	logOptIPOpts
	logOptUID
	_ // XT_LOG_NFLOG, no option
	logOptMAC
	logOptLevel
	logOptPrefix
)

// XT_LOG_* flags.
const (
	LogTCPSeq    = 0x01
	LogTCPOpt    = 0x02
	LogIPOpt     = 0x04
	LogUID       = 0x08
	LogNFLog     = 0x10 // unsupported
	LogMACDecode = 0x20
	LogMask      = 0x2f
)

const (
	logDefaultLevel = 4  // LOG_WARNING
	logPrefixSize   = 30 // sizeof(xt_log_info.prefix)
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "LOG",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "log-level", ID: logOptLevel, Type: xtables.TypeSyslogLevel},
			{Name: "log-prefix", ID: logOptPrefix, Type: xtables.TypeString, Min: 1},
			{Name: "log-tcp-sequence", ID: logOptTCPSeq, Type: xtables.TypeNone},
			{Name: "log-tcp-options", ID: logOptTCPOpts, Type: xtables.TypeNone},
			{Name: "log-ip-options", ID: logOptIPOpts, Type: xtables.TypeNone},
			{Name: "log-uid", ID: logOptUID, Type: xtables.TypeNone},
			{Name: "log-macdecode", ID: logOptMAC, Type: xtables.TypeNone},
		},
		New: func() xtables.TargetInfo { return &Log{Level: logDefaultLevel} },
		Help: `LOG target options:
 --log-level level		Level of logging (numeric or see syslog.conf)
 --log-prefix prefix		Prefix log messages with this prefix.
 --log-tcp-sequence		Log TCP sequence numbers.
 --log-tcp-options		Log TCP options.
 --log-ip-options		Log IP options.
 --log-uid			Log UID owning the local socket.
 --log-macdecode		Decode MAC addresses and protocol.
`,
	})
}

// Log is struct xt_log_info.
type Log struct {
	Level    uint8
	LogFlags uint8
	Prefix   string // at most 29 bytes, as the char[30] holds
}

func (l *Log) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case logOptLevel:
		l.Level = c.Val.Level
	case logOptPrefix:
		if strings.IndexByte(c.Arg, '\n') >= 0 {
			return xtables.Errorf("Newlines not allowed in --log-prefix")
		}
		// XTOPT_PUT into char[30] cuts longer prefixes silently.
		l.Prefix = cString(c.Arg, logPrefixSize)
	default:
		l.LogFlags |= 1 << c.Opt.ID
	}
	return nil
}

// syslogPriorityName is priority2name: the first name glibc's
// prioritynames table gives the level ("warn" and "err", not "warning"
// and "error").
func syslogPriorityName(level uint8) (string, bool) {
	names := [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}
	if int(level) < len(names) {
		return names[level], true
	}
	return "", false
}

var logFlagNames = []struct {
	flag uint8
	name string
}{
	{LogTCPSeq, "tcp-sequence"},
	{LogTCPOpt, "tcp-options"},
	{LogIPOpt, "ip-options"},
	{LogUID, "uid"},
	{LogMACDecode, "macdecode"},
}

func (l *Log) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " LOG"...)
	if ctx.Numeric {
		b = append(b, " flags "...)
		b = xtables.AppendUint(b, uint64(l.LogFlags))
		b = append(b, " level "...)
		b = xtables.AppendUint(b, uint64(l.Level))
	} else {
		if n, ok := syslogPriorityName(l.Level); ok {
			b = append(b, " level "...)
			b = append(b, n...)
		} else {
			b = append(b, " UNKNOWN level "...)
			b = xtables.AppendUint(b, uint64(l.Level))
		}
		for _, f := range logFlagNames {
			if l.LogFlags&f.flag != 0 {
				b = append(b, ' ')
				b = append(b, f.name...)
			}
		}
		if l.LogFlags&^LogMask != 0 {
			b = append(b, " unknown-flags"...)
		}
	}
	if l.Prefix != "" {
		b = append(b, " prefix \""...)
		b = append(b, l.Prefix...)
		b = append(b, '"')
	}
	return b
}

func (l *Log) Save(b []byte, ctx *xtables.Context) []byte {
	if l.Prefix != "" {
		b = append(b, " --log-prefix"...)
		b = appendSaveString(b, l.Prefix)
	}
	if l.Level != logDefaultLevel {
		b = append(b, " --log-level "...)
		b = xtables.AppendUint(b, uint64(l.Level))
	}
	for _, f := range logFlagNames {
		if l.LogFlags&f.flag != 0 {
			b = append(b, " --log-"...)
			b = append(b, f.name...)
		}
	}
	return b
}

// Check is log_tg_check: the level and prefix the parser cannot get
// wrong are what the kernel refuses.
func (l *Log) Check(ctx *xtables.Context) error {
	if l.Level >= 8 || len(l.Prefix) >= logPrefixSize {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// TargetPacket is log_tg: the host writes the kernel's LOG line for the
// packet (nf_log_packet with the level, flags and prefix); the packet
// goes on.
func (l *Log) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	st.Env.Log(st, xtables.LogRequest{Level: l.Level, Prefix: l.Prefix, Flags: l.LogFlags})
	return xtables.VerdictCodeContinue
}
