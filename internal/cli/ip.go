package cli

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/host"
)

// The ip(8) subset setup scripts use (iproute2 6.1): link, address, route
// and rule, with iproute2's output formats and messages.
func init() { Register("ip", runIP) }

// ipExit is a parse failure: message already printed, exit status.
type ipExit int

type ipCtx struct {
	env    *Env
	net    *host.Net
	family int // 0, 4 or 6
	// oneline (-o) and brief (-br) output
	oneline, brief bool
	w              *strings.Builder
	dirty          bool
	// stats counts -s options (ip -s -s xfrm ...).
	stats int
}

func (c *ipCtx) errf(format string, a ...any) { fmt.Fprintf(c.env.Stderr, format, a...) }

// garbage is iproute2's duparg2 message.
func (c *ipCtx) garbage(key, arg string) int {
	c.errf("Error: either \"%s\" is duplicate, or \"%s\" is a garbage.\n", key, arg)
	return 255
}

func (c *ipCtx) invarg(msg, arg string) int {
	c.errf("Error: argument \"%s\" is wrong: %s\n\n", arg, msg)
	return 255
}

func (c *ipCtx) nodev(name string) int {
	c.errf("Cannot find device \"%s\"\n", name)
	return 1
}

// kernelErr renders a kernel answer: extack messages as "Error: ...",
// errnos as "RTNETLINK answers: ...".
func (c *ipCtx) kernelErr(err error) int {
	var x *host.ExtError
	if errors.As(err, &x) {
		msg := x.Msg
		if !strings.HasPrefix(msg, "Error: ") && !strings.HasPrefix(msg, "RTNETLINK") {
			msg = "Error: " + msg
		}
		c.errf("%s\n", msg)
		return 2
	}
	c.errf("RTNETLINK answers: %s\n", err.Error())
	return 2
}

// matches is iproute2's matches(): arg is a prefix of word.
func matches(arg, word string) bool { return arg != "" && strings.HasPrefix(word, arg) }

func runIP(env *Env, prog string, args []string) int {
	c := &ipCtx{env: env, w: &strings.Builder{}}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		opt := args[0]
		if strings.HasPrefix(opt, "--") {
			opt = opt[1:]
		}
		switch {
		case opt == "-4":
			c.family = 4
		case opt == "-o" || matches(opt, "-oneline"):
			c.oneline = true
		case opt == "-br" || matches(opt, "-brief") && len(opt) > 2:
			c.brief = true
		case opt == "-6":
			c.family = 6
		case matches(opt, "-stats") || matches(opt, "-statistics"):
			c.stats++
		case matches(opt, "-details"):
			// Accepted and ignored, as for the objects iptwin lists.
		case opt == "-V" || matches(opt, "-Version"):
			fmt.Fprintln(env.Stdout, "ip utility, iproute2-6.1.0, libbpf 1.1.2")
			return 0
		case opt == "-f" || matches(opt, "-family"):
			if len(args) < 2 {
				c.errf("Command line is not complete. Try option \"help\"\n")
				return 255
			}
			switch args[1] {
			case "inet":
				c.family = 4
			case "inet6":
				c.family = 6
			default:
				c.errf("Error: argument \"%s\" is wrong: invalid protocol family\n\n", args[1])
				return 255
			}
			args = args[1:]
		default:
			c.errf("Option \"%s\" is unknown, try \"ip -help\".\n", args[0])
			return 255
		}
		args = args[1:]
	}
	if len(args) == 0 {
		c.errf("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n")
		return 255
	}
	obj := args[0]
	var run func([]string) int
	for _, o := range []struct {
		name string
		fn   func([]string) int
	}{{"address", c.addr}, {"addrlabel", nil}, {"maddress", nil}, {"route", c.route}, {"rule", c.rule}, {"neighbor", nil}, {"neighbour", nil}, {"ntable", nil}, {"ntbl", nil}, {"link", c.link}, {"xfrm", func(a []string) int { return c.xfrmWith(a, c.stats) }}} {
		if matches(obj, o.name) {
			if o.fn == nil {
				c.errf("ip: \"%s\" is not supported by iptwin\n", o.name)
				return 255
			}
			run = o.fn
			break
		}
	}
	if run == nil {
		c.errf("Object \"%s\" is unknown, try \"ip help\".\n", obj)
		return 1
	}
	if c.stats > 0 && !matches(obj, "xfrm") {
		c.errf("ip: -s is not supported by iptwin for \"%s\"\n", obj)
		return 255
	}
	d, rc := openState(env, prog)
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
	rc = run(args[1:])
	io.WriteString(env.Stdout, c.w.String())
	if c.dirty {
		if err := n.Save(d); err != nil {
			c.errf("ip: %v\n", err)
			return 4
		}
	}
	return rc
}

// ---- link ----

func (c *ipCtx) link(args []string) int {
	if len(args) == 0 {
		return c.linkShow(nil)
	}
	cmd, args := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return c.linkAdd(args)
	case matches(cmd, "set"), matches(cmd, "change"):
		return c.linkSet(args)
	case matches(cmd, "delete"):
		return c.linkDel(args)
	case matches(cmd, "show"), matches(cmd, "lst"), matches(cmd, "list"):
		return c.linkShow(args)
	}
	c.errf("Command \"%s\" is unknown, try \"ip link help\".\n", cmd)
	return 255
}

