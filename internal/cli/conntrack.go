package cli

import (
	"bytes"
	"fmt"
	"github.com/iptwin/iptwin/xtables"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// iptwin conntrack: the twin host's connection tracking table as
// conntrack-tools 1.4.7 shows and changes it (-L, -G, -D, -F, -C, -V, -h),
// with its options, filters, messages and exit codes. The table is the
// one iptwin trace keeps in the state directory, at the host's clock.
//
// Not modelled: creating and updating entries (-I, -U, -A), events (-E),
// statistics (-S), expectations beyond their (always empty) listing,
// zeroing counters (-z), connlabel names (-l), secmark (-c), directional
// zones, and the output formats other than the default and extended.
func init() { Register("conntrack", runConntrack) }

const ctProg = "conntrack"

// ctPrefix starts every message of conntrack on stderr.
const ctPrefix = "conntrack v1.4.7 (conntrack-tools): "

const ctUsage = `Command line interface for the connection tracking system. Version 1.4.7
Usage: %s [commands] [options]

Commands:
  -L [table] [options]		List conntrack or expectation table
  -G [table] parameters		Get conntrack or expectation
  -D [table] parameters		Delete conntrack or expectation
  -I [table] parameters		Create a conntrack or expectation
  -U [table] parameters		Update a conntrack
  -E [table] [options]		Show events
  -F [table]			Flush table
  -C [table]			Show counter
  -S				Show statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip			source NAT ip
  -g, --dst-nat ip			destination NAT ip
  -j, --any-nat ip			source or destination NAT ip
  -m, --mark mark			Set mark
  -c, --secmark secmark			Set selinux secmark
  -e, --event-mask eventmask		Event mask, eg. NEW,DESTROY
  -z, --zero 				Zero counters while listing
  -o, --output type[,...]		Output format, eg. xml
  -l, --label label[,...]		conntrack labels

Expectation parameters and options:
  --tuple-src ip	Source address in expect tuple
  --tuple-dst ip	Destination address in expect tuple

Updating parameters and options:
  --label-add label	Add label
  --label-del label	Delete label

Common parameters and options:
  -s, --src, --orig-src ip		Source address from original direction
  -d, --dst, --orig-dst ip		Destination address from original direction
  -r, --reply-src ip		Source addres from reply direction
  -q, --reply-dst ip		Destination address from reply direction
  -p, --protonum proto		Layer 4 Protocol, eg. 'tcp'
  -f, --family proto		Layer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout		Set timeout
  -u, --status status		Set status, eg. ASSURED
  -w, --zone value		Set conntrack zone
  --orig-zone value		Set zone for original direction
  --reply-zone value		Set zone for reply direction
  -b, --buffer-size		Netlink socket buffer size
  --mask-src ip			Source mask address
  --mask-dst ip			Destination mask address

`

// Commands (enum ct_command bits of conntrack.h), in the order of the
// option table below.
const (
	ctList = iota
	ctCreate
	ctUpdate
	ctDelete
	ctGet
	ctFlush
	ctEvent
	ctVersion
	ctHelp
	ctExpList
	ctExpCreate
	ctExpDelete
	ctExpGet
	ctExpFlush
	ctExpEvent
	ctCount
	ctExpCount
	ctStats
	ctExpStats
	ctAdd
	ctNoCommand
)

// Options (enum ct_options bits), in the order conntrack checks them.
const (
	ctOptOrigSrc = iota
	ctOptOrigDst
	ctOptReplSrc
	ctOptReplDst
	ctOptProto
	ctOptTimeout
	ctOptStatus
	ctOptZero
	ctOptEventMask
	ctOptExpSrc
	ctOptExpDst
	ctOptMaskSrc
	ctOptMaskDst
	ctOptNATRange
	ctOptMark
	ctOptID
	ctOptFamily
	ctOptSrcNAT
	ctOptDstNAT
	ctOptOutput
	ctOptSecmark
	ctOptBufferSize
	ctOptAnyNAT
	ctOptZone
	ctOptLabel
	ctOptAddLabel
	ctOptDelLabel
	ctOptOrigZone
	ctOptReplZone
	ctNumOpts
)

var ctOptNames = [ctNumOpts]string{
	"src", "dst", "reply-src", "reply-dst", "protonum", "timeout", "status", "zero",
	"event-mask", "tuple-src", "tuple-dst", "mask-src", "mask-dst", "nat-range", "mark",
	"id", "family", "src-nat", "dst-nat", "output", "secmark", "buffer-size", "any-nat",
	"zone", "label", "label-add", "label-del", "orig-zone", "reply-zone",
}

// ctCommandsOptions is commands_v_options: 0 illegal, 1 required, 2
// optional, 3 required in pairs (src and dst, or reply-src and reply-dst).
var ctCommandsOptions = [ctNoCommand + 1][ctNumOpts]uint8{
	/*            s d r q p t u z e [ ] { } a m i f n g o c b j w l < > ( ) */
	ctList:      {2, 2, 2, 2, 2, 0, 2, 2, 0, 0, 0, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 0, 2, 2, 2, 0, 0, 2, 2},
	ctCreate:    {3, 3, 3, 3, 1, 1, 2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 0, 0, 2, 0, 2, 0, 2, 2},
	ctUpdate:    {2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 0, 0},
	ctDelete:    {2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 2, 2, 0, 0, 2, 2},
	ctGet:       {3, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0},
	ctFlush:     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
	ctEvent:     {2, 2, 2, 2, 2, 0, 0, 0, 2, 0, 0, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2},
	ctHelp:      {0, 0, 0, 0, 2},
	ctExpList:   {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2},
	ctExpCreate: {1, 1, 2, 2, 1, 1, 2, 0, 0, 1, 1, 1, 1},
	ctExpDelete: {1, 1, 2, 2, 1},
	ctExpGet:    {1, 1, 2, 2, 1},
	ctExpEvent:  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
	ctAdd:       {3, 3, 3, 3, 1, 1, 2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 0, 0, 2, 0, 2, 0, 2, 2},
}

// ctExitMsg is exit_msg: the summary on stderr (%d is the count).
var ctExitMsg = [ctNoCommand + 1]string{
	ctList: "%d flow entries have been shown.", ctCreate: "%d flow entries have been created.",
	ctUpdate: "%d flow entries have been updated.", ctDelete: "%d flow entries have been deleted.",
	ctGet: "%d flow entries have been shown.", ctEvent: "%d flow events have been shown.",
	ctExpList: "%d expectations have been shown.", ctExpDelete: "%d expectations have been shown.",
	ctAdd: "%d flow entries have been added.",
}

// ctOption is one entry of conntrack's getopt_long table.
type ctOption struct {
	long   string
	hasArg int // 0 none, 1 required, 2 optional
	val    rune
}

var ctOptions = []ctOption{
	{"dump", 2, 'L'}, {"create", 2, 'I'}, {"add", 2, 'A'}, {"delete", 2, 'D'},
	{"update", 2, 'U'}, {"get", 2, 'G'}, {"flush", 2, 'F'}, {"event", 2, 'E'},
	{"counter", 2, 'C'}, {"stats", 0, 'S'}, {"version", 0, 'V'}, {"help", 0, 'h'},
	{"orig-src", 1, 's'}, {"src", 1, 's'}, {"orig-dst", 1, 'd'}, {"dst", 1, 'd'},
	{"reply-src", 1, 'r'}, {"reply-dst", 1, 'q'}, {"protonum", 1, 'p'}, {"timeout", 1, 't'},
	{"status", 1, 'u'}, {"zero", 0, 'z'}, {"event-mask", 1, 'e'}, {"tuple-src", 1, '['},
	{"tuple-dst", 1, ']'}, {"mask-src", 1, '{'}, {"mask-dst", 1, '}'}, {"nat-range", 1, 'a'},
	{"mark", 1, 'm'}, {"secmark", 1, 'c'}, {"id", 2, 'i'}, {"family", 1, 'f'},
	{"src-nat", 2, 'n'}, {"dst-nat", 2, 'g'}, {"output", 1, 'o'}, {"buffer-size", 1, 'b'},
	{"any-nat", 2, 'j'}, {"zone", 1, 'w'}, {"label", 1, 'l'}, {"label-add", 1, '<'},
	{"label-del", 2, '>'}, {"orig-zone", 1, '('}, {"reply-zone", 1, ')'},
}

// ctShort is the getopt string: letter and argument (1 required, 2
// optional).
var ctShort = map[rune]int{
	'L': 2, 'I': 2, 'U': 2, 'D': 2, 'G': 2, 'E': 2, 'F': 2, 'A': 2, 'h': 0, 'V': 0,
	's': 1, 'd': 1, 'r': 1, 'q': 1, 'p': 1, 't': 1, 'u': 1, 'e': 1, 'a': 1, 'z': 0,
	'[': 1, ']': 1, '{': 1, '}': 1, 'm': 1, 'i': 1, 'f': 1, 'o': 1, 'n': 2, 'g': 2,
	'c': 1, 'b': 1, 'C': 2, 'S': 0, 'j': 2, 'w': 1, 'l': 1, '<': 1, '>': 2, '(': 1, ')': 1,
}

// ctCommandOf maps a command letter to the command on the conntrack and
// the expectation table.
var ctCommandOf = map[rune][2]int{
	'L': {ctList, ctExpList}, 'I': {ctCreate, ctExpCreate}, 'D': {ctDelete, ctExpDelete},
	'G': {ctGet, ctExpGet}, 'F': {ctFlush, ctExpFlush}, 'E': {ctEvent, ctExpEvent},
	'V': {ctVersion, ctVersion}, 'h': {ctHelp, ctHelp}, 'C': {ctCount, ctExpCount},
	'S': {ctStats, ctExpStats}, 'U': {ctUpdate, -1}, 'A': {ctAdd, -1},
}

var ctOptOf = map[rune]int{
	's': ctOptOrigSrc, 'd': ctOptOrigDst, 'r': ctOptReplSrc, 'q': ctOptReplDst, '{': ctOptMaskSrc,
	'}': ctOptMaskDst, '[': ctOptExpSrc, ']': ctOptExpDst, 'n': ctOptSrcNAT, 'g': ctOptDstNAT,
	'm': ctOptMark, 'c': ctOptSecmark, 'i': ctOptID, 'j': ctOptAnyNAT, 'w': ctOptZone, 'l': ctOptLabel,
	'<': ctOptAddLabel, '>': ctOptDelLabel, '(': ctOptOrigZone, ')': ctOptReplZone,
}

// Tables a command acts on.
const (
	ctTableConntrack = iota
	ctTableExpect
	ctTableDying
	ctTableUnconfirmed
)

// ctFail is conntrack's exit_error: PARAMETER_PROBLEM (2) adds the hint.
type ctFail struct {
	msg string
	rc  int
}

func ctParamProblem(format string, a ...any) *ctFail {
	return &ctFail{fmt.Sprintf(format, a...), 2}
}

// ctFilter is what a command selects entries by (the template object of
// conntrack plus the kernel's dump filter).
type ctFilter struct {
	family      int // 0, 4 or 6
	src, dst    netip.Prefix
	rsrc, rdst  netip.Addr
	proto       int // -1: any
	mark, mmask uint32
	zone        uint16
	zoneSet     bool
	status      uint32 // bits that must be set
	kstatus     uint32 // the kernel's status filter: (status & kmask) == kval
	kmask       uint32
	l4          ctL4Filter
	// nat: --src-nat, --dst-nat (index 0, 1) with their optional
	// address and port (-1: none); anyNAT: --any-nat.
	nat     [2]bool
	natAddr [2]netip.Addr
	natPort [2]int
	anyNAT  bool
}

// ctL4Filter is what the protocol extensions add; -1 means unset.
type ctL4Filter struct {
	sport, dport, rsport, rdport int
	state                        int
	icmpType, icmpCode, icmpID   int
	flags                        uint32 // which extension options were given
}

// ctProto is a protocol extension of conntrack (libct_proto_*.c).
type ctProto struct {
	name  string
	num   uint8
	help  string
	opts  []ctOption
	check func(flags uint32, cmd int) *ctFail
	parse func(f *ctL4Filter, val rune, arg string) *ctFail
}

// Extension options, their bit in ctL4Filter.flags and their names.
var ctPortOptions = []ctOption{
	{"orig-port-src", 1, '1'}, {"sport", 1, '1'}, {"orig-port-dst", 1, '2'}, {"dport", 1, '2'},
	{"reply-port-src", 1, '3'}, {"reply-port-dst", 1, '4'}, {"mask-port-src", 1, '5'},
	{"mask-port-dst", 1, '6'},
}

var ctPortOptionNames = []string{"sport", "dport", "reply-port-src", "reply-port-dst",
	"mask-port-src", "mask-port-dst", "state", "tuple-port-src", "tuple-port-dst"}

// ctAtoi is the C library's ctAtoi, truncated as the callers store it.
func ctAtoi(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	var v int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + int64(s[i]-'0')
		if v > 1<<40 { // undefined in C; any value that is not a port
			break
		}
	}
	if neg {
		v = -v
	}
	return v
}

