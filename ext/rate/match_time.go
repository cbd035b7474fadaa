package rate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/iptwin/iptwin/xtables"
)

// time match (libxt_time.c, xt_time.h).

const (
	timeOptDateStart uint = iota
	timeOptDateStop
	timeOptTimeStart
	timeOptTimeStop
	timeOptContiguous
	timeOptMonthdays
	timeOptWeekdays
	timeOptLocalTZ
	timeOptUTC
	timeOptKernelTZ
)

const (
	timeLocalTZ       = 1 << 0 // XT_TIME_LOCAL_TZ
	timeContiguous    = 1 << 1
	timeAllMonthdays  = 0xFFFFFFFE
	timeAllWeekdays   = 0xFE
	timeMinDaytime    = 0
	timeMaxDaytime    = 24*60*60 - 1
	timeDefaultDateTo = math.MaxInt32
)

var weekDays = [8]string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "time",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "datestart", ID: timeOptDateStart, Type: xtables.TypeString},
			{Name: "datestop", ID: timeOptDateStop, Type: xtables.TypeString},
			{Name: "timestart", ID: timeOptTimeStart, Type: xtables.TypeString},
			{Name: "timestop", ID: timeOptTimeStop, Type: xtables.TypeString},
			{Name: "contiguous", ID: timeOptContiguous, Type: xtables.TypeNone},
			{Name: "weekdays", ID: timeOptWeekdays, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "monthdays", ID: timeOptMonthdays, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "localtz", ID: timeOptLocalTZ, Type: xtables.TypeNone, Excl: 1 << timeOptUTC},
			{Name: "utc", ID: timeOptUTC, Type: xtables.TypeNone, Excl: 1<<timeOptLocalTZ | 1<<timeOptKernelTZ},
			{Name: "kerneltz", ID: timeOptKernelTZ, Type: xtables.TypeNone, Excl: 1 << timeOptUTC},
		},
		New: func() xtables.MatchInfo {
			return &Time{
				MonthdaysMatch: timeAllMonthdays, WeekdaysMatch: timeAllWeekdays,
				DaytimeStart: timeMinDaytime, DaytimeStop: timeMaxDaytime,
				DateStart: 0, DateStop: timeDefaultDateTo,
			}
		},
	})
}

// Time is struct xt_time_info.
type Time struct {
	DateStart, DateStop       uint32
	DaytimeStart, DaytimeStop uint32
	MonthdaysMatch            uint32
	WeekdaysMatch             uint8
	Flags                     uint8
}

// parseTimeDate is time_parse_date: YYYY[-MM[-DD[Thh[:mm[:ss]]]]] in UTC,
// normalised as mktime does.
func parseTimeDate(os string) (uint32, error) {
	bad := xtables.Errorf("Invalid date \"%s\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]", os)
	vals := [6]uint64{0, 1, 1, 0, 0, 0}
	seps := [6]byte{'-', '-', 'T', ':', ':', 0}
	limits := [6]uint64{2038, 12, 31, 23, 59, 59}
	s := os
	for i := 0; i < 6; i++ {
		v, rest := strtoul10(s)
		// strtoul's result goes into an unsigned int.
		v = uint64(uint32(v))
		if rest != "" && rest[0] != seps[i] || seps[i] == 0 && rest != "" {
			return 0, bad
		}
		if i == 0 && v < 1970 || v > limits[i] {
			return 0, bad
		}
		vals[i] = v
		if rest == "" {
			break
		}
		s = rest[1:]
	}
	// mktime with TZ=UTC: months, days and so on out of range carry over.
	t := time.Date(int(vals[0]), time.Month(vals[1]), int(vals[2]), int(vals[3]), int(vals[4]), int(vals[5]), 0, time.UTC)
	ret := t.Unix()
	if ret < 0 {
		// perror("mktime") then OTHER_PROBLEM; errno is left as it was.
		return 0, xtables.Problem(xtables.OtherProblem, "mktime returned an error")
	}
	return uint32(ret), nil
}