func (c *ipCtx) linkAdd(args []string) int {
	var name, typ, peer string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "name" || a == "dev":
			if i+1 >= len(args) {
				return c.incomplete()
			}
			i++
			name = args[i]
		case a == "type":
			if i+1 >= len(args) {
				return c.incomplete()
			}
			i++
			typ = args[i]
			rest := args[i+1:]
			if typ == "veth" && len(rest) > 0 {
				if rest[0] != "peer" {
					return c.garbage("name", rest[0])
				}
				rest = rest[1:]
				if len(rest) >= 2 && rest[0] == "name" {
					peer = rest[1]
					rest = rest[2:]
				} else if len(rest) == 1 {
					peer = rest[0]
					rest = nil
				}
				if len(rest) > 0 {
					return c.garbage("name", rest[0])
				}
			} else if len(rest) > 0 {
				c.errf("%s: unknown option \"%s\"?\n", typ, rest[0])
				return 255
			}
			i = len(args)
		default:
			if matches(a, "address") || matches(a, "broadcast") || a == "brd" {
				if i+1 >= len(args) {
					return c.incomplete()
				}
				i++
				if _, ok := parseMAC(args[i]); !ok {
					c.errf("\"%s\" is invalid lladdr.\n", args[i])
					return 1
				}
				continue
			}
			if name != "" {
				return c.garbage("name", a)
			}
			name = a
		}
	}
	if name == "" {
		c.errf("Not enough information: \"dev\" argument is required.\n")
		return 255
	}
	if typ != "dummy" && typ != "veth" {
		c.errf("Error: Unknown device type.\n")
		return 2
	}
	for _, nm := range []string{name, peer} {
		if len(nm) >= 16 {
			// IFLA_IFNAME's netlink policy rejects it
			c.errf("Error: Attribute failed policy validation.\n")
			return 2
		}
		if err := validName(nm); err != "" && nm != "" {
			c.errf("Error: argument \"%s\" is wrong: %s\n\n", nm, err)
			return 255
		}
	}
	if err := c.net.AddLink(name, typ, peer); err != nil {
		return c.kernelErr(err)
	}
	c.dirty = true
	return 0
}

func validName(s string) string {
	if len(s) >= 16 {
		return "\"name\" not a valid ifname"
	}
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/: \t\n") {
		return "\"name\" not a valid ifname"
	}
	return ""
}

func (c *ipCtx) incomplete() int {
	c.errf("Command line is not complete. Try option \"help\"\n")
	return 255
}

func (c *ipCtx) linkSet(args []string) int {
	var dev string
	type op struct{ key, val string }
	var ops []op
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() bool {
			if i+1 >= len(args) {
				return false
			}
			i++
			return true
		}
		switch a {
		case "up", "down":
			ops = append(ops, op{a, ""})
		case "mtu", "address", "name":
			if !next() {
				return c.incomplete()
			}
			ops = append(ops, op{a, args[i]})
		case "dev":
			if !next() {
				return c.incomplete()
			}
			if dev != "" {
				return c.garbage("dev", args[i])
			}
			dev = args[i]
		default:
			// iplink_parse takes any abbreviation of "address" or
			// "broadcast" as that keyword
			if matches(a, "address") || matches(a, "broadcast") || a == "brd" {
				if !next() {
					return c.incomplete()
				}
				key := "address"
				if !matches(a, "address") {
					key = "broadcast"
				}
				ops = append(ops, op{key, args[i]})
				continue
			}
			if dev != "" {
				return c.garbage("dev", a)
			}
			dev = a
		}
	}
	// iproute2 checks the link-layer address while parsing
	for _, o := range ops {
		if o.key == "address" || o.key == "broadcast" {
			if _, ok := parseMAC(o.val); !ok {
				c.errf("\"%s\" is invalid lladdr.\n", o.val)
				return 1
			}
		}
	}
	if dev == "" {
		c.errf("Not enough information: \"dev\" argument is required.\n")
		return 255
	}
	l := c.net.LinkByName(dev)
	if l == nil {
		return c.nodev(dev)
	}
	// iproute2 validates the arguments before talking to the kernel
	for _, o := range ops {
		switch o.key {
		case "mtu":
			if _, err := strconv.ParseUint(o.val, 0, 32); err != nil {
				return c.invarg("Invalid \"mtu\" value", o.val)
			}
		case "address":
			if _, ok := parseMAC(o.val); !ok {
				c.errf("\"%s\" is invalid lladdr.\n", o.val)
				return 255
			}
		case "name":
			if e := validName(o.val); e != "" {
				return c.invarg(e, o.val)
			}
		}
	}
	for _, o := range ops {
		switch o.key {
		case "up", "down":
			c.net.SetLinkUp(l, o.key == "up")
		case "mtu":
			v, _ := strconv.ParseUint(o.val, 0, 32)
			min, max := uint64(68), uint64(65535)
			if l.Kind == host.Loopback {
				max = 1<<31 - 1
			}
			if l.Kind == host.Dummy {
				min, max = 0, 1<<31-1
			}
			if v < min {
				c.errf("Error: mtu less than device minimum.\n")
				return 2
			}
			if v > max {
				c.errf("Error: mtu greater than device maximum.\n")
				return 2
			}
			l.MTU = int(v)
		case "address":
			m, _ := parseMAC(o.val)
			l.MAC = m
		case "name":
			if err := c.net.Rename(l, o.val); err != nil {
				return c.kernelErr(err)
			}
		}
		c.dirty = true
	}
	return 0
}

func parseMAC(s string) (string, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return "", false
	}
	var b []string
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || p == "" {
			return "", false
		}
		b = append(b, fmt.Sprintf("%02x", v))
	}
	return strings.Join(b, ":"), true
}

func (c *ipCtx) linkDel(args []string) int {
	var dev string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "dev" {
			if i+1 >= len(args) {
				return c.incomplete()
			}
			i++
			a = args[i]
		} else if a == "type" {
			i++
			continue
		}
		if dev != "" {
			return c.garbage("dev", a)
		}
		dev = a
	}
	if dev == "" {
		c.errf("Not enough information: \"dev\" argument is required.\n")
		return 255
	}
	l := c.net.LinkByName(dev)
	if l == nil {
		return c.nodev(dev)
	}
	if err := c.net.DelLink(l); err != nil {
		return c.kernelErr(err)
	}
	c.dirty = true
	return 0
}

