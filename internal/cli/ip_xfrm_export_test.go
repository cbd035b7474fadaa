package cli

import (
	"io"
	"strings"
	"time"

	"github.com/iptwin/iptwin/host"
)

// XfrmForTest runs "ip [OPTIONS] xfrm ..." (argv without the program
// name) through the xfrm command with the options ip(8) takes before the
// object: -4, -6, -o, -s (repeatable), -f FAMILY.
func XfrmForTest(env *Env, args []string) int {
	orig := args
	c := &ipCtx{env: env, w: &strings.Builder{}}
	stats := 0
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		opt := strings.TrimPrefix(args[0], "-")
		switch {
		case opt == "4":
			c.family = 4
		case opt == "6":
			c.family = 6
		case opt == "o" || opt == "-oneline" || matches(opt, "oneline"):
			c.oneline = true
		case opt == "s" || matches(opt, "stats") || matches(opt, "statistics"):
			stats++
		case opt == "f" && len(args) > 1:
			args = args[1:]
			switch args[0] {
			case "inet":
				c.family = 4
			case "inet6":
				c.family = 6
			}
		}
		args = args[1:]
	}
	if len(args) == 0 || !matches(args[0], "xfrm") {
		argv := append([]string{"ip", "--state", env.StatePath}, orig...)
		return Main(argv, env.Stdin, env.Stdout, env.Stderr)
	}
	d, rc := openState(env, "ip")
	if d == nil {
		return rc
	}
	defer d.Unlock()
	n, err := host.Load(d)
	if err != nil {
		c.errf("ip: %v\n", err)
		return 4
	}
	c.net = n
	rc = c.xfrmWith(args[1:], stats)
	io.WriteString(env.Stdout, c.w.String())
	return rc
}

// SetXfrmNow sets the clock of ip xfrm's add and use times and prints
// them in UTC.
func SetXfrmNow(f func() int64) (restore func()) {
	old, oldLoc := xfrmNow, xfrmLocation
	xfrmNow, xfrmLocation = f, time.UTC
	return func() { xfrmNow, xfrmLocation = old, oldLoc }
}
