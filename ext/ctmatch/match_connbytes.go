package ctmatch

import (
	"math"

	"github.com/iptwin/iptwin/xtables"
)

// connbytes match (libxt_connbytes.c, xt_connbytes.h). An inverted range is
// stored with from and to swapped.

const (
	cbOptConnbytes uint = iota
	cbOptDir
	cbOptMode
)

const (
	cbPkts   = 0 // XT_CONNBYTES_PKTS
	cbBytes  = 1
	cbAvgPkt = 2

	cbDirOriginal = 0 // XT_CONNBYTES_DIR_ORIGINAL
	cbDirReply    = 1
	cbDirBoth     = 2
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "connbytes",
		Family: xtables.AnyFamily,
		Help: `connbytes match options:
 [!] --connbytes from:[to]
     --connbytes-dir [original, reply, both]
     --connbytes-mode [packets, bytes, avgpkt]
`,
		Options: []xtables.Option{
			{Name: "connbytes", ID: cbOptConnbytes, Type: xtables.TypeUint64RC, Flags: xtables.Mand | xtables.Invert},
			{Name: "connbytes-dir", ID: cbOptDir, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "connbytes-mode", ID: cbOptMode, Type: xtables.TypeString, Flags: xtables.Mand},
		},
		New: func() xtables.MatchInfo { return &Connbytes{} },
	})
}

// Connbytes is struct xt_connbytes_info.
type Connbytes struct {
	From, To  uint64
	What      uint8
	Direction uint8
}

func (cb *Connbytes) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case cbOptConnbytes:
		cb.From = c.Val.Range[0]
		cb.To = math.MaxUint64
		if c.Val.NVals == 2 {
			cb.To = c.Val.Range[1]
		}
		if cb.To < cb.From {
			return xtables.Errorf("%d should be less than %d", cb.From, cb.To)
		}
		if c.Invert {
			cb.From, cb.To = cb.To, cb.From
		}
	case cbOptDir:
		switch c.Arg {
		case "original":
			cb.Direction = cbDirOriginal
		case "reply":
			cb.Direction = cbDirReply
		case "both":
			cb.Direction = cbDirBoth
		default:
			return xtables.Errorf("Unknown --connbytes-dir `%s'", c.Arg)
		}
	case cbOptMode:
		switch c.Arg {
		case "packets":
			cb.What = cbPkts
		case "bytes":
			cb.What = cbBytes
		case "avgpkt":
			cb.What = cbAvgPkt
		default:
			return xtables.Errorf("Unknown --connbytes-mode `%s'", c.Arg)
		}
	}
	return nil
}

func (cb *Connbytes) appendFromTo(b []byte, prefix string) []byte {
	from, to := cb.From, cb.To
	if from > to {
		b = append(b, " !"...)
		from, to = to, from
	}
	b = append(b, ' ')
	b = append(b, prefix...)
	b = append(b, "connbytes "...)
	b = xtables.AppendUint(b, from)
	if to != 0 && to < math.MaxUint64 {
		b = append(b, ':')
		b = xtables.AppendUint(b, to)
	}
	return b
}

func (cb *Connbytes) appendMode(b []byte) []byte {
	switch cb.What {
	case cbPkts:
		return append(b, " packets"...)
	case cbBytes:
		return append(b, " bytes"...)
	case cbAvgPkt:
		return append(b, " avgpkt"...)
	}
	return append(b, " unknown"...)
}

func (cb *Connbytes) appendDir(b []byte) []byte {
	switch cb.Direction {
	case cbDirOriginal:
		return append(b, " original"...)
	case cbDirReply:
		return append(b, " reply"...)
	case cbDirBoth:
		return append(b, " both"...)
	}
	return append(b, " unknown"...)
}

func (cb *Connbytes) Print(b []byte, ctx *xtables.Context) []byte {
	b = cb.appendFromTo(b, "")
	b = append(b, " connbytes mode"...)
	b = cb.appendMode(b)
	b = append(b, " connbytes direction"...)
	return cb.appendDir(b)
}

func (cb *Connbytes) Save(b []byte, ctx *xtables.Context) []byte {
	b = cb.appendFromTo(b, "--")
	b = append(b, " --connbytes-mode"...)
	b = cb.appendMode(b)
	b = append(b, " --connbytes-dir"...)
	return cb.appendDir(b)
}

// MatchPacket is connbytes_mt: the connection's accounting in one or both
// directions against the range, which is inverted by being given
// backwards (from > to).
func (cb *Connbytes) MatchPacket(st *xtables.PacketState) bool {
	c := st.Ct
	if c == nil {
		return false
	}
	op, ob := c.Counters(0)
	rp, rb := c.Counters(1)
	var pkts, bytes uint64
	switch cb.Direction {
	case cbDirOriginal:
		pkts, bytes = op, ob
	case cbDirReply:
		pkts, bytes = rp, rb
	default:
		pkts, bytes = op+rp, ob+rb
	}
	var what uint64
	switch cb.What {
	case cbPkts:
		what = pkts
	case cbBytes:
		what = bytes
	case cbAvgPkt:
		if pkts != 0 {
			what = bytes / pkts
		}
	}
	if cb.To >= cb.From {
		return what <= cb.To && what >= cb.From
	}
	return what < cb.To || what > cb.From
}
