package nflog

import (
	"strconv"
	"time"
)

// SyslogOptions say how AppendSyslog frames a line.
type SyslogOptions struct {
	// Loc is the time zone syslog writes its timestamp in (local time);
	// nil means UTC.
	Loc *time.Location
	// Uptime adds the kernel's own "[   47.689659] " stamp (seconds
	// since boot, printk.time=1) after "kernel: ", as syslog daemons that
	// read /proc/kmsg show it (seed 000); without it the line follows
	// "kernel: " directly (seeds 001 and 002).
	Uptime bool
	// Boot is when the host booted (Unix time in ns): the stamp shows
	// t - Boot.
	Boot int64
	// Tag is the program name; "" means "kernel".
	Tag string
}

// AppendSyslog frames a line as /var/log/messages or /var/log/syslog
// shows it (RFC 3164 layout as rsyslog writes it), e.g.
//
//	Sep  2 08:58:57 host kernel: [INPUT]IN=eth0 OUT= ...
//	Jun 20 21:51:02 debian kernel: [   47.689659] [INPUT] IN=eth0 ...
//
// t is Unix time in ns. Control characters in the line (possible in a
// prefix) are written as rsyslog escapes them, '#' and three octal
// digits. No allocation when b has room.
func AppendSyslog(b []byte, t int64, host string, line []byte, opts SyslogOptions) []byte {
	loc := opts.Loc
	if loc == nil {
		loc = time.UTC
	}
	b = time.Unix(0, t).In(loc).AppendFormat(b, time.Stamp) // "Jan _2 15:04:05"
	b = append(b, ' ')
	b = append(b, host...)
	b = append(b, ' ')
	if opts.Tag == "" {
		b = append(b, "kernel"...)
	} else {
		b = append(b, opts.Tag...)
	}
	b = append(b, ": "...)
	if opts.Uptime {
		b = appendUptime(b, t-opts.Boot)
	}
	for _, c := range line {
		if c < 0x20 || c == 0x7f {
			b = append(b, '#', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
			continue
		}
		b = append(b, c)
	}
	return b
}

// appendUptime is printk's print_time: "[%5lu.%06lu] ".
func appendUptime(b []byte, ns int64) []byte {
	if ns < 0 {
		ns = 0
	}
	sec, usec := ns/1e9, ns%1e9/1e3
	b = append(b, '[')
	for w := int64(10000); w > 1 && sec < w; w /= 10 {
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, '.')
	for w := int64(100000); w > 1 && usec < w; w /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, usec, 10)
	return append(b, "] "...)
}