// parseTimeMinutes is time_parse_minutes: hh:mm[:ss] in seconds.
func parseTimeMinutes(s string) (uint32, error) {
	bad := func(at string) error {
		return xtables.Errorf("invalid time \"%s\" specified, should be hh:mm[:ss] format and within the boundaries", at)
	}
	hour, rest := strtoul10(s)
	hour = uint64(uint32(hour))
	if rest == "" || rest[0] != ':' || hour > 23 {
		return 0, bad(s)
	}
	s = rest[1:]
	minute, rest := strtoul10(s)
	minute = uint64(uint32(minute))
	if rest != "" && rest[0] != ':' || minute > 59 {
		return 0, bad(s)
	}
	var second uint64
	if rest != "" {
		s = rest[1:]
		second, rest = strtoul10(s)
		second = uint64(uint32(second))
		if rest != "" || second > 59 {
			return 0, bad(s)
		}
	}
	return uint32(3600*hour + 60*minute + second), nil
}

// strseg is my_strseg: the next comma-separated field, cut to size-1 bytes.
func strseg(arg *string, done *bool, size int) (string, bool) {
	if *done || *arg == "" {
		return "", false
	}
	var seg string
	if i := strings.IndexByte(*arg, ','); i >= 0 {
		seg, *arg = (*arg)[:i], (*arg)[i+1:]
	} else {
		seg, *done = *arg, true
	}
	return cString(seg, size), true
}

func parseMonthdays(arg string) (uint32, error) {
	var ret uint32
	done := false
	for {
		day, ok := strseg(&arg, &done, 3)
		if !ok {
			return ret, nil
		}
		i, rest := strtoul0(day)
		if rest != "" && rest[0] != ',' || i > 31 {
			return 0, xtables.Errorf("%s is not a valid day for --monthdays", day)
		}
		ret |= 1 << i
	}
}

func parseWeekdays(arg string) (uint8, error) {
	var ret uint32
	done := false
	for {
		day, ok := strseg(&arg, &done, 4)
		if !ok {
			return uint8(ret), nil
		}
		i, rest := strtoul0(day)
		if rest == "" {
			if i == 0 {
				return 0, xtables.Errorf("No, the week does NOT begin with Sunday.")
			}
			// 1 << i in an unsigned int (shift count taken mod 32 on x86).
			ret |= 1 << (uint32(i) & 31)
			continue
		}
		valid := false
		for k := 1; k < len(weekDays); k++ {
			if strncmp(day, weekDays[k], 2) {
				ret |= 1 << k
				valid = true
			}
		}
		if !valid {
			return 0, xtables.Errorf("%s is not a valid day specifier", day)
		}
	}
}

// strncmp reports strncmp(a, b, n) == 0.
func strncmp(a, b string, n int) bool {
	for i := 0; i < n; i++ {
		var ca, cb byte
		if i < len(a) {
			ca = a[i]
		}
		if i < len(b) {
			cb = b[i]
		}
		if ca != cb {
			return false
		}
		if ca == 0 {
			return true
		}
	}
	return true
}

func (t *Time) Parse(c *xtables.OptionCall) error {
	var err error
	switch c.Opt.ID {
	case timeOptDateStart:
		t.DateStart, err = parseTimeDate(c.Arg)
	case timeOptDateStop:
		t.DateStop, err = parseTimeDate(c.Arg)
	case timeOptTimeStart:
		t.DaytimeStart, err = parseTimeMinutes(c.Arg)
	case timeOptTimeStop:
		t.DaytimeStop, err = parseTimeMinutes(c.Arg)
	case timeOptContiguous:
		t.Flags |= timeContiguous
	case timeOptLocalTZ, timeOptKernelTZ:
		// --localtz also prints a warning on stderr in the real tool.
		t.Flags |= timeLocalTZ
	case timeOptMonthdays:
		if t.MonthdaysMatch, err = parseMonthdays(c.Arg); err == nil && c.Invert {
			t.MonthdaysMatch ^= timeAllMonthdays
		}
	case timeOptWeekdays:
		if t.WeekdaysMatch, err = parseWeekdays(c.Arg); err == nil && c.Invert {
			t.WeekdaysMatch ^= timeAllWeekdays
		}
	}
	return err
}

func (t *Time) Final(f *xtables.FinalCall) error {
	if f.Has(timeOptContiguous) && t.DaytimeStart < t.DaytimeStop {
		return xtables.Errorf("time: --contiguous only makes sense when stoptime is smaller than starttime")
	}
	return nil
}