func (c *ipCtx) linkShow(args []string) int {
	ls, rc := c.selectLinks(args)
	if rc != 0 {
		return rc
	}
	for _, l := range ls {
		if c.brief {
			fmt.Fprintf(c.w, "%-16s %-14s %s <%s> \n", c.linkName(l), c.operState(l), l.MAC, strings.Join(c.linkFlags(l), ","))
			continue
		}
		c.linkHeader(l, true, true)
	}
	return 0
}

func (c *ipCtx) selectLinks(args []string) ([]*host.Link, int) {
	var dev string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "dev" {
			if i+1 >= len(args) {
				return nil, c.incomplete()
			}
			i++
			a = args[i]
		} else if a == "up" {
			continue
		}
		if dev != "" {
			return nil, c.garbage("dev", a)
		}
		dev = a
	}
	if dev != "" {
		l := c.net.LinkByName(dev)
		if l == nil {
			c.errf("Device \"%s\" does not exist.\n", dev)
			return nil, 1
		}
		return []*host.Link{l}, 0
	}
	return c.net.Links, 0
}

func (c *ipCtx) linkName(l *host.Link) string {
	if l.Kind == host.Veth {
		if p := c.net.LinkByIndex(l.Peer); p != nil {
			return l.Name + "@" + p.Name
		}
		return l.Name + "@if" + strconv.Itoa(l.Peer)
	}
	return l.Name
}

// linkHeader prints "N: name: <FLAGS> mtu ..." and the link/ line; full
// is false for the IPv6-only address listing, whose link attributes the
// kernel reports in short.
func (c *ipCtx) linkFlags(l *host.Link) []string {
	var flags []string
	carrier := c.net.Carrier(l)
	if l.Up && !carrier {
		flags = append(flags, "NO-CARRIER")
	}
	switch l.Kind {
	case host.Loopback:
		flags = append(flags, "LOOPBACK")
	case host.Dummy:
		flags = append(flags, "BROADCAST", "NOARP")
	default:
		flags = append(flags, "BROADCAST", "MULTICAST")
	}
	if l.Up {
		flags = append(flags, "UP")
		if carrier {
			flags = append(flags, "LOWER_UP")
		}
	}
	if l.Kind == host.Veth {
		if p := c.net.LinkByIndex(l.Peer); p == nil || !p.Up {
			flags = append(flags, "M-DOWN")
		}
	}
	return flags
}

func (c *ipCtx) operState(l *host.Link) string {
	carrier := c.net.Carrier(l)
	switch {
	case l.Up && !carrier:
		return "LOWERLAYERDOWN"
	case l.Up && l.Kind == host.Veth:
		return "UP"
	case l.Up:
		return "UNKNOWN"
	}
	return "DOWN"
}

// linkHeader prints "N: name: <FLAGS> mtu ..." and the link/ line; full
// is false for the IPv6-only address listing, whose link attributes the
// kernel reports in short.
func (c *ipCtx) linkHeader(l *host.Link, mode, full bool) {
	flags, st := c.linkFlags(l), c.operState(l)
	qdisc := "noop"
	if l.Started {
		qdisc = "noqueue"
	}
	fmt.Fprintf(c.w, "%d: %s: <%s> mtu %d ", l.Index, c.linkName(l), strings.Join(flags, ","), l.MTU)
	if full {
		fmt.Fprintf(c.w, "qdisc %s ", qdisc)
	}
	fmt.Fprintf(c.w, "state %s ", st)
	if mode {
		c.w.WriteString("mode DEFAULT ")
	}
	if full {
		c.w.WriteString("group default ")
	}
	c.w.WriteString("qlen 1000")
	nl := "\n"
	if c.oneline {
		nl = "\\"
	}
	if c.family == 0 {
		c.w.WriteString(nl)
		if l.Kind == host.Loopback {
			fmt.Fprintf(c.w, "    link/loopback %s brd 00:00:00:00:00:00", l.MAC)
		} else {
			fmt.Fprintf(c.w, "    link/ether %s brd ff:ff:ff:ff:ff:ff", l.MAC)
		}
	}
	c.w.WriteString("\n")
}

// ---- address ----

func (c *ipCtx) addr(args []string) int {
	if len(args) == 0 {
		return c.addrShow(nil)
	}
	cmd, args := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return c.addrMod(args, true)
	case matches(cmd, "delete"):
		return c.addrMod(args, false)
	case matches(cmd, "show"), matches(cmd, "lst"), matches(cmd, "list"):
		return c.addrShow(args)
	}
	c.errf("Command \"%s\" is unknown, try \"ip address help\".\n", cmd)
	return 255
}

// parsePrefix is iproute2's get_prefix for a family (0: any): a missing
// length is the host length.
func parsePrefix(s string, family int) (netip.Prefix, bool) {
	addr, plen, hasLen := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		if family != 6 && !strings.Contains(addr, ":") {
			if v, ok := inetAton(addr); ok {
				a, err = v, nil
			}
		}
		if err != nil {
			return netip.Prefix{}, false
		}
	}
	if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
		return netip.Prefix{}, false
	}
	bits := a.BitLen()
	if hasLen {
		v, err := strconv.ParseUint(plen, 10, 8)
		if err != nil || int(v) > a.BitLen() {
			return netip.Prefix{}, false
		}
		bits = int(v)
	}
	return netip.PrefixFrom(a, bits), true
}

// inetAton accepts the short IPv4 forms ("10", "10.1") iproute2 takes.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