// ctParsePorts handles the options of tcp, udp and udplite.
func ctParsePorts(f *ctL4Filter, val rune, arg string) *ctFail {
	p := int(uint16(ctAtoi(arg)))
	switch val {
	case '1':
		f.sport = p
	case '2':
		f.dport = p
	case '3':
		f.rsport = p
	case '4':
		f.rdport = p
	case '7':
		f.state = -1
		for s := uint8(0); s < 10; s++ {
			if conntrack.TCPStateName(s) == arg {
				f.state = int(s)
				break
			}
		}
		if arg == "LISTEN" { // TCP_CONNTRACK_LISTEN, before Linux 2.6.31
			f.state = 9
		} else if f.state < 0 {
			return ctParamProblem("unknown TCP state `%s'", arg)
		}
	case '8', '9':
	}
	f.flags |= 1 << (val - '1')
	return nil
}

// ctCheckPorts is the extensions' final_check for listing and deleting:
// the mask and tuple options belong to other commands; a get needs both
// ports of a direction.
func ctCheckPorts(flags uint32, cmd int) *ctFail {
	for i, name := range ctPortOptionNames {
		if flags&(1<<i) == 0 {
			continue
		}
		if i >= 4 && i != 6 && cmd != ctExpCreate {
			return ctParamProblem("Illegal option `--%s' with this command", name)
		}
	}
	if cmd == ctGet && flags&3 != 3 && flags&12 != 12 {
		return ctParamProblem("you have to specify `--sport' and `--dport'")
	}
	return nil
}

