package nflog

import (
	"testing"
	"time"
)

func TestAppendSyslog(t *testing.T) {
	at := unixNano("2017 Sep  2 08:58:57") + 123_456_789
	tokyo := time.FixedZone("JST", 9*3600)
	tests := []struct {
		name string
		line string
		opts SyslogOptions
		want string
	}{
		{"day padded with a space", "[INPUT]IN=eth0 ", SyslogOptions{},
			"Sep  2 08:58:57 host kernel: [INPUT]IN=eth0 "},
		{"local time", "x", SyslogOptions{Loc: tokyo}, "Sep  2 17:58:57 host kernel: x"},
		{"uptime below 10 s", "x", SyslogOptions{Uptime: true, Boot: at - 1_000_001_000},
			"Sep  2 08:58:57 host kernel: [    1.000001] x"},
		{"uptime of 5 digits", "x", SyslogOptions{Uptime: true, Boot: at - 18024_486179_999},
			"Sep  2 08:58:57 host kernel: [18024.486179] x"},
		{"uptime beyond 5 digits", "x", SyslogOptions{Uptime: true, Boot: at - 123456_000000_000},
			"Sep  2 08:58:57 host kernel: [123456.000000] x"},
		{"boot after the clock", "x", SyslogOptions{Uptime: true, Boot: at + 1},
			"Sep  2 08:58:57 host kernel: [    0.000000] x"},
		{"own tag", "x", SyslogOptions{Tag: "kern"}, "Sep  2 08:58:57 host kern: x"},
		{"control characters escaped as rsyslog does", "a\tb\x1bc\x7f", SyslogOptions{},
			"Sep  2 08:58:57 host kernel: a#011b#033c#177"},
		{"UTF-8 kept", "ログ: IN=", SyslogOptions{}, "Sep  2 08:58:57 host kernel: ログ: IN="},
	}
	for _, tc := range tests {
		if got := string(AppendSyslog(nil, at, "host", []byte(tc.line), tc.opts)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	// Two-digit days are not padded.
	if got := string(AppendSyslog(nil, unixNano("2019 Jun 20 21:51:02"), "debian", nil, SyslogOptions{})); got != "Jun 20 21:51:02 debian kernel: " {
		t.Errorf("got %q", got)
	}
}

func TestAppendSyslogAllocs(t *testing.T) {
	line := []byte("[INPUT] IN=eth0 OUT= SRC=10.0.0.200 ")
	buf := make([]byte, 0, 256)
	opts := SyslogOptions{Uptime: true, Boot: 1, Loc: time.FixedZone("JST", 9*3600)}
	if n := testing.AllocsPerRun(200, func() { buf = AppendSyslog(buf[:0], 1_600_000_000_000_000_000, "host", line, opts) }); n != 0 {
		t.Errorf("%v allocations per line", n)
	}
}