// Check is time_mt_check (reachable only through hand-made rules).
func (t *Time) Check(ctx *xtables.Context) error {
	if t.DaytimeStart > timeMaxDaytime || t.DaytimeStop > timeMaxDaytime {
		return &xtables.KernelError{Errno: "Numerical argument out of domain"}
	}
	if t.Flags&^(timeLocalTZ|timeContiguous) != 0 {
		return xtables.ErrInvalidArgument
	}
	if t.Flags&timeContiguous != 0 && t.DaytimeStart < t.DaytimeStop {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// appendTimeDate is time_print_date: nothing for the epoch.
func appendTimeDate(b []byte, date uint32, command string) []byte {
	if date == 0 {
		return b
	}
	u := time.Unix(int64(date), 0).UTC()
	if command != "" {
		return fmt.Appendf(b, " %s %04d-%02d-%02dT%02d:%02d:%02d", command,
			u.Year(), int(u.Month()), u.Day(), u.Hour(), u.Minute(), u.Second())
	}
	return fmt.Appendf(b, " %04d-%02d-%02d %02d:%02d:%02d",
		u.Year(), int(u.Month()), u.Day(), u.Hour(), u.Minute(), u.Second())
}

func appendMonthdays(b []byte, mask uint32, human bool) []byte {
	b = append(b, ' ')
	n := 0
	for i := uint32(1); i <= 31; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = xtables.AppendUint(b, uint64(i))
		if human {
			switch i % 10 {
			case 1:
				b = append(b, "st"...)
			case 2:
				b = append(b, "nd"...)
			case 3:
				b = append(b, "rd"...)
			default:
				b = append(b, "th"...)
			}
		}
	}
	return b
}

func appendWeekdays(b []byte, mask uint8) []byte {
	b = append(b, ' ')
	n := 0
	for i := 1; i <= 7; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, weekDays[i]...)
	}
	return b
}

func appendDaytime(b []byte, prefix string, v uint32) []byte {
	return fmt.Appendf(b, "%s%02d:%02d:%02d", prefix, v/3600, v/60%60, v%60)
}

func (t *Time) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " TIME"...)
	if t.DaytimeStart != timeMinDaytime || t.DaytimeStop != timeMaxDaytime {
		b = appendDaytime(b, " from ", t.DaytimeStart)
		b = appendDaytime(b, " to ", t.DaytimeStop)
	}
	if t.WeekdaysMatch != timeAllWeekdays {
		b = appendWeekdays(append(b, " on"...), t.WeekdaysMatch)
	}
	if t.MonthdaysMatch != timeAllMonthdays {
		b = appendMonthdays(append(b, " on"...), t.MonthdaysMatch, true)
	}
	if t.DateStart != 0 {
		b = appendTimeDate(append(b, " starting from"...), t.DateStart, "")
	}
	if t.DateStop != timeDefaultDateTo {
		b = appendTimeDate(append(b, " until date"...), t.DateStop, "")
	}
	if t.Flags&timeLocalTZ == 0 {
		b = append(b, " UTC"...)
	}
	if t.Flags&timeContiguous != 0 {
		b = append(b, " contiguous"...)
	}
	return b
}

// Save always has --datestop: time_print_date skips only the epoch and
// LONG_MAX, not the INT_MAX default.
func (t *Time) Save(b []byte, ctx *xtables.Context) []byte {
	if t.DaytimeStart != timeMinDaytime || t.DaytimeStop != timeMaxDaytime {
		b = appendDaytime(b, " --timestart ", t.DaytimeStart)
		b = appendDaytime(b, " --timestop ", t.DaytimeStop)
	}
	if t.MonthdaysMatch != timeAllMonthdays {
		b = appendMonthdays(append(b, " --monthdays"...), t.MonthdaysMatch, false)
	}
	if t.WeekdaysMatch != timeAllWeekdays {
		b = appendWeekdays(append(b, " --weekdays"...), t.WeekdaysMatch)
	}
	b = appendTimeDate(b, t.DateStart, "--datestart")
	b = appendTimeDate(b, t.DateStop, "--datestop")
	if t.Flags&timeLocalTZ != 0 {
		b = append(b, " --kerneltz"...)
	}
	if t.Flags&timeContiguous != 0 {
		b = append(b, " --contiguous"...)
	}
	return b
}
