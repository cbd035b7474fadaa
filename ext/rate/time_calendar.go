package rate

import "github.com/iptwin/iptwin/xtables"

// The calendar of the time match (net/netfilter/xt_time.c): days since
// the epoch, weekday and day of the month from a table of years that
// ends in 2039, as the kernel computes them (later dates keep counting
// from 2039, so their month days are the kernel's, not the calendar's).

const (
	dseFirst      = 2039
	secondsPerDay = 86400
)

var daysSinceYear = [12]uint16{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

var daysSinceLeapYear = [12]uint16{0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335}

var daysSinceEpoch = [70]uint16{
	25202, 24837, 24472, 24106, 23741, 23376, 23011, 22645, 22280, 21915,
	21550, 21184, 20819, 20454, 20089, 19723, 19358, 18993, 18628, 18262,
	17897, 17532, 17167, 16801, 16436, 16071, 15706, 15340, 14975, 14610,
	14245, 13879, 13514, 13149, 12784, 12418, 12053, 11688, 11323, 10957,
	10592, 10227, 9862, 9496, 9131, 8766, 8401, 8035, 7670, 7305,
	6940, 6574, 6209, 5844, 5479, 5113, 4748, 4383, 4018, 3652,
	3287, 2922, 2557, 2191, 1826, 1461, 1096, 730, 365, 0,
}

func isLeap(y uint32) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// monthday is localtime_3's day of the month for dse days since the
// epoch.
func monthday(dse uint32) uint32 {
	i, year := 0, uint32(dseFirst)
	for uint32(daysSinceEpoch[i]) > dse {
		i++
		year--
	}
	w := dse - uint32(daysSinceEpoch[i])
	tbl := &daysSinceYear
	if isLeap(year) {
		tbl = &daysSinceLeapYear
	}
	j := len(tbl) - 1
	for j > 0 && uint32(tbl[j]) > w {
		j--
	}
	return w - uint32(tbl[j]) + 1
}

// KernelTZ is implemented by a host whose kernel time zone (sys_tz, set
// by settimeofday, e.g. by hwclock for an RTC in local time) is not UTC:
// minutes west of Greenwich. Without it the kernel's zone is UTC, which
// is what a Debian host with its RTC in UTC has.
type KernelTZ interface {
	MinutesWest() int
}

// MatchPacket is time_mt: the host's wall clock (in seconds; moved to
// the kernel's time zone with --kerneltz) within the dates, the time of
// day range (which may wrap past midnight, and with --contiguous counts
// as the day it started), the weekdays and the days of the month.
func (t *Time) MatchPacket(st *xtables.PacketState) bool {
	stamp := st.Env.Now() / 1000000000
	if t.Flags&timeLocalTZ != 0 {
		if tz, ok := st.Env.(KernelTZ); ok {
			stamp -= 60 * int64(tz.MinutesWest())
		}
	}
	if stamp < int64(t.DateStart) || stamp > int64(t.DateStop) {
		return false
	}
	// localtime_1: div_u64_rem on the 64-bit value.
	packetTime := uint32(uint64(stamp) % secondsPerDay)
	if t.DaytimeStart < t.DaytimeStop {
		if packetTime < t.DaytimeStart || packetTime > t.DaytimeStop {
			return false
		}
	} else {
		if packetTime < t.DaytimeStart && packetTime > t.DaytimeStop {
			return false
		}
		if t.Flags&timeContiguous != 0 && packetTime <= t.DaytimeStop {
			stamp -= secondsPerDay
		}
	}
	dse := uint32(uint64(stamp) / secondsPerDay) // r->dse is an unsigned int
	weekday := (4+dse-1)%7 + 1
	if t.WeekdaysMatch&(1<<weekday) == 0 {
		return false
	}
	if t.MonthdaysMatch != timeAllMonthdays {
		// 1 << monthday in C: x86 shifts by the count's low 5 bits
		// (month days past 31 come from dates after 2039).
		if t.MonthdaysMatch&(1<<(monthday(dse)&31)) == 0 {
			return false
		}
	}
	return true
}
