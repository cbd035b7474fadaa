package report

import (
	"github.com/iptwin/iptwin/xtables"
)

// NFQUEUE target (libxt_NFQUEUE.c, xt_NFQUEUE.h). iptables picks the
// highest revision the kernel has, 3 on every kernel since 3.10, so only
// revision 3 is offered: its options, print and save forms.

const (
	nfqOptNum uint = iota
	nfqOptBalance
	nfqOptBypass
	nfqOptCPUFanout
)

// NFQ_FLAG_* of revision 3.
const (
	NFQFlagBypass    = 0x01
	NFQFlagCPUFanout = 0x02
	NFQFlagMask      = 0x03
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "NFQUEUE",
		Revision: 3,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "queue-num", ID: nfqOptNum, Type: xtables.TypeUint16, Excl: 1 << nfqOptBalance},
			// .max = UINT16_MAX - 1 in the C table, which range parsing ignores
			{Name: "queue-balance", ID: nfqOptBalance, Type: xtables.TypeUint16RC, Excl: 1 << nfqOptNum, Max: 0xfffe},
			{Name: "queue-bypass", ID: nfqOptBypass, Type: xtables.TypeNone},
			{Name: "queue-cpu-fanout", ID: nfqOptCPUFanout, Type: xtables.TypeNone, Also: 1 << nfqOptBalance},
		},
		New: func() xtables.TargetInfo { return &NFQueue{QueuesTotal: 1} },
		Help: "NFQUEUE target options\n" +
			"  --queue-num value            Send packet to QUEUE number <value>.\n" +
			"                               Valid queue numbers are 0-65535\n" +
			"  --queue-balance first:last   Balance flows between queues <value> to <value>.\n" +
			"  --queue-bypass               Bypass Queueing if no queue instance exists.\n" +
			"  --queue-cpu-fanout	Use current CPU (no hashing)\n",
	})
}

// NFQueue is struct xt_NFQ_info_v3.
type NFQueue struct {
	QueueNum    uint16
	QueuesTotal uint16
	Flags       uint16
}

func (q *NFQueue) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case nfqOptNum:
		q.QueueNum = uint16(c.Val.U64)
	case nfqOptBalance:
		if c.Val.NVals != 2 {
			return xtables.Errorf("Bad range \"%s\"", c.Arg)
		}
		lo, hi := c.Val.Range[0], c.Val.Range[1]
		if lo >= hi {
			return xtables.Errorf("%d should be less than %d", lo, hi)
		}
		q.QueueNum = uint16(lo)
		// 0:65535 wraps to 0 queues in the u16, which the kernel refuses
		q.QueuesTotal = uint16(hi - lo + 1)
	case nfqOptBypass:
		q.Flags |= NFQFlagBypass
	case nfqOptCPUFanout:
		q.Flags |= NFQFlagCPUFanout
	}
	return nil
}

func (q *NFQueue) Print(b []byte, ctx *xtables.Context) []byte {
	if q.QueuesTotal > 1 {
		b = append(b, " NFQUEUE balance "...)
		b = q.appendBalance(b)
	} else {
		b = append(b, " NFQUEUE num "...)
		b = xtables.AppendUint(b, uint64(q.QueueNum))
	}
	if q.Flags&NFQFlagBypass != 0 {
		b = append(b, " bypass"...)
	}
	if q.Flags&NFQFlagCPUFanout != 0 {
		b = append(b, " cpu-fanout"...)
	}
	return b
}

// appendBalance prints first:last; C computes last in an unsigned int.
func (q *NFQueue) appendBalance(b []byte) []byte {
	b = xtables.AppendUint(b, uint64(q.QueueNum))
	b = append(b, ':')
	return xtables.AppendUint(b, uint64(q.QueuesTotal)+uint64(q.QueueNum)-1)
}

func (q *NFQueue) Save(b []byte, ctx *xtables.Context) []byte {
	if q.QueuesTotal > 1 {
		b = append(b, " --queue-balance "...)
		b = q.appendBalance(b)
	} else {
		b = append(b, " --queue-num "...)
		b = xtables.AppendUint(b, uint64(q.QueueNum))
	}
	if q.Flags&NFQFlagBypass != 0 {
		b = append(b, " --queue-bypass"...)
	}
	if q.Flags&NFQFlagCPUFanout != 0 {
		b = append(b, " --queue-cpu-fanout"...)
	}
	return b
}

// Check is nfqueue_tg_check: no queues (the wrapped 0:65535), a last
// queue beyond 65535 (ERANGE), unknown flags.
func (q *NFQueue) Check(ctx *xtables.Context) error {
	if q.QueuesTotal == 0 || q.Flags&^NFQFlagMask != 0 {
		return xtables.ErrInvalidArgument
	}
	if uint32(q.QueuesTotal)-1+uint32(q.QueueNum) > 0xffff {
		return &xtables.KernelError{Errno: "Numerical result out of range"}
	}
	return nil
}

// TargetPacket is nfqueue_tg_v3 followed by nf_queue with no program
// listening on any queue (the twin has none): the packet is dropped, or
// with --queue-bypass accepted by the table as if the rule said ACCEPT.
func (q *NFQueue) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if q.Flags&NFQFlagBypass != 0 {
		return xtables.VerdictCodeAccept
	}
	return xtables.VerdictCodeDrop
}