func ctParseICMP(f *ctL4Filter, val rune, arg string) *ctFail {
	switch val {
	case '1':
		f.icmpType = int(uint8(ctAtoi(arg)))
	case '2':
		f.icmpCode = int(uint8(ctAtoi(arg)))
	case '3':
		f.icmpID = int(uint16(ctAtoi(arg)))
	}
	f.flags |= 1 << (val - '1')
	return nil
}

func ctICMPCheck(names [3]string) func(flags uint32, cmd int) *ctFail {
	return func(flags uint32, cmd int) *ctFail {
		if cmd == ctGet {
			for i := 0; i < 2; i++ {
				if flags&(1<<i) == 0 {
					return ctParamProblem("You need to supply the `--%s' option for this command", names[i])
				}
			}
		}
		return nil
	}
}

const ctPortHelp = `  --orig-port-src		original source port
  --orig-port-dst		original destination port
  --reply-port-src		reply source port
  --reply-port-dst		reply destination port
  --mask-port-src		mask source port
  --mask-port-dst		mask destination port
  --tuple-port-src		expectation tuple src port
  --tuple-port-src		expectation tuple dst port
`

// ctNotModelled is the parser of the extension options the twin does
// not model.
func ctNotModelled(name string) func(*ctL4Filter, rune, string) *ctFail {
	return func(f *ctL4Filter, val rune, arg string) *ctFail {
		if val >= '1' && val <= '6' || val == '8' || val == '9' {
			return ctParsePorts(f, val, arg)
		}
		return &ctFail{"the " + name + " options other than ports are not modelled by iptwin", 1}
	}
}

func ctWithPorts(extra ...ctOption) []ctOption {
	return append(append([]ctOption{}, ctPortOptions...), extra...)
}

var ctProtos = []*ctProto{
	{name: "tcp", num: packet.ProtoTCP, parse: ctParsePorts, check: ctCheckPorts,
		help: ctPortHelp + "  --state\t\t\tTCP state, fe. ESTABLISHED\n",
		opts: ctWithPorts(ctOption{"state", 1, '7'}, ctOption{"tuple-port-src", 1, '8'}, ctOption{"tuple-port-dst", 1, '9'})},
	{name: "udp", num: packet.ProtoUDP, parse: ctParsePorts, check: ctCheckPorts, help: ctPortHelp,
		opts: ctWithPorts(ctOption{"tuple-port-src", 1, '8'}, ctOption{"tuple-port-dst", 1, '9'})},
	{name: "udplite", num: 136, parse: ctParsePorts, check: ctCheckPorts, help: ctPortHelp,
		opts: ctWithPorts(ctOption{"tuple-port-src", 1, '8'}, ctOption{"tuple-port-dst", 1, '9'})},
	{name: "sctp", num: 132, parse: ctNotModelled("sctp"), check: ctCheckPorts,
		help: ctPortHelp + "  --state\t\t\tSCTP state, fe. ESTABLISHED\n  --orig-vtag\t\toriginal verification tag\n  --reply-vtag\t\treply verification tag\n",
		opts: ctWithPorts(ctOption{"state", 1, '7'}, ctOption{"tuple-port-src", 1, '8'}, ctOption{"tuple-port-dst", 1, '9'},
			ctOption{"orig-vtag", 1, 'a'}, ctOption{"reply-vtag", 1, 'b'})},
	{name: "dccp", num: 33, parse: ctNotModelled("dccp"), check: ctCheckPorts,
		help: ctPortHelp + "  --state\t\t\tDCCP state, fe. RESPOND\n",
		opts: ctWithPorts(ctOption{"state", 1, '7'}, ctOption{"tuple-port-src", 1, '8'}, ctOption{"tuple-port-dst", 1, '9'},
			ctOption{"role", 1, 'a'})},
	{name: "icmp", num: packet.ProtoICMP, parse: ctParseICMP, check: ctICMPCheck([3]string{"icmp-type", "icmp-code", "icmp-id"}),
		help: "  --icmp-type\t\t\ticmp type\n  --icmp-code\t\t\ticmp code\n  --icmp-id\t\t\ticmp id\n",
		opts: []ctOption{{"icmp-type", 1, '1'}, {"icmp-code", 1, '2'}, {"icmp-id", 1, '3'}}},
	{name: "icmpv6", num: packet.ProtoICMPv6, parse: ctParseICMP, check: ctICMPCheck([3]string{"icmpv6-type", "icmpv6-code", "icmpv6-id"}),
		help: "  --icmpv6-type\t\t\ticmpv6 type\n  --icmpv6-code\t\t\ticmpv6 code\n  --icmpv6-id\t\t\ticmpv6 id\n",
		opts: []ctOption{{"icmpv6-type", 1, '1'}, {"icmpv6-code", 1, '2'}, {"icmpv6-id", 1, '3'}}},
	{name: "gre", num: 47, parse: ctNotModelled("gre"),
		help: "  --orig-key-src\t\toriginal source key\n  --orig-key-dst\t\toriginal destination key\n  --reply-key-src\t\treply source key\n  --reply-key-dst\t\treply destination key\n  --mask-key-src\t\tmask source key\n  --mask-key-dst\t\tmask destination key\n  --tuple-key-src\t\texpectation tuple src key\n  --tuple-key-src\t\texpectation tuple dst key\n",
		opts: []ctOption{{"orig-key-src", 1, 'a'}, {"srckey", 1, 'a'}, {"orig-key-dst", 1, 'a'}, {"dstkey", 1, 'a'},
			{"reply-key-src", 1, 'a'}, {"reply-key-dst", 1, 'a'}, {"mask-key-src", 1, 'a'}, {"mask-key-dst", 1, 'a'},
			{"tuple-key-src", 1, 'a'}, {"tuple-key-dst", 1, 'a'}}},
}

