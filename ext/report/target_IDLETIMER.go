package report

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// IDLETIMER target (libxt_IDLETIMER.c, xt_IDLETIMER.h). The kernel has
// revision 1, which iptables uses: it adds --alarm.

const (
	idletimerOptTimeout uint = iota
	idletimerOptLabel
	idletimerOptAlarm
)

const (
	idletimerLabelSize = 28 // MAX_IDLETIMER_LABEL_SIZE
	idletimerAlarm     = 1  // XT_IDLETIMER_ALARM
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "IDLETIMER",
		Revision:  1,
		Family:    xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "timeout", ID: idletimerOptTimeout, Type: xtables.TypeUint32, Flags: xtables.Mand},
			{Name: "label", ID: idletimerOptLabel, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "alarm", ID: idletimerOptAlarm, Type: xtables.TypeNone},
		},
		New: func() xtables.TargetInfo { return &IdleTimer{} },
		Help: "IDLETIMER target options:\n" +
			" --timeout time	Timeout until the notification is sent (in seconds)\n" +
			" --label string	Unique rule identifier\n" +
			" --alarm	Use alarm instead of default timer\n" +
			"\n",
	})
}

// IdleTimer is struct idletimer_tg_info_v1 (without the kernel's timer
// pointer).
type IdleTimer struct {
	Timeout   uint32
	Label     string // at most 27 bytes
	SendNLMsg uint8  // unused, for Android compatibility
	TimerType uint8
}

func (t *IdleTimer) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case idletimerOptTimeout:
		t.Timeout = uint32(c.Val.U64)
	case idletimerOptLabel:
		label := c.Arg
		if c.Ctx != nil && c.Ctx.State {
			// The save form prints the label bare: read back the words a
			// label with blanks was split into.
			for {
				next, ok := c.PeekArg()
				if !ok || strings.HasPrefix(next, "-") {
					break
				}
				c.TakeArg()
				label += " " + next
			}
		}
		t.Label = cString(label, idletimerLabelSize)
	case idletimerOptAlarm:
		t.TimerType = idletimerAlarm
	}
	return nil
}

func (t *IdleTimer) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " timeout:"...)
	b = xtables.AppendUint(b, uint64(t.Timeout))
	b = append(b, " label:"...)
	b = append(b, t.Label...)
	if t.TimerType == idletimerAlarm {
		b = append(b, " alarm"...)
	}
	return b
}

// Save prints the label bare, as the C code does, even when it has
// blanks (which iptables-restore then takes for more arguments; iptwin's
// own state reader joins them again).
func (t *IdleTimer) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --timeout "...)
	b = xtables.AppendUint(b, uint64(t.Timeout))
	b = append(b, " --label "...)
	b = append(b, t.Label...)
	if t.TimerType == idletimerAlarm {
		b = append(b, " --alarm"...)
	}
	return b
}

// Check is idletimer_tg_checkentry_v1 and the creation of the timer's
// sysfs file named after the label: no zero or huge timeout (the timer
// is armed in milliseconds in an int), a label sysfs takes and that is
// not one of the kobject's own attribute names.
//
// A label already used with the other timer type is refused too, but the
// kernel keeps labels across all tables and both families, which a rule
// check cannot see.
func (t *IdleTimer) Check(ctx *xtables.Context) error {
	const intMax = 1<<31 - 1
	switch {
	case t.TimerType > idletimerAlarm,
		t.Timeout == 0, t.Timeout >= intMax/1000,
		t.Label == "", len(t.Label) >= idletimerLabelSize:
		return xtables.ErrInvalidArgument
	}
	switch t.Label {
	case "power", "subsystem", "uevent", ".", "..":
		return xtables.ErrInvalidArgument
	}
	for i := 0; i < len(t.Label); i++ {
		if t.Label[i] == '/' {
			return xtables.ErrInvalidArgument
		}
	}
	return nil
}

// TargetPacket is idletimer_tg: the timer of the label is rearmed (its
// expiry shows in sysfs, not in the packet path); the packet goes on.
func (t *IdleTimer) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