func (c *ipCtx) addrMod(args []string, add bool) int {
	var local netip.Prefix
	var dev, label, brd string
	scope := -1
	nodad := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() bool {
			if i+1 >= len(args) {
				return false
			}
			i++
			return true
		}
		switch {
		case a == "dev":
			if !next() {
				return c.incomplete()
			}
			dev = args[i]
		case a == "label":
			if !next() {
				return c.incomplete()
			}
			label = args[i]
		case matches(a, "broadcast") || a == "brd":
			if !next() {
				return c.incomplete()
			}
			brd = args[i]
		case a == "scope":
			if !next() {
				return c.incomplete()
			}
			s, ok := parseScope(args[i])
			if !ok {
				// this message has no trailing "\n" of its own in iproute2
				c.errf("Error: argument \"%s\" is wrong: invalid scope value.\n", args[i])
				return 255
			}
			scope = s
		case a == "nodad":
			nodad = true
		case a == "noprefixroute" || a == "valid_lft" || a == "preferred_lft":
			if a != "noprefixroute" {
				next()
			}
		default:
			if a == "local" {
				if !next() {
					return c.incomplete()
				}
				a = args[i]
			}
			if local.IsValid() {
				return c.garbage("local", a)
			}
			p, ok := parsePrefix(a, c.family)
			if !ok {
				c.errf("Error: any valid prefix is expected rather than \"%s\".\n", a)
				return 1
			}
			local = p
		}
	}
	if dev == "" {
		c.errf("Not enough information: \"dev\" argument is required.\n")
		return 1
	}
	if !local.IsValid() {
		if !add {
			c.errf("Not enough information: \"local\" argument is required.\n")
			return 1
		}
		c.errf("Not enough information: \"local\" argument is required.\n")
		return 1
	}
	l := c.net.LinkByName(dev)
	if l == nil {
		return c.nodev(dev)
	}
	if !add {
		if err := c.net.DelAddr(local, l.Index); err != nil {
			return c.kernelErr(err)
		}
		c.dirty = true
		return 0
	}
	v4 := local.Addr().Is4()
	a := &host.Addr{Prefix: local, Dev: l.Index, Label: label, NoDAD: nodad}
	if v4 && a.Label == "" {
		a.Label = dev
	}
	if !v4 {
		a.Label = ""
	}
	if brd != "" && v4 {
		switch brd {
		case "+", "-":
			if local.Bits() < 31 {
				last := local.Masked().Addr().As4()
				first := last
				for i := local.Bits(); i < 32; i++ {
					last[i/8] |= 0x80 >> (i % 8)
				}
				if brd == "+" {
					a.Broadcast = netip.AddrFrom4(last)
				} else {
					a.Broadcast = netip.AddrFrom4(first)
				}
			}
		default:
			b, ok := parsePrefix(brd, 4)
			if !ok || b.Bits() != 32 {
				c.errf("Error: inet address is expected rather than \"%s\".\n", brd)
				return 1
			}
			a.Broadcast = b.Addr()
		}
	}
	switch {
	case scope >= 0:
		a.Scope = scope
	case local.Addr().IsLoopback():
		a.Scope = host.ScopeHost
	case !v4 && local.Addr().IsLinkLocalUnicast():
		a.Scope = host.ScopeLink
	}
	if err := c.net.AddAddr(a); err != nil {
		return c.kernelErr(err)
	}
	c.dirty = true
	return 0
}

func parseScope(s string) (int, bool) {
	switch s {
	case "global", "universe":
		return host.ScopeUniverse, true
	case "site":
		return host.ScopeSite, true
	case "link":
		return host.ScopeLink, true
	case "host":
		return host.ScopeHost, true
	case "nowhere":
		return host.ScopeNowhere, true
	}
	v, err := strconv.ParseUint(s, 0, 8)
	return int(v), err == nil
}

func scopeName(s int) string {
	switch s {
	case host.ScopeUniverse:
		return "global"
	case host.ScopeSite:
		return "site"
	case host.ScopeLink:
		return "link"
	case host.ScopeHost:
		return "host"
	case host.ScopeNowhere:
		return "nowhere"
	}
	return strconv.Itoa(s)
}

func (c *ipCtx) addrShow(args []string) int {
	ls, rc := c.selectLinks(args)
	if rc != 0 {
		return rc
	}
	for _, l := range ls {
		var v4, v6 []*host.Addr
		for _, a := range c.net.Addrs {
			if a.Dev != l.Index {
				continue
			}
			if a.Prefix.Addr().Is4() {
				v4 = append(v4, a)
			} else {
				v6 = append(v6, a)
			}
		}
		// primaries before secondaries; IPv6 by scope, newest first
		var prim, sec []*host.Addr
		for _, a := range v4 {
			if c.net.Secondary(a) {
				sec = append(sec, a)
			} else {
				prim = append(prim, a)
			}
		}
		v4 = append(prim, sec...)
		var v6s []*host.Addr
		for _, sc := range []int{host.ScopeUniverse, host.ScopeSite, host.ScopeLink, host.ScopeHost, host.ScopeNowhere} {
			for i := len(v6) - 1; i >= 0; i-- {
				if v6[i].Scope == sc {
					v6s = append(v6s, v6[i])
				}
			}
		}
		if c.family == 4 && len(v4) == 0 || c.family == 6 && len(v6s) == 0 {
			continue
		}
		if c.brief {
			fmt.Fprintf(c.w, "%-16s %-14s ", c.linkName(l), c.operState(l))
			if c.family != 6 {
				for _, a := range v4 {
					c.w.WriteString(a.Prefix.String() + " ")
				}
			}
			if c.family != 4 {
				for _, a := range v6s {
					c.w.WriteString(a.Prefix.String() + " ")
				}
			}
			c.w.WriteString("\n")
			continue
		}
		nl, lead := "\n", ""
		if c.oneline {
			nl, lead = "\\", fmt.Sprintf("%d: %s", l.Index, l.Name)
		} else {
			c.linkHeader(l, false, c.family != 6)
		}
		if c.family != 6 {
			for _, a := range v4 {
				fmt.Fprintf(c.w, "%s    inet %s ", lead, a.Prefix)
				if a.Broadcast.IsValid() {
					fmt.Fprintf(c.w, "brd %s ", a.Broadcast)
				}
				fmt.Fprintf(c.w, "scope %s ", scopeName(a.Scope))
				if c.net.Secondary(a) {
					c.w.WriteString("secondary ")
				}
				fmt.Fprintf(c.w, "%s%s       valid_lft forever preferred_lft forever\n", a.Label, nl)
			}
		}
		if c.family != 4 {
			for _, a := range v6s {
				fmt.Fprintf(c.w, "%s    inet6 %s scope %s ", lead, a.Prefix, scopeName(a.Scope))
				if a.NoDAD {
					c.w.WriteString("nodad ")
				}
				c.w.WriteString(nl + "       valid_lft forever preferred_lft forever\n")
			}
		}
	}
	return 0
}

