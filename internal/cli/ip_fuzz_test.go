package cli

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzIP runs random argument lists through ip (and sysctl) on one state
// directory: no input may panic, and the state must stay loadable.
func FuzzIP(f *testing.F) {
	for _, s := range []string{
		"link add v0 type veth peer name v1", "link set v0 up mtu 1400 address 02:00:00:00:00:01",
		"addr add 10.0.0.1/24 brd + dev v0 label v0:1", "-6 addr add 2001:db8::1/64 dev v0 nodad",
		"route add default via 10.0.0.254", "route replace 10.1.0.0/16 dev v0 table 100 metric 5 proto static scope link",
		"route get 8.8.8.8 from 10.0.0.1 iif v0 mark 3", "rule add fwmark 0x1/0xff iif v0 to 1.2.0.0/16 lookup 100 priority 5",
		"rule del priority 5", "link del v1", "-4 route show table all", "a", "r g 1", "link set a b c", "route add blackhole",
		"addr add 10.0.0.1/33 dev lo", "route add 0/0 via ::1", "rule add from all to all unreachable",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, StatePath: dir}
		runIP(env, "ip", args)
		runIP(env, "ip", []string{"route", "show", "table", "all"})
		runIP(env, "ip", []string{"addr"})
		runIP(env, "ip", []string{"rule"})
		if len(args) > 0 {
			runSysctl(env, "sysctl", args[:1])
		}
		if strings.Contains(errb.String(), "damaged") {
			t.Fatalf("state damaged after %q: %s", line, errb.String())
		}
	})
}
