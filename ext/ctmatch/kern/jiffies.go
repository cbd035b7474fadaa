package kern

// HZ is CONFIG_HZ of the Debian kernel the twin imitates (measured on the
// reference host: /proc/config.gz has CONFIG_HZ=250), so a jiffy is 4 ms.
const HZ = 250

// nsPerJiffy is NSEC_PER_SEC / HZ.
const nsPerJiffy = 1000000000 / HZ

// Jiffies is the kernel's jiffies (an unsigned long of a 64-bit kernel) at
// the host time now, in nanoseconds. Only differences between two values
// carry meaning, as in the kernel, where jiffies starts at INITIAL_JIFFIES.
func Jiffies(now int64) uint64 { return uint64(now) / nsPerJiffy }

// MsecsToJiffies is msecs_to_jiffies for HZ dividing 1000: rounded up.
func MsecsToJiffies(ms uint32) uint64 {
	const msPerJiffy = 1000 / HZ
	return (uint64(ms) + msPerJiffy - 1) / msPerJiffy
}

// TimeAfter is time_after(a, b): a is later than b, modulo wrap-around.
func TimeAfter(a, b uint64) bool { return int64(b-a) < 0 }

// TimeAfterEq is time_after_eq(a, b).
func TimeAfterEq(a, b uint64) bool { return int64(a-b) >= 0 }

// ReciprocalScale is reciprocal_scale: val scaled into [0, ep_ro) with a
// multiply instead of a division.
func ReciprocalScale(val, epRo uint32) uint32 { return uint32(uint64(val) * uint64(epRo) >> 32) }