// ---- route ----

var routeTypes = []struct {
	name string
	typ  int
}{{"unicast", host.RTUnicast}, {"local", host.RTLocal}, {"broadcast", host.RTBroadcast}, {"multicast", host.RTMulticast},
	{"blackhole", host.RTBlackhole}, {"unreachable", host.RTUnreachable}, {"prohibit", host.RTProhibit}, {"throw", host.RTThrow}}

func routeTypeName(t int) string {
	for _, r := range routeTypes {
		if r.typ == t {
			return r.name
		}
	}
	return strconv.Itoa(t)
}

func tableName(t int) string {
	switch t {
	case host.TableMain:
		return "main"
	case host.TableLocal:
		return "local"
	case host.TableDefault:
		return "default"
	}
	return strconv.Itoa(t)
}

func parseTable(s string) (int, bool) {
	switch s {
	case "main":
		return host.TableMain, true
	case "local":
		return host.TableLocal, true
	case "default":
		return host.TableDefault, true
	}
	v, err := strconv.ParseUint(s, 0, 32)
	return int(v), err == nil
}

func protoName(p int) string {
	switch p {
	case host.ProtoUnspec:
		return "unspec"
	case host.ProtoRedir:
		return "redirect"
	case host.ProtoKernel:
		return "kernel"
	case host.ProtoBoot:
		return "boot"
	case host.ProtoStatic:
		return "static"
	}
	return strconv.Itoa(p)
}

func parseProto(s string) (int, bool) {
	for p := 0; p <= 4; p++ {
		if protoName(p) == s {
			return p, true
		}
	}
	v, err := strconv.ParseUint(s, 0, 8)
	return int(v), err == nil
}

func (c *ipCtx) route(args []string) int {
	if len(args) == 0 {
		return c.routeShow(nil)
	}
	cmd, args := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return c.routeMod(args, "add")
	case matches(cmd, "replace"):
		return c.routeMod(args, "replace")
	case matches(cmd, "delete"):
		return c.routeMod(args, "del")
	case matches(cmd, "show"), matches(cmd, "list"), matches(cmd, "lst"):
		return c.routeShow(args)
	case matches(cmd, "get"):
		return c.routeGet(args)
	}
	c.errf("Command \"%s\" is unknown, try \"ip route help\".\n", cmd)
	return 255
}