// ctUnknownProto stands for the protocols without an extension.
var ctUnknownProto = &ctProto{name: "unknown", help: "  no options (unsupported)\n"}

// ctCmd is a parsed command line.
type ctCmd struct {
	command  int
	table    int
	options  uint32
	filter   ctFilter
	proto    *ctProto
	extended bool
}

func runConntrack(env *Env, prog string, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(env.Stdout, ctUsage, prog)
		return 0
	}
	cmd, fail := parseConntrack(env, args)
	if fail != nil {
		fmt.Fprintf(env.Stderr, "%s%s\n", ctPrefix, fail.msg)
		if fail.rc == 2 {
			fmt.Fprintf(env.Stderr, "Try `%s -h' or '%s --help' for more information.\n", ctProg, ctProg)
		}
		return fail.rc
	}
	switch cmd.command {
	case ctVersion:
		fmt.Fprintln(env.Stdout, "conntrack v1.4.7 (conntrack-tools)")
		return 0
	case ctHelp, ctNoCommand:
		fmt.Fprintf(env.Stdout, ctUsage, prog)
		if cmd.command == ctHelp && cmd.proto != nil {
			ctProtoHelp(env.Stdout, cmd.proto, cmd.filter.proto)
		}
		return 0
	case ctList, ctDelete, ctGet, ctFlush, ctCount, ctExpList, ctExpCount, ctExpFlush:
	default:
		fmt.Fprintf(env.Stderr, "%s-%s is not modelled by iptwin (only -L, -G, -D, -F, -C, -V and -h are)\n",
			ctPrefix, ctCommandLetter(cmd.command))
		return 1
	}
	d, rc := openState(env, prog)
	if rc != 0 {
		return rc
	}
	defer d.Unlock()
	h, err := stack.Load(d, "twin", 1)
	if err == nil {
		err = stack.LoadRuntime(d, h)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s%v\n", ctPrefix, err)
		return 1
	}
	t := h.Conntrack()
	now := h.Now
	var out bytes.Buffer
	counter := 0
	changed := false
	switch cmd.command {
	case ctList:
		if cmd.table == ctTableConntrack {
			t.Each(now, func(c *conntrack.Conn) bool {
				if c.Status()&xtables.IPSNATClash == 0 && cmd.filter.match(c) {
					cmd.appendEntry(&out, c, now, "use=1")
					counter++
				}
				return true
			})
		}
	case ctGet:
		c := cmd.get(t, now)
		if c == nil {
			fmt.Fprintf(env.Stderr, "%sOperation failed: such conntrack doesn't exist\n", ctPrefix)
			return 1
		}
		// The dump holds a second reference while it prints.
		cmd.appendEntry(&out, c, now, "use=2")
		counter++
	case ctDelete:
		var victims []*conntrack.Conn
		t.Each(now, func(c *conntrack.Conn) bool {
			if c.Status()&xtables.IPSNATClash == 0 && cmd.filter.match(c) {
				victims = append(victims, c)
			}
			return true
		})
		for _, c := range victims {
			cmd.appendEntry(&out, c, now, "use=1")
			t.Kill(c)
			counter++
		}
		changed = counter > 0
	case ctFlush:
		// The kernel flushes every family whatever -f says
		// (measured with conntrack-tools 1.4.7 on Linux 6.x).
		changed = t.Len(now) > 0 || t.Count() > 0
		t.Flush()
	case ctCount:
		fmt.Fprintln(&out, t.Count())
	case ctExpCount:
		fmt.Fprintln(&out, 0)
	}
	if changed {
		if err := stack.SaveConntrack(d, h); err != nil {
			fmt.Fprintf(env.Stderr, "%s%v\n", ctPrefix, err)
			return 1
		}
	}
	env.Stdout.Write(out.Bytes())
	switch cmd.command {
	case ctFlush:
		fmt.Fprintf(env.Stderr, "%sconnection tracking table has been emptied.\n", ctPrefix)
	case ctExpFlush:
		fmt.Fprintf(env.Stderr, "%sexpectation table has been emptied.\n", ctPrefix)
	}
	if msg := ctExitMsg[cmd.command]; msg != "" {
		fmt.Fprintf(env.Stderr, ctPrefix+msg+"\n", counter)
		if counter == 0 && cmd.command != ctList && cmd.command != ctExpList {
			return 1
		}
	}
	return 0
}

func ctCommandLetter(cmd int) string {
	for l, c := range ctCommandOf {
		if c[0] == cmd || c[1] == cmd {
			return string(l)
		}
	}
	return "?"
}

func ctProtoHelp(w io.Writer, p *ctProto, num int) {
	name := p.name
	if p == ctUnknownProto {
		if n := ctProtoName(num); n != "" {
			name = n
		}
	}
	fmt.Fprintf(w, "Proto `%s' help:\n%s", name, p.help)
}

// ctProtoName is the protocol name of the system's protocols file.
func ctProtoName(num int) string {
	if num < 0 || num > 255 {
		return ""
	}
	return names.New(names.System).ProtoName(uint8(num))
}

// appendEntry writes one entry as conntrack prints it.
func (cmd *ctCmd) appendEntry(out *bytes.Buffer, c *conntrack.Conn, now int64, use string) {
	b := out.AvailableBuffer()
	if cmd.extended {
		if c.IsIPv6() {
			b = append(b, "ipv6     10 "...)
		} else {
			b = append(b, "ipv4     2 "...)
		}
	}
	b = c.AppendEntry(b, now)
	if use != "use=1" {
		b = append(bytes.TrimSuffix(b, []byte("use=1")), use...)
	}
	out.Write(append(b, '\n'))
}

// get is ctnetlink_get_conntrack: the entry of the tuple given (the
// original one, or the reply one when only that was), in either
// direction of the table.
func (cmd *ctCmd) get(t *conntrack.Table, now int64) *conntrack.Conn {
	f := &cmd.filter
	tp := conntrack.Tuple{Proto: uint8(f.proto)}
	l4 := &f.l4
	if cmd.options&(1<<ctOptOrigSrc|1<<ctOptOrigDst) == 1<<ctOptOrigSrc|1<<ctOptOrigDst {
		tp.Src, tp.Dst = f.src.Addr(), f.dst.Addr()
		tp.SrcPort, tp.DstPort = uint16(max(l4.sport, 0)), uint16(max(l4.dport, 0))
	} else {
		tp.Src, tp.Dst = f.rsrc, f.rdst
		tp.SrcPort, tp.DstPort = uint16(max(l4.rsport, 0)), uint16(max(l4.rdport, 0))
	}
	if tp.Proto == packet.ProtoICMP || tp.Proto == packet.ProtoICMPv6 {
		tp.SrcPort, tp.DstPort = conntrack.ICMPTuple(uint8(max(l4.icmpType, 0)), uint8(max(l4.icmpCode, 0)), uint16(max(l4.icmpID, 0)))
	} else if !conntrack.HasPorts(tp.Proto) {
		tp.SrcPort, tp.DstPort = 0, 0
	}
	c, _ := t.Find(tp, f.zone, now)
	return c
}

