package report

import (
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// LED target (libxt_LED.c, xt_LED.h).

const (
	ledOptTriggerID uint = iota
	ledOptDelay
	ledOptAlwaysBlink
)

const (
	ledIDSize   = 27 // sizeof(xt_led_info.id)
	ledIDPrefix = "netfilter-"
	ledDelayInf = 0xffffffff // (__u32)-1
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		StateForm:     true, // Save differs when Context.State is set
		Name:          "LED",
		KernelMissing: true, // not in the reference kernel
		Family:        xtables.AnyFamily,
		Options: []xtables.Option{
			// .max = sizeof(id) - sizeof("netfilter-") = 16
			{Name: "led-trigger-id", ID: ledOptTriggerID, Type: xtables.TypeString, Flags: xtables.Mand, Max: uint64(ledIDSize - len(ledIDPrefix) - 1)},
			{Name: "led-delay", ID: ledOptDelay, Type: xtables.TypeString},
			{Name: "led-always-blink", ID: ledOptAlwaysBlink, Type: xtables.TypeNone},
		},
		New: func() xtables.TargetInfo { return &LED{} },
		Help: "LED target options:\n" +
			"--led-trigger-id name           suffix for led trigger name\n" +
			"--led-delay ms                  leave the LED on for this number of\n" +
			"                                milliseconds after triggering.\n" +
			"--led-always-blink              blink on arriving packets, even if\n" +
			"                                the LED is already on.\n",
	})
}

// LED is struct xt_led_info (without the kernel's internal pointer).
type LED struct {
	ID          string // with the "netfilter-" prefix, as the kernel keeps it
	AlwaysBlink uint8
	Delay       uint32
}

func (l *LED) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case ledOptTriggerID:
		l.ID = cString(ledIDPrefix+c.Arg, ledIDSize)
	case ledOptDelay:
		if len(c.Arg) >= 3 && strings.EqualFold(c.Arg[:3], "inf") {
			l.Delay = ledDelayInf
			break
		}
		v, ok := xtables.StrToUintAll(c.Arg, 0, 0xffffffff)
		if !ok && c.Ctx != nil && c.Ctx.State {
			// Save writes delays above 2^31-1 (and inf) as negative
			// numbers; iptwin's own state reader takes them back.
			if n, err := strconv.ParseInt(c.Arg, 10, 32); err == nil && n < 0 {
				v, ok = uint64(uint32(int32(n))), true
			}
		}
		if !ok {
			return xtables.Errorf("Delay value must be within range 0..%d", uint32(0xffffffff))
		}
		l.Delay = uint32(v)
	case ledOptAlwaysBlink:
		l.AlwaysBlink = 1
	}
	return nil
}

// appendLEDID prints the id without its prefix, quoted, with " and \
// escaped.
func (l *LED) appendLEDID(b []byte) []byte {
	b = append(b, '"')
	id := strings.TrimPrefix(l.ID, ledIDPrefix)
	for i := 0; i < len(id); i++ {
		if id[i] == '"' || id[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, id[i])
	}
	return append(b, '"')
}

func (l *LED) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " led-trigger-id:"...)
	b = l.appendLEDID(b)
	if l.Delay == ledDelayInf {
		b = append(b, " led-delay:inf"...)
	} else {
		// printf("%d") of the unsigned delay
		b = append(b, " led-delay:"...)
		b = strconv.AppendInt(b, int64(int32(l.Delay)), 10)
		b = append(b, "ms"...)
	}
	if l.AlwaysBlink != 0 {
		b = append(b, " led-always-blink"...)
	}
	return b
}

// Save is LED_save. Its "delay > 0" test is on the unsigned value, so
// "inf" is saved as "-1" (and any delay above 2^31-1 negative), which
// iptables-restore then refuses; that is what the real tool writes.
func (l *LED) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --led-trigger-id "...)
	b = l.appendLEDID(b)
	if l.Delay > 0 {
		b = append(b, " --led-delay "...)
		b = strconv.AppendInt(b, int64(int32(l.Delay)), 10)
	}
	if l.AlwaysBlink != 0 {
		b = append(b, " --led-always-blink"...)
	}
	return b
}

// TargetPacket is led_tg: the LED trigger fires; the packet goes on. (The
// reference kernel has no LED target: such a rule does not load.)
func (l *LED) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