func (c *ipCtx) routeMod(args []string, op string) int {
	r := &host.Route{Type: host.RTUnicast, Proto: host.ProtoBoot}
	typeGiven, tableGiven, scopeGiven, protoGiven, dstGiven := false, false, false, false, false
	var dev string
	family := c.family
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() bool {
			if i+1 >= len(args) {
				return false
			}
			i++
			return true
		}
		switch {
		case a == "via":
			if !next() {
				return c.incomplete()
			}
			v := args[i]
			if v == "inet" || v == "inet6" {
				if !next() {
					return c.incomplete()
				}
				v = args[i]
			}
			p, ok := parsePrefix(v, family)
			if !ok || p.Bits() != p.Addr().BitLen() {
				fam := "inet"
				if family == 6 {
					fam = "inet6"
				}
				c.errf("Error: %s address is expected rather than \"%s\".\n", fam, v)
				return 1
			}
			r.Gw = p.Addr()
			if family == 0 {
				family = famOf(p.Addr())
			}
		case a == "dev" || a == "oif":
			if !next() {
				return c.incomplete()
			}
			dev = args[i]
		case a == "src":
			if !next() {
				return c.incomplete()
			}
			p, ok := parsePrefix(args[i], family)
			if !ok || p.Bits() != p.Addr().BitLen() {
				c.errf("Error: inet address is expected rather than \"%s\".\n", args[i])
				return 1
			}
			r.Src = p.Addr()
		case a == "metric" || a == "priority" || a == "preference":
			if !next() {
				return c.incomplete()
			}
			v, err := strconv.ParseUint(args[i], 0, 32)
			if err != nil {
				return c.invarg("\"metric\" value is invalid", args[i])
			}
			r.Metric = uint32(v)
		case a == "table":
			if !next() {
				return c.incomplete()
			}
			t, ok := parseTable(args[i])
			if !ok {
				return c.invarg("\"table\" value is invalid", args[i])
			}
			r.Table, tableGiven = t, true
		case a == "proto" || a == "protocol":
			if !next() {
				return c.incomplete()
			}
			p, ok := parseProto(args[i])
			if !ok {
				return c.invarg("\"protocol\" value is invalid", args[i])
			}
			r.Proto, protoGiven = p, true
		case a == "scope":
			if !next() {
				return c.incomplete()
			}
			s, ok := parseScope(args[i])
			if !ok {
				return c.invarg("invalid \"scope\" value", args[i])
			}
			r.Scope, scopeGiven = s, true
		default:
			if a == "to" {
				if !next() {
					return c.incomplete()
				}
				a = args[i]
			}
			if !dstGiven && !typeGiven {
				found := false
				for _, t := range routeTypes {
					if a == t.name {
						r.Type, typeGiven, found = t.typ, true, true
					}
				}
				if found {
					continue
				}
			}
			if dstGiven {
				return c.garbage("to", a)
			}
			if a == "default" || a == "all" || a == "any" {
				switch family {
				case 6:
					r.Dst = netip.MustParsePrefix("::/0")
				default:
					r.Dst = netip.MustParsePrefix("0.0.0.0/0")
				}
			} else {
				p, ok := parsePrefix(a, family)
				if !ok {
					c.errf("Error: any valid prefix is expected rather than \"%s\".\n", a)
					return 1
				}
				r.Dst = p.Masked()
				if p.Masked() != p && family != 6 && p.Addr().Is4() {
					c.errf("Error: Invalid prefix for given prefix length.\n")
					return 2
				}
				family = famOf(p.Addr())
			}
			dstGiven = true
		}
	}
	if !dstGiven {
		if op == "del" {
			c.errf("RTNETLINK answers: No such process\n")
			return 2
		}
		c.errf("Error: Invalid prefix for given prefix length.\n")
		return 2
	}
	r.V6 = family == 6
	if r.V6 && r.Dst.Addr().Is4() {
		r.Dst = netip.MustParsePrefix("::/0")
	}
	if r.Gw.IsValid() && r.Gw.Is4() == r.V6 {
		c.errf("Error: Invalid gateway address.\n")
		return 2
	}
	if dev != "" {
		l := c.net.LinkByName(dev)
		if l == nil {
			return c.nodev(dev)
		}
		r.Dev = l.Index
	}
	if !tableGiven {
		r.Table = host.TableMain
		if r.Type == host.RTLocal || r.Type == host.RTBroadcast {
			r.Table = host.TableLocal
		}
	}
	if !scopeGiven {
		switch {
		case r.Type == host.RTLocal:
			r.Scope = host.ScopeHost
		case r.Type == host.RTBroadcast || r.Type == host.RTMulticast:
			r.Scope = host.ScopeLink
		case r.Type == host.RTUnicast && op == "del":
			r.Scope = host.ScopeNowhere
		case r.Type == host.RTUnicast && !r.Gw.IsValid():
			r.Scope = host.ScopeLink
		}
	}
	if r.V6 {
		r.Scope = host.ScopeUniverse
		if r.Metric == 0 && op != "del" {
			r.Metric = 1024
		}
		if r.Type != host.RTUnicast && r.Type != host.RTLocal && r.Type != host.RTMulticast {
			r.Dev = 1
		}
	}
	if op == "del" {
		if !protoGiven {
			r.Proto = 0
		}
		if err := c.net.DelRoute(r, typeGiven); err != nil {
			return c.kernelErr(err)
		}
		c.dirty = true
		return 0
	}
	if r.Type == host.RTUnicast && r.Dev == 0 && !r.Gw.IsValid() {
		c.errf("RTNETLINK answers: No such device\n")
		return 2
	}
	if r.Dev != 0 && r.Type == host.RTUnicast {
		if l := c.net.LinkByIndex(r.Dev); l != nil && !l.Up {
			if r.V6 {
				c.errf("Error: Nexthop device is not up.\n")
			} else {
				c.errf("Error: Device for nexthop is not up.\n")
			}
			return 2
		}
	}
	if err := c.net.AddRoute(r, op == "replace"); err != nil {
		return c.kernelErr(err)
	}
	c.dirty = true
	return 0
}

func famOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

func (c *ipCtx) routeShow(args []string) int {
	table := host.TableMain
	all := false
	var dev string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "table":
			if i+1 >= len(args) {
				return c.incomplete()
			}
			i++
			if args[i] == "all" {
				all = true
				continue
			}
			t, ok := parseTable(args[i])
			if !ok {
				return c.invarg("table id value is invalid", args[i])
			}
			table = t
		case "dev":
			if i+1 >= len(args) {
				return c.incomplete()
			}
			i++
			dev = args[i]
		default:
			return c.garbage("to", a)
		}
	}
	devIdx := 0
	if dev != "" {
		l := c.net.LinkByName(dev)
		if l == nil {
			c.errf("Cannot find device \"%s\"\n", dev)
			return 1
		}
		devIdx = l.Index
	}
	fam := c.family
	if fam == 0 && !all {
		fam = 4
	}
	for _, r := range c.net.SortedRoutes() {
		if fam == 4 && r.V6 || fam == 6 && !r.V6 || !all && r.Table != table || devIdx != 0 && r.Dev != devIdx {
			continue
		}
		c.w.WriteString(c.formatRoute(r, all, false))
		c.w.WriteString("\n")
	}
	return 0
}