// match is nfct_filter with the kernel's dump filter: every criterion
// given must hold.
func (f *ctFilter) match(c *conntrack.Conn) bool {
	o, r := c.Tuple(conntrack.Original), c.Tuple(conntrack.Reply)
	switch {
	case f.family == 4 && c.IsIPv6(), f.family == 6 && !c.IsIPv6():
		return false
	case f.proto >= 0 && int(c.Proto()) != f.proto:
		return false
	case f.src.IsValid() && !f.src.Contains(o.Src):
		return false
	case f.dst.IsValid() && !f.dst.Contains(o.Dst):
		return false
	case f.rsrc.IsValid() && r.Src != f.rsrc:
		return false
	case f.rdst.IsValid() && r.Dst != f.rdst:
		return false
	case c.Mark()&f.mmask != f.mark:
		return false
	case f.zoneSet && c.Zone() != f.zone:
		return false
	case c.Status()&f.status != f.status, c.Status()&f.kmask != f.kstatus:
		return false
	}
	l := &f.l4
	icmp := c.Proto() == packet.ProtoICMP || c.Proto() == packet.ProtoICMPv6
	switch {
	case l.sport >= 0 && (icmp || int(o.SrcPort) != l.sport),
		l.dport >= 0 && (icmp || int(o.DstPort) != l.dport),
		l.rsport >= 0 && (icmp || int(r.SrcPort) != l.rsport),
		l.rdport >= 0 && (icmp || int(r.DstPort) != l.rdport),
		l.state >= 0 && (c.Proto() != packet.ProtoTCP || int(c.TCPState()) != l.state),
		l.icmpType >= 0 && (!icmp || int(o.DstPort>>8) != l.icmpType),
		l.icmpCode >= 0 && (!icmp || int(o.DstPort&0xff) != l.icmpCode),
		l.icmpID >= 0 && (!icmp || int(o.SrcPort) != l.icmpID):
		return false
	}
	return f.matchNAT(c, o, r)
}

// matchNAT is filter_nat: --src-nat, --dst-nat and --any-nat select
// entries whose source (destination) was mapped, to the address and
// port given if any. As libnetfilter_conntrack, it compares the first 32
// bits of the addresses (IPv4 ones, and the start of IPv6 ones), and only
// an IPv4 address given is compared.
func (f *ctFilter) matchNAT(c *conntrack.Conn, o, r conntrack.Tuple) bool {
	if !f.nat[0] && !f.nat[1] && !f.anyNAT {
		return true
	}
	st := c.Status()
	first := func(a netip.Addr) [4]byte { b := a.As16(); return [4]byte(b[:4]) }
	if !c.IsIPv6() {
		first = func(a netip.Addr) [4]byte { return a.As4() }
	}
	isNAT := [2]bool{
		st&xtables.IPSSrcNATDone != 0 && first(r.Dst) != first(o.Src),
		st&xtables.IPSDstNATDone != 0 && first(r.Src) != first(o.Dst),
	}
	isPAT := [2]bool{
		st&xtables.IPSSrcNATDone != 0 && r.DstPort != o.SrcPort,
		st&xtables.IPSDstNATDone != 0 && r.SrcPort != o.DstPort,
	}
	mapped := [2]netip.Addr{r.Dst, r.Src}
	mappedPort := [2]uint16{r.DstPort, r.SrcPort}
	var has [2]bool
	for i := range has {
		if !f.nat[i] && !f.anyNAT {
			continue
		}
		checkAddr := f.natAddr[i].Is4()
		if checkAddr && isNAT[i] && first(mapped[i]) == f.natAddr[i].As4() {
			has[i] = true
		}
		if f.natPort[i] >= 0 {
			ok := isPAT[i] && int(mappedPort[i]) == f.natPort[i]
			if checkAddr && has[i] && !ok {
				has[i] = false
			}
			if !checkAddr && ok {
				has[i] = true
			}
		}
		if !checkAddr && f.natPort[i] < 0 && (isNAT[i] || isPAT[i]) {
			has[i] = true
		}
	}
	switch {
	case f.anyNAT:
		return has[0] || has[1]
	case f.nat[0] && f.nat[1]:
		return has[0] && has[1]
	case f.nat[0]:
		return has[0]
	}
	return has[1]
}

// ctStrtoul is the C library's ctStrtoul(s, &end, 0) as conntrack uses it
// without checking the end: leading blanks, a sign, 0x and 0 prefixes,
// digits up to the first that is not one, ULONG_MAX on overflow; ok says
// whether any digit was read.
func ctStrtoul(s string) (uint64, bool) {
	v, rest := ctStrtoulEnd(s)
	return v, rest != s
}

// ctStrtoulEnd is ctStrtoul returning what follows the number (all of s
// when there is none).
func ctStrtoulEnd(all string) (uint64, string) {
	s := strings.TrimLeft(all, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && ctHexDigit(s[2]) >= 0:
		base, s = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	var v uint64
	n := 0
	over := false
	for ; n < len(s); n++ {
		d := ctHexDigit(s[n])
		if d < 0 || uint64(d) >= base {
			break
		}
		if v > (^uint64(0)-uint64(d))/base {
			over = true
		}
		v = v*base + uint64(d)
	}
	if n == 0 {
		if base == 8 { // the "0" itself
			return 0, s[1:]
		}
		return 0, all
	}
	if over {
		return ^uint64(0), s[n:]
	}
	if neg {
		v = -v
	}
	return v, s[n:]
}

func ctHexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ctInetAton is inet_aton: one to four parts (a, a.b, a.b.c, a.b.c.d), each
// decimal, octal or hexadecimal, the last filling the remaining bytes.
func ctInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base, digits := uint64(10), p
		switch {
		case len(p) > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
			base, digits = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		var v uint64
		for i := 0; i < len(digits); i++ {
			d := ctHexDigit(digits[i])
			if d < 0 || uint64(d) >= base {
				return netip.Addr{}, false
			}
			v = v*base + uint64(d)
			if v > 0xffffffff {
				return netip.Addr{}, false
			}
		}
		vals = append(vals, v)
	}
	var a uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		a |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last > 0xffffffff>>(8*(len(vals)-1)) {
		return netip.Addr{}, false
	}
	a |= last
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), true
}