// formatRoute is iproute2's print_route for a route of the model.
func (c *ipCtx) formatRoute(r *host.Route, showTable, get bool) string {
	var b strings.Builder
	if r.Type != host.RTUnicast {
		b.WriteString(routeTypeName(r.Type) + " ")
	}
	switch {
	case r.Dst.Bits() == 0:
		b.WriteString("default ")
	case r.Dst.Bits() == r.Dst.Addr().BitLen():
		b.WriteString(r.Dst.Addr().String() + " ")
	default:
		b.WriteString(r.Dst.String() + " ")
	}
	if r.Gw.IsValid() {
		b.WriteString("via " + r.Gw.String() + " ")
	}
	showDev := r.Dev != 0 && (r.V6 || r.Type != host.RTBlackhole && r.Type != host.RTUnreachable && r.Type != host.RTProhibit && r.Type != host.RTThrow)
	if showDev {
		if l := c.net.LinkByIndex(r.Dev); l != nil {
			b.WriteString("dev " + l.Name + " ")
		}
	}
	if showTable && r.Table != host.TableMain {
		b.WriteString("table " + tableName(r.Table) + " ")
	}
	if r.Proto != host.ProtoBoot {
		b.WriteString("proto " + protoName(r.Proto) + " ")
	}
	if r.Scope != host.ScopeUniverse {
		b.WriteString("scope " + scopeName(r.Scope) + " ")
	}
	if r.Src.IsValid() {
		b.WriteString("src " + r.Src.String() + " ")
	}
	if r.V6 || r.Metric != 0 {
		b.WriteString("metric " + strconv.FormatUint(uint64(r.Metric), 10) + " ")
	}
	if r.Dev != 0 && (!r.V6 && r.Scope != host.ScopeHost || r.V6 && r.Type != host.RTLocal) {
		if l := c.net.LinkByIndex(r.Dev); l != nil && !c.net.Carrier(l) {
			b.WriteString("linkdown ")
		}
	}
	if r.V6 {
		b.WriteString("pref medium")
	}
	return b.String()
}

func (c *ipCtx) routeGet(args []string) int {
	var dst, src netip.Addr
	var iif, oif string
	var mark uint32
	family := c.family
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() bool {
			if i+1 >= len(args) {
				return false
			}
			i++
			return true
		}
		switch a {
		case "from", "src":
			if !next() {
				return c.incomplete()
			}
			p, ok := parsePrefix(args[i], family)
			if !ok {
				c.errf("Error: any valid prefix is expected rather than \"%s\".\n", args[i])
				return 1
			}
			src = p.Addr()
		case "iif":
			if !next() {
				return c.incomplete()
			}
			iif = args[i]
		case "oif", "dev":
			if !next() {
				return c.incomplete()
			}
			oif = args[i]
		case "mark":
			if !next() {
				return c.incomplete()
			}
			v, err := strconv.ParseUint(args[i], 0, 32)
			if err != nil {
				return c.invarg("invalid mark value", args[i])
			}
			mark = uint32(v)
		default:
			if a == "to" {
				if !next() {
					return c.incomplete()
				}
				a = args[i]
			}
			p, ok := parsePrefix(a, family)
			if !ok {
				c.errf("Error: any valid prefix is expected rather than \"%s\".\n", a)
				return 1
			}
			dst = p.Addr()
			family = famOf(dst)
		}
	}
	if !dst.IsValid() {
		c.errf("need at least a destination address\n")
		return 1
	}
	for _, d := range []string{iif, oif} {
		if d != "" && c.net.LinkByName(d) == nil {
			return c.nodev(d)
		}
	}
	r, psrc, err := c.net.Lookup(dst, src, iif, oif, mark)
	if err != nil {
		return c.kernelErr(err)
	}
	var b strings.Builder
	custom := c.customRules(family == 6)
	if family == 6 {
		b.WriteString(dst.String() + " ")
		if src.IsValid() {
			b.WriteString("from " + src.String() + " ")
		} else {
			b.WriteString("from :: ")
		}
		if r.Gw.IsValid() {
			b.WriteString("via " + r.Gw.String() + " ")
		}
		dev := r.Dev
		if r.Type == host.RTLocal {
			dev = 1
		}
		if l := c.net.LinkByIndex(dev); l != nil {
			b.WriteString("dev " + l.Name + " ")
		}
		if r.Table != host.TableMain {
			b.WriteString("table " + tableName(r.Table) + " ")
		}
		if r.Proto != host.ProtoBoot {
			b.WriteString("proto " + protoName(r.Proto) + " ")
		}
		if psrc.IsValid() && !src.IsValid() {
			b.WriteString("src " + psrc.String() + " ")
		}
		fmt.Fprintf(&b, "metric %d pref medium\n", r.Metric)
		c.w.WriteString(b.String())
		return 0
	}
	local := r.Type == host.RTLocal
	if local {
		b.WriteString("local ")
	} else if r.Type == host.RTBroadcast {
		b.WriteString("broadcast ")
	}
	b.WriteString(dst.String() + " ")
	if src.IsValid() {
		b.WriteString("from " + src.String() + " ")
	}
	if r.Gw.IsValid() {
		b.WriteString("via " + r.Gw.String() + " ")
	}
	dev := r.Dev
	if local {
		dev = 1
	}
	outLo := false
	if l := c.net.LinkByIndex(dev); l != nil {
		b.WriteString("dev " + l.Name + " ")
		outLo = l.Kind == host.Loopback
	}
	if custom && r.Table != host.TableMain {
		b.WriteString("table " + tableName(r.Table) + " ")
	}
	if psrc.IsValid() && !src.IsValid() {
		b.WriteString("src " + psrc.String() + " ")
	}
	if mark != 0 {
		fmt.Fprintf(&b, "mark %d ", mark)
	}
	b.WriteString("uid 0 \n    cache ")
	if outLo || local {
		b.WriteString("<local> ")
	} else if r.Type == host.RTBroadcast {
		b.WriteString("<local,brd> ")
	}
	b.WriteString("\n")
	c.w.WriteString(b.String())
	return 0
}

// customRules says whether rules other than the three defaults exist (the
// kernel then reports the table of a looked-up route).
func (c *ipCtx) customRules(v6 bool) bool {
	def := map[uint32]int{0: host.TableLocal, 32766: host.TableMain, 32767: host.TableDefault}
	for _, r := range c.net.SortedRules(v6) {
		if t, ok := def[r.Priority]; !ok || t != r.Table || r.From.IsValid() || r.To.IsValid() || r.Iif != "" || r.Oif != "" || r.HasMark || r.Action != 0 {
			return true
		}
	}
	return false
}