// parseCtAddr is parse_inetaddr: inet_aton, then inet_pton for IPv6.
func parseCtAddr(s string) (netip.Addr, bool) {
	if a, ok := ctInetAton(s); ok {
		return a, true
	}
	if strings.Contains(s, ":") {
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func ctFamilyOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// ctParser is do_parse's state.
type ctParser struct {
	args    []string
	i       int // the next argument (optind)
	cmd     *ctCmd
	command int // -1: none yet
	family  int
	masks   [2]netip.Addr // --mask-src, --mask-dst
	l4flags uint32
}

func (p *ctParser) setFamily(f int) *ctFail {
	if p.family == 0 {
		p.family = f
	} else if p.family != f {
		return ctParamProblem("mismatched address family")
	}
	return nil
}

// optionalArg is get_optional_arg: the next word, when the option had no
// attached argument and the word is not an option.
func (p *ctParser) optionalArg(attached bool) (string, bool) {
	if attached {
		return "", false
	}
	if p.i < len(p.args) && (p.args[p.i] == "" || p.args[p.i][0] != '-' && p.args[p.i][0] != '!') {
		p.i++
		return p.args[p.i-1], true
	}
	return "", false
}

// checkType is check_type: the table named after a command.
func (p *ctParser) checkType(attached bool) (int, *ctFail) {
	t, ok := p.optionalArg(attached)
	if !ok {
		return ctTableConntrack, nil
	}
	for i, name := range []string{"expect", "conntrack", "dying", "unconfirmed"} {
		if strings.HasPrefix(name, t) {
			return [...]int{ctTableExpect, ctTableConntrack, ctTableDying, ctTableUnconfirmed}[i], nil
		}
	}
	return 0, ctParamProblem("unknown type `%s'", t)
}

func ctLongName(val rune) string {
	for _, o := range ctOptions {
		if o.val == val {
			return o.long
		}
	}
	return "unknown"
}

func parseConntrack(env *Env, args []string) (*ctCmd, *ctFail) {
	cmd := &ctCmd{filter: ctFilter{proto: -1, natPort: [2]int{-1, -1},
		l4: ctL4Filter{sport: -1, dport: -1, rsport: -1, rdport: -1, state: -1, icmpType: -1, icmpCode: -1, icmpID: -1}}}
	p := &ctParser{args: args, cmd: cmd, command: -1}
	for p.i < len(args) {
		a := args[p.i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			p.i++ // an operand: getopt moves it to the end, conntrack ignores it
			continue
		}
		if a[1] == '-' {
			name, val, hasVal := strings.Cut(a[2:], "=")
			p.i++
			o, ok := p.lookupLong(name)
			if !ok {
				return nil, ctParamProblem("unknown option `%s'", a)
			}
			switch o.hasArg {
			case 0:
				if hasVal {
					return nil, ctParamProblem("unknown option `%s'", a)
				}
			case 1:
				if !hasVal {
					if p.i >= len(args) {
						return nil, ctParamProblem("option `%s' requires an argument", a)
					}
					val = args[p.i]
					p.i++
				}
			}
			if err := p.option(env, o.val, val, hasVal); err != nil {
				return nil, err
			}
			continue
		}
		p.i++
		for j := 1; j < len(a); j++ {
			c := rune(a[j])
			ha, ok := ctShort[c]
			if !ok {
				return nil, ctParamProblem("unknown option `%s'", a)
			}
			arg, attached := "", false
			switch {
			case ha == 1 && j+1 < len(a):
				arg, attached = a[j+1:], true
			case ha == 1:
				if p.i >= len(args) {
					return nil, ctParamProblem("option `%s' requires an argument", a)
				}
				arg = args[p.i]
				p.i++
			case ha == 2 && j+1 < len(a):
				arg, attached = a[j+1:], true
			}
			if err := p.option(env, c, arg, attached); err != nil {
				return nil, err
			}
			if ha != 0 {
				break
			}
		}
	}
	return p.finish()
}

// lookupLong finds a long option by name or unambiguous prefix, among
// conntrack's and those of the protocol given with -p.
func (p *ctParser) lookupLong(name string) (ctOption, bool) {
	all := ctOptions
	if p.cmd.proto != nil {
		for _, o := range p.cmd.proto.opts {
			all = append(all[:len(all):len(all)], ctOption{o.long, o.hasArg, 1000 + o.val})
		}
	}
	var cands []ctOption
	for _, o := range all {
		if o.long == name {
			return o, true
		}
		if strings.HasPrefix(o.long, name) {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return ctOption{}, false
	}
	for _, o := range cands[1:] {
		if o.val != cands[0].val || o.hasArg != cands[0].hasArg {
			return ctOption{}, false // ambiguous: getopt returns '?'
		}
	}
	return cands[0], true
}

// option handles one option as do_parse does.
func (p *ctParser) option(env *Env, c rune, arg string, attached bool) *ctFail {
	cmd := p.cmd
	f := &cmd.filter
	if c >= 1000 {
		return cmd.proto.parse(&f.l4, c-1000, arg)
	}
	if types, ok := ctCommandOf[c]; ok {
		t, err := p.checkType(attached)
		if err != nil {
			return err
		}
		var command int
		switch {
		case c == 'L' && (t == ctTableDying || t == ctTableUnconfirmed):
			command = ctList
		case t == ctTableDying || t == ctTableUnconfirmed:
			return ctParamProblem("Can't do that command with tables `dying' and `unconfirmed'")
		case t == ctTableExpect && types[1] < 0:
			return ctParamProblem("Can't do --%s on expectations", ctLongName(c))
		case t == ctTableExpect:
			command = types[1]
		default:
			command = types[0]
		}
		if p.command >= 0 {
			return ctParamProblem("Invalid commands combination")
		}
		p.command, cmd.table = command, t
		return nil
	}
	if bit, ok := ctOptOf[c]; ok {
		cmd.options |= 1 << bit
	}
	switch c {
	case 's', 'd', 'r', 'q', '{', '}', '[', ']':
		return p.address(c, arg)
	case 'p':
		cmd.options |= 1 << ctOptProto
		proto, num := findCtProto(env, arg)
		if proto == nil {
			return ctParamProblem("`%s' unsupported protocol", arg)
		}
		cmd.proto, f.proto = proto, num
	case 't':
		cmd.options |= 1 << ctOptTimeout
	case 'u':
		cmd.options |= 1 << ctOptStatus
		status, mask, err := ctParseStatus(arg)
		if err != nil {
			return err
		}
		f.status, f.kstatus, f.kmask = status, status, mask
		if mask == 0 {
			f.kmask = status
		}
	case 'e':
		cmd.options |= 1 << ctOptEventMask
		if _, err := ctParseParameter(arg, []string{"ALL", "NEW", "UPDATES", "DESTROY"}); err != nil {
			return err
		}
	case 'o':
		cmd.options |= 1 << ctOptOutput
		set, err := ctParseParameter(arg, []string{"xml", "extended", "timestamp", "id", "ktimestamp", "labels", "userspace", "save"})
		if err != nil {
			return err
		}
		for _, o := range set {
			switch o {
			case "extended":
				cmd.extended = true
			case "userspace":
			default:
				return &ctFail{"-o " + o + " is not modelled by iptwin (only extended is)", 1}
			}
		}
	case 'z':
		cmd.options |= 1 << ctOptZero
	case 'n', 'g', 'j':
		return p.natOption(c, attached)
	case 'w':
		v, _ := ctStrtoul(arg)
		f.zone, f.zoneSet = uint16(v), true
	case '(', ')':
		return &ctFail{"--" + ctLongName(c) + " is not modelled by iptwin (entries have no zone per direction)", 1}
	case 'i':
		// The twin's ids are not the kernel's (a hash of the entry's
		// address): filtering by one is not modelled.
		return &ctFail{"--id is not modelled by iptwin", 1}
	case 'c':
		return &ctFail{"--secmark is not modelled by iptwin", 1}
	case 'l', '<', '>':
		return &ctFail{"connection labels by name are not modelled by iptwin", 1}
	case 'm':
		v, end := ctStrtoulEnd(arg)
		f.mark, f.mmask = uint32(v), ^uint32(0)
		if strings.HasPrefix(end, "/") {
			m, _ := ctStrtoul(end[1:])
			f.mmask = uint32(m)
		}
	case 'a':
		fmt.Fprintf(env.Stderr, "WARNING: ignoring -%c, deprecated option.\n", c)
	case 'f':
		cmd.options |= 1 << ctOptFamily
		switch {
		case strings.HasPrefix(arg, "ipv4"):
			return p.setFamily(4)
		case strings.HasPrefix(arg, "ipv6"):
			return p.setFamily(6)
		}
		return ctParamProblem("`%s' unsupported protocol", arg)
	case 'b':
		cmd.options |= 1 << ctOptBufferSize
	}
	return nil
}

// address is nfct_parse_addr_from_opt: an address, with a prefix length
// for the original source and destination.
func (p *ctParser) address(c rune, arg string) *ctFail {
	s := arg
	if len(s) > 45 { // INET6_ADDRSTRLEN - 1
		s = s[:45]
	}
	bits := -1
	if i := strings.IndexByte(s, '/'); i >= 0 {
		n, err := strconv.ParseInt(s[i+1:], 10, 32)
		bits = int(n)
		if err != nil || n < 0 {
			bits = -2
		}
		s = s[:i]
	}
	a, ok := parseCtAddr(s)
	if !ok {
		return ctParamProblem("Invalid IP address `%s'", arg)
	}
	if err := p.setFamily(ctFamilyOf(a)); err != nil {
		return err
	}
	if bits > a.BitLen() {
		bits = -2
	}
	masked := c == 's' || c == 'd' || c == '[' || c == ']'
	if bits != -1 && !masked {
		return ctParamProblem("CIDR notation unavailable for `--%s'", ctLongName(c))
	}
	if bits == -2 {
		return ctParamProblem("Invalid netmask")
	}
	if bits < 0 {
		bits = a.BitLen()
	}
	f := &p.cmd.filter
	switch c {
	case 's':
		f.src = netip.PrefixFrom(a, bits).Masked()
	case 'd':
		f.dst = netip.PrefixFrom(a, bits).Masked()
	case 'r':
		f.rsrc = a
	case 'q':
		f.rdst = a
	case '{':
		p.masks[0] = a
	case '}':
		p.masks[1] = a
	}
	return nil
}

// natOption is --src-nat, --dst-nat and --any-nat with their optional
// ADDRESS[:PORT] (split_address_and_port).
func (p *ctParser) natOption(c rune, attached bool) *ctFail {
	f := &p.cmd.filter
	switch c {
	case 'n':
		f.nat[0] = true
	case 'g':
		f.nat[1] = true
	case 'j':
		f.anyNAT = true
	}
	arg, ok := p.optionalArg(attached)
	if !ok {
		return nil
	}
	addr, port := arg, ""
	if i := strings.IndexByte(arg, '['); i >= 0 {
		j := strings.IndexByte(arg[i+1:], ']')
		switch {
		case j == 0:
			return ctParamProblem("No IPv6 address specified")
		case j < 0:
			return ctParamProblem("No closing ']' around IPv6 address")
		}
		if k := strings.IndexByte(arg[i+1+j:], ':'); k >= 0 {
			addr, port = arg[i+1:i+1+j], arg[i+1+j+k+1:]
			if port == "" {
				return ctParamProblem("No port specified after `:'")
			}
		}
	} else if i := strings.IndexByte(arg, ':'); i >= 0 && !strings.Contains(arg[i+1:], ":") {
		addr, port = arg[:i], arg[i+1:]
		if port == "" {
			return ctParamProblem("No port specified after `:'")
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || strings.ContainsAny(port, "+- ") {
			return ctParamProblem("Invalid port `%s'", port)
		}
		for i := range f.natPort {
			if c == 'j' || i == map[rune]int{'n': 0, 'g': 1}[c] {
				f.natPort[i] = int(n)
			}
		}
	}
	a, ok := parseCtAddr(addr)
	if !ok {
		return ctParamProblem("Invalid IP address `%s'", addr)
	}
	if err := p.setFamily(ctFamilyOf(a)); err != nil {
		return err
	}
	for i := range f.natAddr {
		if c == 'j' || i == map[rune]int{'n': 0, 'g': 1}[c] {
			f.natAddr[i] = a
		}
	}
	return nil
}

// findCtProto is findproto: an extension by name, a protocol of the
// protocols file, or a number up to 255.
func findCtProto(env *Env, name string) (*ctProto, int) {
	for _, pr := range ctProtos {
		if strings.EqualFold(pr.name, name) {
			return pr, int(pr.num)
		}
	}
	if strings.EqualFold(name, "unknown") {
		return ctUnknownProto, 0
	}
	if n := ctNames(env).ProtoByName(name); n >= 0 {
		return ctExtensionOf(n), n
	}
	if v, rest := ctStrtoulEnd(name); rest == "" && name != "" && v <= 255 {
		return ctExtensionOf(int(v)), int(v)
	}
	return nil, 0
}

func ctExtensionOf(num int) *ctProto {
	for _, pr := range ctProtos {
		if int(pr.num) == num {
			return pr
		}
	}
	return ctUnknownProto
}

// ctNames resolves protocol names from the state directory's protocols
// file when it has one, else the system's.
func ctNames(env *Env) *names.DB {
	f := names.System
	if env.StatePath != "" {
		if p := filepath.Join(env.StatePath, "protocols"); ctFileExists(p) {
			f.Protocols = p
		}
	}
	return names.New(f)
}

func ctFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ctParseStatus is parse_parameter_mask for -u: the bits to be set, and
// the mask of the kernel's filter (the bits negated with !, and
// SEEN_REPLY for UNREPLIED).
func ctParseStatus(arg string) (status, mask uint32, fail *ctFail) {
	names := []string{"ASSURED", "SEEN_REPLY", "UNSET", "FIXED_TIMEOUT", "EXPECTED", "OFFLOAD", "HW_OFFLOAD"}
	bits := []uint32{xtables.IPSAssured, xtables.IPSSeenReply, 0, xtables.IPSFixedTimeout,
		xtables.IPSExpected, xtables.IPSOffload, xtables.IPSHWOffload}
	parts := strings.Split(arg, ",")
	for i, part := range parts {
		rest := strings.Join(parts[i:], ",")
		neg := strings.HasPrefix(part, "!")
		if neg {
			part = part[1:]
		}
		if part == "" && (i < len(parts)-1 || neg) && i < len(parts)-1 {
			return 0, 0, ctParamProblem("Bad parameter `%s'", rest)
		}
		if !neg && strings.HasPrefix(part, "UNREPLIED") {
			mask |= xtables.IPSSeenReply
			continue
		}
		v, ok := ctStatusWord(part, names, bits)
		if !ok {
			return 0, 0, ctParamProblem("Bad parameter `%s'", strings.TrimPrefix(rest, "!"))
		}
		if neg {
			mask |= v
		} else {
			status |= v
		}
	}
	return status, mask, nil
}

// ctStatusWord is do_parse_parameter: a case-insensitive prefix of a name
// (SRC_NAT and DST_NAT are ignored with a warning in conntrack; the twin
// ignores them silently).
func ctStatusWord(w string, names []string, bits []uint32) (uint32, bool) {
	if w == "" {
		return 0, false
	}
	for _, n := range []string{"SRC_NAT", "DST_NAT"} {
		if len(w) <= len(n) && strings.EqualFold(w, n[:len(w)]) {
			return 0, true
		}
	}
	for i, n := range names {
		if len(w) <= len(n) && strings.EqualFold(w, n[:len(w)]) {
			return bits[i], true
		}
	}
	return 0, false
}

// ctParseParameter is parse_parameter: a comma list of names (or their
// prefixes); it returns the full names.
func ctParseParameter(arg string, names []string) ([]string, *ctFail) {
	var out []string
	parts := strings.Split(arg, ",")
	for i, part := range parts {
		rest := strings.Join(parts[i:], ",")
		found := ""
		for _, n := range names {
			if part != "" && len(part) <= len(n) && strings.EqualFold(part, n[:len(part)]) {
				found = n
				break
			}
		}
		if found == "" {
			return nil, ctParamProblem("Bad parameter `%s'", rest)
		}
		out = append(out, found)
	}
	return out, nil
}

// finish is the end of do_parse and the checks of do_command.
func (p *ctParser) finish() (*ctCmd, *ctFail) {
	cmd := p.cmd
	if p.command < 0 {
		if cmd.options == 0 && cmd.proto == nil {
			cmd.command = ctNoCommand
			return cmd, nil
		}
		p.command = ctNoCommand
	}
	cmd.command = p.command
	cmd.filter.family = p.family
	if cmd.filter.anyNAT && (cmd.filter.nat[0] || cmd.filter.nat[1]) {
		return nil, ctParamProblem("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'")
	}
	row := ctCommandsOptions[cmd.command]
	special := false
	for i := 0; i < ctNumOpts; i++ {
		set := cmd.options&(1<<i) != 0
		switch {
		case !set && row[i] == 1:
			return nil, ctParamProblem("You need to supply the `--%s' option for this command", ctOptNames[i])
		case set && row[i] == 0:
			return nil, ctParamProblem("Illegal option `--%s' with this command", ctOptNames[i])
		}
		if row[i] == 3 {
			special = true
		}
	}
	if special {
		orig := cmd.options & (1<<ctOptOrigSrc | 1<<ctOptOrigDst)
		repl := cmd.options & (1<<ctOptReplSrc | 1<<ctOptReplDst)
		if orig != 1<<ctOptOrigSrc|1<<ctOptOrigDst && repl != 1<<ctOptReplSrc|1<<ctOptReplDst {
			if orig == 0 && repl != 0 {
				return nil, ctParamProblem("you have to specify `--reply-src' and `--reply-dst'")
			}
			return nil, ctParamProblem("you have to specify `--src' and `--dst'")
		}
	}
	if cmd.command != ctHelp && cmd.proto != nil && cmd.proto.check != nil {
		if err := cmd.proto.check(cmd.filter.l4.flags, cmd.command); err != nil {
			return nil, err
		}
	}
	comparison := uint32(1<<ctOptProto | 1<<ctOptOrigSrc | 1<<ctOptOrigDst | 1<<ctOptReplSrc | 1<<ctOptReplDst |
		1<<ctOptMark | 1<<ctOptSecmark | 1<<ctOptStatus | 1<<ctOptID | 1<<ctOptZone | 1<<ctOptLabel | 1<<ctOptOrigZone | 1<<ctOptReplZone)
	if cmd.command == ctList && cmd.table == ctTableConntrack {
		if cmd.options&comparison != 0 && cmd.options&(1<<ctOptZero) != 0 {
			return nil, ctParamProblem("Can't use -z with filtering parameters")
		}
		if cmd.options&(1<<ctOptZero) != 0 {
			return nil, &ctFail{"-z (zeroing the counters) is not modelled by iptwin", 1}
		}
	}
	// nfct_filter_init: --mask-src/--mask-dst narrow --src/--dst.
	f := &cmd.filter
	for i, m := range p.masks {
		if !m.IsValid() {
			continue
		}
		pf := [2]*netip.Prefix{&f.src, &f.dst}[i]
		if !pf.IsValid() {
			return nil, ctParamProblem("Can't use --mask-%s without --%s", [2]string{"src", "dst"}[i], [2]string{"src", "dst"}[i])
		}
		bits := ctMaskBits(m)
		if bits < 0 {
			return nil, &ctFail{"a --mask-" + [2]string{"src", "dst"}[i] + " that is not a prefix is not modelled by iptwin", 1}
		}
		*pf = netip.PrefixFrom(pf.Addr(), bits).Masked()
	}
	return cmd, nil
}

// ctMaskBits is the prefix length of a netmask, -1 when it is not one.
func ctMaskBits(m netip.Addr) int {
	b := m.AsSlice()
	n := 0
	for i, x := range b {
		if x == 0xff {
			n += 8
			continue
		}
		ones := 0
		for x&0x80 != 0 {
			x <<= 1
			ones++
		}
		if x != 0 {
			return -1
		}
		for _, y := range b[i+1:] {
			if y != 0 {
				return -1
			}
		}
		return n + ones
	}
	return n
}