// ---- rule ----

func (c *ipCtx) rule(args []string) int {
	if len(args) == 0 {
		return c.ruleShow()
	}
	cmd, args := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return c.ruleMod(args, true)
	case matches(cmd, "delete"):
		return c.ruleMod(args, false)
	case matches(cmd, "show"), matches(cmd, "list"), matches(cmd, "lst"):
		return c.ruleShow()
	}
	c.errf("Command \"%s\" is unknown, try \"ip rule help\".\n", cmd)
	return 255
}

func (c *ipCtx) ruleMod(args []string, add bool) int {
	r := &host.Rule{}
	prioGiven, tableGiven := false, false
	family := c.family
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() bool {
			if i+1 >= len(args) {
				return false
			}
			i++
			return true
		}
		switch {
		case a == "from" || a == "to":
			if !next() {
				return c.incomplete()
			}
			var p netip.Prefix
			if args[i] != "all" {
				var ok bool
				p, ok = parsePrefix(args[i], family)
				if !ok {
					c.errf("Error: any valid prefix is expected rather than \"%s\".\n", args[i])
					return 1
				}
				family = famOf(p.Addr())
				p = p.Masked()
			}
			if a == "from" {
				r.From = p
			} else {
				r.To = p
			}
		case a == "priority" || a == "preference" || a == "order" || a == "pref" || a == "prio":
			if !next() {
				return c.incomplete()
			}
			v, err := strconv.ParseUint(args[i], 0, 32)
			if err != nil {
				return c.invarg("preference value is invalid", args[i])
			}
			r.Priority, prioGiven = uint32(v), true
		case a == "fwmark":
			if !next() {
				return c.incomplete()
			}
			m, mk, hasMask := strings.Cut(args[i], "/")
			v, err := strconv.ParseUint(m, 0, 32)
			if err != nil {
				return c.invarg("fwmark value is invalid", m)
			}
			r.Mark, r.Mask, r.HasMark = uint32(v), 0xffffffff, true
			if hasMask {
				v, err := strconv.ParseUint(mk, 0, 32)
				if err != nil {
					return c.invarg("fwmask value is invalid", mk)
				}
				r.Mask = uint32(v)
			}
		case a == "iif" || a == "dev":
			if !next() {
				return c.incomplete()
			}
			r.Iif = args[i]
		case a == "oif":
			if !next() {
				return c.incomplete()
			}
			r.Oif = args[i]
		case a == "table" || a == "lookup":
			if !next() {
				return c.incomplete()
			}
			t, ok := parseTable(args[i])
			if !ok {
				return c.invarg("invalid table ID", args[i])
			}
			r.Table, tableGiven = t, true
		case a == "blackhole" || a == "unreachable" || a == "prohibit":
			for _, t := range routeTypes {
				if t.name == a {
					r.Action = t.typ
				}
			}
		default:
			return c.garbage("from", a)
		}
	}
	r.V6 = family == 6
	if !add {
		for _, o := range c.net.SortedRules(r.V6) {
			if prioGiven && o.Priority != r.Priority || r.From.IsValid() && o.From != r.From || r.To.IsValid() && o.To != r.To ||
				r.Iif != "" && o.Iif != r.Iif || r.Oif != "" && o.Oif != r.Oif || r.HasMark && (o.Mark != r.Mark || o.Mask != r.Mask) ||
				tableGiven && o.Table != r.Table || r.Action != 0 && o.Action != r.Action {
				continue
			}
			var rs []*host.Rule
			for _, x := range c.net.Rules {
				if x != o {
					rs = append(rs, x)
				}
			}
			c.net.Rules = rs
			c.dirty = true
			return 0
		}
		c.errf("RTNETLINK answers: No such file or directory\n")
		return 2
	}
	if !tableGiven && r.Action == 0 {
		// iprule_modify: a rule without table looks up main
		r.Table = host.TableMain
	}
	if !prioGiven {
		r.Priority = c.net.DefaultRulePriority(r.V6)
	}
	for _, o := range c.net.Rules {
		if o.V6 == r.V6 && *o == *r {
			c.errf("RTNETLINK answers: File exists\n")
			return 2
		}
	}
	// after the rules of equal priority, as the kernel inserts
	c.net.Rules = append(c.net.Rules, r)
	c.dirty = true
	return 0
}

func (c *ipCtx) ruleShow() int {
	for _, r := range c.net.SortedRules(c.family == 6) {
		fmt.Fprintf(c.w, "%d:\t", r.Priority)
		if r.From.IsValid() {
			c.w.WriteString("from " + prefixString(r.From) + " ")
		} else {
			c.w.WriteString("from all ")
		}
		if r.To.IsValid() {
			c.w.WriteString("to " + prefixString(r.To) + " ")
		}
		if r.HasMark {
			fmt.Fprintf(c.w, "fwmark %#x", r.Mark)
			if r.Mask != 0xffffffff {
				fmt.Fprintf(c.w, "/%#x", r.Mask)
			}
			c.w.WriteString(" ")
		}
		if r.Iif != "" {
			c.w.WriteString("iif " + r.Iif + " ")
			if c.net.LinkByName(r.Iif) == nil {
				c.w.WriteString("[detached] ")
			}
		}
		if r.Oif != "" {
			c.w.WriteString("oif " + r.Oif + " ")
			if c.net.LinkByName(r.Oif) == nil {
				c.w.WriteString("[detached] ")
			}
		}
		if r.Action != 0 {
			c.w.WriteString(routeTypeName(r.Action))
		} else {
			c.w.WriteString("lookup " + tableName(r.Table))
		}
		c.w.WriteString("\n")
	}
	return 0
}

func prefixString(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}
