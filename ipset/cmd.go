package ipset

import (
	"bufio"
	"bytes"
	"io"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/xtables"
)

// Version is the ipset release the command line speaks like.
const Version = "7.17"

// Host is the ipset state of a twin host.
type Host struct {
	Sets  []*Set
	Names xtables.Resolver
	// Now is the clock (Unix seconds), for element timeouts.
	Now func() int64
	// RuleRefs counts the rules referring to a set (iptables' set match
	// and SET target); nil when there are none.
	RuleRefs func(name string) int
	// Rand gives hash initvals.
	Rand func() uint32
}

// NewHost returns an empty host.
func NewHost() *Host {
	return &Host{
		Now:  func() int64 { return time.Now().Unix() },
		Rand: rand.Uint32,
	}
}

// Set returns the named set or nil.
func (h *Host) Set(name string) *Set {
	for _, s := range h.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (h *Host) refs(s *Set) int {
	n := 0
	if h.RuleRefs != nil {
		n += h.RuleRefs(s.Name)
	}
	for _, o := range h.Sets {
		if o.Type.kind == kindList {
			for _, e := range o.Entries {
				if e.Comps[0].Name == s.Name {
					n++
				}
			}
		}
	}
	return n
}

// env are the environment options of one command.
type env struct {
	exist, quiet, sorted, names, terse, resolve bool
	output                                      string
	file                                        string
}

type runner struct {
	h       *Host
	out     io.Writer
	errw    io.Writer
	line    int // restore line, 0 outside restore
	changed bool
	stdin   io.Reader
}

// Run executes one ipset command line (without the program name). It
// returns the exit status and whether the host changed.
func (h *Host) Run(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, bool) {
	r := &runner{h: h, out: stdout, errw: stderr, stdin: stdin}
	code := r.run(args)
	return code, r.changed
}

// report prints an error as default_custom_error does and returns the
// exit status.
func (r *runner) report(e *Error, ev *env) int {
	if ev != nil && ev.quiet && r.line == 0 {
		return e.Code
	}
	var b strings.Builder
	b.WriteString("ipset v" + Version + ": ")
	if r.line > 0 && e.Code != 2 && !e.noLine {
		b.WriteString("Error in line " + strconv.Itoa(r.line) + ": ")
	}
	b.WriteString(e.Msg + "\n")
	if e.Code == 2 {
		b.WriteString("Try `ipset help' for more information.\n")
	}
	io.WriteString(r.errw, b.String())
	return e.Code
}

var envopts = []struct {
	names [2]string
	arg   bool
}{
	{[2]string{"-o", "-output"}, true},
	{[2]string{"-s", "-sorted"}, false},
	{[2]string{"-q", "-quiet"}, false},
	{[2]string{"-r", "-resolve"}, false},
	{[2]string{"-!", "-exist"}, false},
	{[2]string{"-n", "-name"}, false},
	{[2]string{"-t", "-terse"}, false},
	{[2]string{"-f", "-file"}, true},
}

var commandTable = []struct {
	cmd   string
	names [3]string
	arg   int // 0 none, 1 optional, 2 two mandatory
}{
	{"create", [3]string{"create", "new", "-N"}, 2},
	{"add", [3]string{"add", "-A"}, 2},
	{"del", [3]string{"del", "-D"}, 2},
	{"test", [3]string{"test", "-T"}, 2},
	{"destroy", [3]string{"destroy", "x", "-X"}, 1},
	{"list", [3]string{"list", "-L"}, 1},
	{"save", [3]string{"save", "-S"}, 1},
	{"restore", [3]string{"restore", "-R"}, 0},
	{"flush", [3]string{"flush", "-F"}, 1},
	{"rename", [3]string{"rename", "e", "-E"}, 2},
	{"swap", [3]string{"swap", "w", "-W"}, 2},
	{"help", [3]string{"help", "-h", "-H"}, 1},
	{"version", [3]string{"version", "-v", "-V"}, 0},
	{"quit", [3]string{"quit"}, 0},
}

// matchCmd is ipset_match_cmd: a prefix of a command name, two leading
// dashes ignored.
func matchCmd(arg string, names [3]string) bool {
	skip := 0
	if strings.HasPrefix(arg, "--") {
		skip = 2
	}
	if len(arg) <= skip || arg == "-" {
		return false
	}
	for _, n := range names {
		if n != "" && strings.HasPrefix(n, arg[skip:]) {
			return true
		}
	}
	return false
}

func matchEnvopt(arg string, names [2]string) bool {
	if strings.HasPrefix(arg, "--") {
		arg = arg[1:]
	}
	return arg == names[0] || arg == names[1]
}

// matchOption is ipset_match_option: two leading dashes ignored.
func matchOption(arg, name string) bool {
	return strings.TrimPrefix(arg, "--") == name
}

func (r *runner) run(args []string) int {
	ev := &env{}
	argv := append([]string{"ipset"}, args...)
	for _, o := range envopts {
		for i := 1; i < len(argv); {
			if !matchEnvopt(argv[i], o.names) {
				i++
				continue
			}
			argv = append(argv[:i], argv[i+1:]...)
			if o.arg {
				if i >= len(argv) {
					return r.report(paramErr("Missing mandatory argument to option %s", o.names[0]), ev)
				}
				val := argv[i]
				argv = append(argv[:i], argv[i+1:]...)
				switch o.names[0] {
				case "-o":
					if val != "plain" && val != "save" && val != "xml" {
						return r.report(errf("Syntax error: unknown output mode '%s'", val), ev)
					}
					ev.output = val
				case "-f":
					if ev.file != "" {
						return r.report(paramErr("-file option cannot be used when full io is activated"), ev)
					}
					ev.file = val
				}
				continue
			}
			switch o.names[0] {
			case "-s":
				ev.sorted = true
			case "-q":
				ev.quiet = true
			case "-r":
				ev.resolve = true
			case "-!":
				ev.exist = true
			case "-n":
				ev.names = true
			case "-t":
				ev.terse = true
			}
		}
	}
	cmd := ""
	var arg0, arg1 string
	has0 := false
	if len(argv) > 1 {
		for _, c := range commandTable {
			if !matchCmd(argv[1], c.names) {
				continue
			}
			if r.line > 0 && (c.cmd == "restore" || c.cmd == "version" || c.cmd == "help") {
				return r.report(paramErr("Command `%s' is invalid in restore mode.", c.names[0]), ev)
			}
			argv = append(argv[:1], argv[2:]...)
			cmd = c.cmd
			if c.arg == 2 && len(argv) < 2 {
				return r.report(paramErr("Missing mandatory argument to command %s", c.names[0]), ev)
			}
			if c.arg >= 1 && len(argv) >= 2 {
				arg0, has0 = argv[1], true
				argv = append(argv[:1], argv[2:]...)
			}
			if c.arg == 2 {
				if len(argv) < 2 {
					return r.report(paramErr("Missing second mandatory argument to command %s", c.names[0]), ev)
				}
				arg1 = argv[1]
				argv = append(argv[:1], argv[2:]...)
			}
			break
		}
	}
	rest := argv[1:]
	var err *Error
	switch cmd {
	case "":
		if len(rest) > 0 {
			return r.report(paramErr("No command specified: unknown argument %s", rest[0]), ev)
		}
		return r.report(paramErr("No command specified."), ev)
	case "version":
		io.WriteString(r.out, "ipset v"+Version+", protocol version: 7\n")
		return 0
	case "quit":
		return 0
	case "help":
		io.WriteString(r.out, helpText)
		return 0
	case "create":
		err = r.create(arg0, arg1, rest, ev)
	case "add", "del", "test":
		return r.adt(cmd, arg0, arg1, rest, ev)
	case "list", "save":
		if len(rest) > 0 {
			return r.report(paramErr("Unknown argument %s", rest[0]), ev)
		}
		err = r.list(cmd, arg0, has0, ev)
	case "destroy", "flush":
		if len(rest) > 0 {
			return r.report(paramErr("Unknown argument %s", rest[0]), ev)
		}
		err = r.destroyFlush(cmd, arg0, has0)
	case "rename", "swap":
		if len(rest) > 0 {
			return r.report(paramErr("Unknown argument %s", rest[0]), ev)
		}
		err = r.renameSwap(cmd, arg0, arg1)
	case "restore":
		if len(rest) > 0 {
			return r.report(paramErr("Unknown argument %s", rest[0]), ev)
		}
		return r.restore(ev)
	}
	if err != nil {
		return r.report(err, ev)
	}
	return 0
}

func checkSetname(s string) *Error {
	if len(s) > 31 {
		return syntaxErr("setname '%s' is longer than %d characters", s, 31)
	}
	return nil
}

// parseNum is ipset's string_to_number: base 0 (strtoull), within
// min..max.
func parseNum(s string, min, max uint64) (uint64, *Error) {
	v, rest, ok := xtables.StrToUint(s, 0, 0)
	if rest != "" || (!ok && rest == s) || s == "" {
		return 0, syntaxErr("'%s' is invalid as number", s)
	}
	if !ok || v < min || v > max {
		return 0, syntaxErr("'%s' is out of range %d-%d", s, min, max)
	}
	return v, nil
}

// createOpts are the create options each kind of type takes.
func createOpts(t *Type) []string {
	switch t.kind {
	case kindHash:
		o := []string{"family", "hashsize", "maxelem", "bucketsize", "initval", "timeout", "counters", "comment", "forceadd", "skbinfo"}
		if t.netmask {
			o = append(o, "netmask")
		}
		return o
	case kindBitmap:
		o := []string{"range", "timeout", "counters", "comment", "skbinfo"}
		if t.netmask {
			o = append(o, "netmask")
		}
		return o
	}
	return []string{"size", "timeout", "counters", "comment", "skbinfo"}
}

func hasOpt(list []string, name string) bool {
	for _, o := range list {
		if o == name {
			return true
		}
	}
	return false
}

var flagOpts = map[string]bool{"counters": true, "comment": true, "forceadd": true, "skbinfo": true, "nomatch": true}

func (r *runner) create(name, typ string, args []string, ev *env) *Error {
	if err := checkSetname(name); err != nil {
		return err
	}
	if len(typ) > 31 {
		return syntaxErr("typename '%s' is longer than %d characters", typ, 31)
	}
	t := findType(typ)
	if t == nil {
		return syntaxErr("typename '%s' is unknown", typ)
	}
	s := &Set{Name: name, Type: t, HashSize: 1024, MaxElem: 65536, BucketSize: 12, Size: 8}
	switch {
	case t.dual:
		s.Family = FamilyInet
	case t.kind == kindBitmap && t.Name != "bitmap:port":
		s.Family = FamilyInet
	}
	allowed := createOpts(t)
	// First pass: the family, which the other options depend on.
	for i := 0; i < len(args); i++ {
		if !hasOpt(allowed, strings.TrimPrefix(args[i], "--")) {
			continue
		}
		o := strings.TrimPrefix(args[i], "--")
		if flagOpts[o] {
			continue
		}
		if i+1 >= len(args) {
			return paramErr("Missing mandatory argument of option `%s'", o)
		}
		if o == "family" {
			switch args[i+1] {
			case "inet", "ipv4":
				s.Family = FamilyInet
			case "inet6", "ipv6":
				s.Family = FamilyInet6
			default:
				return syntaxErr("unknown inet family %s", args[i+1])
			}
		}
		i++
	}
	seen := map[string]bool{}
	hasRange := false
	for i := 0; i < len(args); i++ {
		o := strings.TrimPrefix(args[i], "--")
		if !hasOpt(allowed, o) {
			return paramErr("Unknown argument: `%s'", args[i])
		}
		if seen[o] && !flagOpts[o] && o != "family" {
			return syntaxErr("%s already specified", o)
		}
		seen[o] = true
		if flagOpts[o] {
			switch o {
			case "counters":
				s.Counters = true
			case "comment":
				s.Comment = true
			case "forceadd":
				s.ForceAdd = true
			case "skbinfo":
				s.SkbInfo = true
			}
			continue
		}
		if i+1 >= len(args) {
			return paramErr("Missing mandatory argument of option `%s'", o)
		}
		i++
		v := args[i]
		var err *Error
		var n uint64
		switch o {
		case "family":
		case "hashsize":
			n, err = parseNum(v, 0, 0xffffffff)
			s.HashSize = uint32(n)
		case "maxelem":
			n, err = parseNum(v, 0, 0xffffffff)
			s.MaxElem = uint32(n)
		case "bucketsize":
			n, err = parseNum(v, 0, 255)
			s.BucketSize = uint32(n)
		case "initval":
			n, err = parseNum(v, 0, 0xffffffff)
			s.Initval = uint32(n)
			seen["initval-set"] = true
		case "timeout":
			n, err = parseNum(v, 0, 2147483)
			s.Timeout, s.HasTimeout = uint32(n), true
		case "size":
			n, err = parseNum(v, 0, 0xffffffff)
			s.Size = uint32(n)
		case "netmask":
			max := uint64(32)
			if s.Family == FamilyInet6 {
				max = 128
			}
			n, err = parseNum(v, 1, max)
			if err != nil {
				err.Msg += "\nSyntax error: netmask is out of the inclusive range of 1-" + strconv.FormatUint(max, 10)
			}
			s.Netmask = int(n)
		case "range":
			err = s.parseRange(v, r.h.Names)
			hasRange = true
		}
		if err != nil {
			return err
		}
	}
	if t.kind == kindBitmap && !hasRange {
		return paramErr("Mandatory option `range' is missing")
	}
	// Kernel side: the type's limits and normalisations.
	switch t.kind {
	case kindHash:
		if s.HashSize < 64 {
			s.HashSize = 64
		}
		p := uint32(64)
		for p < s.HashSize && p < 1<<31 {
			p <<= 1
		}
		s.HashSize = p
		if s.BucketSize < 2 {
			s.BucketSize = 2
		}
		if s.BucketSize&1 != 0 {
			s.BucketSize++
		}
		if s.BucketSize > 64 {
			s.BucketSize = 64
		}
		if !seen["initval-set"] && r.h.Rand != nil {
			s.Initval = r.h.Rand()
		}
	case kindBitmap:
		if s.Type.Name != "bitmap:port" && s.bitmapElems() > 65536 {
			return errf("The range you specified exceeds the size limit of the set type")
		}
	case kindList:
		if s.Size < 4 {
			s.Size = 4
		}
	}
	if old := r.h.Set(name); old != nil {
		if ev.exist && old.Type == s.Type && old.header() == s.header() {
			return nil
		}
		if ev.exist && old.Type == s.Type && old.Type.kind == kindHash {
			cp := *s
			cp.Initval = old.Initval
			if cp.header() == old.header() {
				return nil
			}
		}
		return errExistCreate
	}
	r.h.Sets = append(r.h.Sets, s)
	r.changed = true
	return nil
}

// parseRange reads the range of a bitmap set.
func (s *Set) parseRange(v string, names xtables.Resolver) *Error {
	if s.Type.Name == "bitmap:port" {
		sp, err := parsePortSpan(v, FamilyInet, names, false)
		if err != nil {
			return err
		}
		s.PortFrom, s.PortTo = sp.pfrom, sp.pto
		return nil
	}
	sp, err := parseIPSpan(v, FamilyInet, names)
	if err != nil {
		return err
	}
	from, to := v4(sp.from), v4(sp.to)
	if sp.cidr >= 0 {
		m := maskOf(sp.cidr)
		from, to = from&m, from|^m
	} else if !sp.isRange {
		return errf("IP/CIDR or IP-IP range must be specified: %s", v)
	}
	if from > to {
		from, to = to, from
	}
	s.RangeFrom, s.RangeTo = fromV4(from), fromV4(to)
	return nil
}

// adtOpts are the options add, del and test take for a type.
func adtOpts(s *Set, cmd string) []string {
	var o []string
	if cmd == "add" {
		o = []string{"timeout", "packets", "bytes", "comment", "skbmark", "skbprio", "skbqueue"}
	}
	if cmd != "test" || s.Type.kind == kindList {
		if s.Type.kind == kindList {
			o = append(o, "before", "after")
		}
	}
	if s.Type.kind == kindList && cmd == "test" {
		o = []string{"before", "after"}
	}
	for _, k := range s.Type.comps {
		if k == compNet && s.Type.kind == kindHash {
			o = append(o, "nomatch")
			break
		}
	}
	return o
}

func (r *runner) adt(cmd, name, elem string, args []string, ev *env) int {
	if err := checkSetname(name); err != nil {
		return r.report(err, ev)
	}
	s := r.h.Set(name)
	if s == nil {
		return r.report(errNoSet, ev)
	}
	comps, err := s.parseElems(cmd, elem, r.h.Names, r.h.Set)
	if err != nil {
		return r.report(err, ev)
	}
	e := &Entry{}
	allowed := adtOpts(s, cmd)
	var timeout *uint32
	var before, after string
	hasPackets, hasBytes := false, false
	for i := 0; i < len(args); i++ {
		o := strings.TrimPrefix(args[i], "--")
		if !hasOpt(allowed, o) {
			return r.report(paramErr("Unknown argument: `%s'", args[i]), ev)
		}
		if o == "nomatch" {
			e.NoMatch = true
			continue
		}
		if i+1 >= len(args) {
			return r.report(paramErr("Missing mandatory argument of option `%s'", o), ev)
		}
		i++
		v := args[i]
		var perr *Error
		var n uint64
		switch o {
		case "timeout":
			n, perr = parseNum(v, 0, 2147483)
			t := uint32(n)
			timeout = &t
		case "packets":
			n, perr = parseNum(v, 0, 1<<64-1)
			e.Packets, hasPackets = n, true
		case "bytes":
			n, perr = parseNum(v, 0, 1<<64-1)
			e.Bytes, hasBytes = n, true
		case "comment":
			if strings.Contains(v, "\"") {
				perr = syntaxErr("\" character is not permitted in comments")
			} else if len(v) > 255 {
				perr = syntaxErr("Comment is longer than the maximum allowed %d characters", 255)
			}
			e.Comment = v
		case "skbmark":
			perr = parseSkbmark(e, v)
		case "skbprio":
			perr = parseSkbprio(e, v)
		case "skbqueue":
			n, perr = parseNum(v, 0, 65535)
			e.SkbQueue, e.hasQueue = uint16(n), true
		case "before":
			before = v
		case "after":
			after = v
		}
		if perr != nil {
			return r.report(perr, ev)
		}
	}
	// Kernel checks of the extensions.
	switch {
	case timeout != nil && !s.HasTimeout:
		return r.report(errTimeout, ev)
	case (hasPackets || hasBytes) && !s.Counters:
		return r.report(errCounter, ev)
	case e.Comment != "" && !s.Comment:
		return r.report(errComment, ev)
	case (e.hasMark || e.hasPrio || e.hasQueue) && !s.SkbInfo:
		return r.report(errSkbinfo, ev)
	}
	now := r.h.Now()
	if s.HasTimeout {
		t := s.Timeout
		if timeout != nil {
			t = *timeout
		}
		if t > 0 {
			e.Expires = now + int64(t)
		}
	}
	r.expire(now)
	if s.Type.kind == kindList {
		return r.listADT(cmd, s, comps[0][0].Name, e, before, after, ev)
	}
	for _, c := range comps {
		if !s.inRange(c) {
			return r.report(errRange, ev)
		}
		if s.Type.kind == kindHash && isNull(s, c) {
			return r.report(errHashElem, ev)
		}
	}
	switch cmd {
	case "test":
		c := comps[0]
		shown := s.entryKey(c)
		if found := s.lookup(c); found != nil && !found.NoMatch {
			if !ev.quiet {
				io.WriteString(r.errw, "Warning: "+shown+" is in set "+s.Name+".\n")
			}
			return 0
		}
		if !ev.quiet {
			io.WriteString(r.errw, shown+" is NOT in set "+s.Name+".\n")
		}
		return 1
	case "add":
		for _, c := range comps {
			ne := *e
			ne.Comps = c
			ne.key = s.entryKey(c)
			if i := s.find(ne.key); i >= 0 {
				if !ev.exist {
					return r.report(errExistAdd, ev)
				}
				old := s.Entries[i]
				if !hasPackets && !hasBytes {
					ne.Packets, ne.Bytes = old.Packets, old.Bytes
				}
				s.Entries[i] = &ne
				r.changed = true
				continue
			}
			if s.Type.kind == kindHash && uint32(len(s.Entries)) >= s.MaxElem {
				if s.ForceAdd && len(s.Entries) > 0 {
					s.Entries = s.Entries[1:]
				} else {
					return r.report(errHashFull, ev)
				}
			}
			s.Entries = append(s.Entries, &ne)
			r.changed = true
		}
	case "del":
		for _, c := range comps {
			i := s.find(s.entryKey(c))
			if i < 0 {
				if !ev.exist {
					return r.report(errExistDel, ev)
				}
				continue
			}
			s.Entries = append(s.Entries[:i], s.Entries[i+1:]...)
			r.changed = true
		}
	}
	return 0
}

// isNull: a hash cannot store an all-zero element.
func isNull(s *Set, c []Comp) bool {
	for i, k := range s.Type.comps {
		switch k {
		case compIP:
			if !c[i].Addr.IsUnspecified() {
				return false
			}
		case compNet:
			return false
		default:
			if k == compMAC && c[i].MAC != [6]byte{} {
				return false
			}
			if k != compMAC {
				return false
			}
		}
	}
	return true
}

func parseSkbmark(e *Entry, v string) *Error {
	bad := syntaxErr("Invalid skbmark format, it should be:  MARK/MASK or MARK (see manpage)")
	mark, mask := v, ""
	if i := strings.IndexByte(v, '/'); i >= 0 {
		mark, mask = v[:i], v[i+1:]
	}
	pm := func(s string) (uint32, bool) {
		if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:], 16, 32)
		return uint32(n), err == nil
	}
	m, ok := pm(mark)
	if !ok {
		return bad
	}
	e.SkbMark, e.SkbMask, e.hasMark = m, 0xffffffff, true
	if mask != "" {
		if e.SkbMask, ok = pm(mask); !ok {
			return bad
		}
	}
	return nil
}

func parseSkbprio(e *Entry, v string) *Error {
	i := strings.IndexByte(v, ':')
	if i < 0 {
		return syntaxErr("Invalid skbprio format, it should be:MAJOR:MINOR (see manpage)")
	}
	a, e1 := strconv.ParseUint(v[:i], 16, 16)
	b, e2 := strconv.ParseUint(v[i+1:], 16, 16)
	if e1 != nil || e2 != nil {
		return syntaxErr("Invalid skbprio format, it should be:MAJOR:MINOR (see manpage)")
	}
	e.SkbPrio, e.hasPrio = uint32(a)<<16|uint32(b), true
	return nil
}

// listADT is add/del/test of a list:set.
func (r *runner) listADT(cmd string, s *Set, member string, e *Entry, before, after string, ev *env) int {
	ref := before
	isBefore := before != ""
	if after != "" {
		ref = after
	}
	m := r.h.Set(member)
	if m == nil {
		return r.report(errf("Set to be added/deleted/tested as element does not exist."), ev)
	}
	if m.Type.kind == kindList {
		return r.report(errf("Sets with list:set type cannot be added to the set."), ev)
	}
	if ref != "" && r.h.Set(ref) == nil {
		return r.report(errf("The set to which you referred with 'before' or 'after' does not exist."), ev)
	}
	pos := -1
	for i, x := range s.Entries {
		if x.Comps[0].Name == member {
			pos = i
		}
	}
	refPos := -1
	if ref != "" {
		for i, x := range s.Entries {
			if x.Comps[0].Name == ref {
				refPos = i
			}
		}
	}
	switch cmd {
	case "test":
		ok := pos >= 0
		if ref != "" {
			ok = ok && refPos >= 0 && (isBefore && refPos == pos+1 || !isBefore && pos == refPos+1)
		}
		shown := member
		if ref != "" {
			// ipset prints the element from the reply, whose flags no
			// longer say "before": both forms come out as "after".
			shown += " after " + ref
		}
		if ok {
			if !ev.quiet {
				io.WriteString(r.errw, "Warning: "+shown+" is in set "+s.Name+".\n")
			}
			return 0
		}
		if !ev.quiet {
			io.WriteString(r.errw, shown+" is NOT in set "+s.Name+".\n")
		}
		return 1
	case "add":
		if ref != "" && refPos < 0 {
			return r.report(errf("The set to which you referred with 'before' or 'after' is not added to the set."), ev)
		}
		if pos >= 0 {
			if !ev.exist {
				return r.report(errExistAdd, ev)
			}
			return 0
		}
		if uint32(len(s.Entries)) >= s.Size {
			return r.report(errListFull, ev)
		}
		e.Comps = []Comp{{Name: member}}
		e.key = member
		at := len(s.Entries)
		if ref != "" {
			at = refPos
			if !isBefore {
				at = refPos + 1
			}
		}
		s.Entries = append(s.Entries, nil)
		copy(s.Entries[at+1:], s.Entries[at:])
		s.Entries[at] = e
		r.changed = true
	case "del":
		if pos < 0 || ref != "" && !(refPos >= 0 && (isBefore && refPos == pos+1 || !isBefore && pos == refPos+1)) {
			if ev.exist {
				return 0
			}
			if ref != "" && refPos < 0 {
				return r.report(errf("The set to which you referred with 'before' or 'after' is not added to the set."), ev)
			}
			return r.report(errExistDel, ev)
		}
		s.Entries = append(s.Entries[:pos], s.Entries[pos+1:]...)
		r.changed = true
	}
	return 0
}

// expire drops the elements whose timeout has passed.
func (r *runner) expire(now int64) {
	for _, s := range r.h.Sets {
		kept := s.Entries[:0]
		for _, e := range s.Entries {
			if e.Expires != 0 && e.Expires <= now {
				r.changed = true
				continue
			}
			kept = append(kept, e)
		}
		s.Entries = kept
	}
}

// listOrder is the kernel's dump order: every set but the list:set ones
// first, then those.
func (h *Host) listOrder() []*Set {
	var out, lists []*Set
	for _, s := range h.Sets {
		if s.Type.kind == kindList {
			lists = append(lists, s)
		} else {
			out = append(out, s)
		}
	}
	return append(out, lists...)
}

func (r *runner) list(cmd, name string, has bool, ev *env) *Error {
	if has {
		if err := checkSetname(name); err != nil {
			return err
		}
	}
	var sets []*Set
	if has {
		s := r.h.Set(name)
		if s == nil {
			return errNoSet
		}
		sets = []*Set{s}
	} else {
		sets = r.h.listOrder()
	}
	now := r.h.Now()
	r.expire(now)
	mode := ev.output
	if mode == "" {
		mode = "plain"
		if cmd == "save" {
			mode = "save"
		}
	}
	var b bytes.Buffer
	for i, s := range sets {
		if ev.names {
			b.WriteString(s.Name + "\n")
			continue
		}
		if mode == "save" {
			b.WriteString("create " + s.Name + " " + s.Type.Name + " " + s.header() + "\n")
			if ev.terse {
				continue
			}
			for _, e := range s.sortedEntries(ev.sorted) {
				b.WriteString("add " + s.Name + " " + s.elemString(e, r.h.Names) + s.elemExt(e, now) + "\n")
			}
			continue
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("Name: " + s.Name + "\nType: " + s.Type.Name + "\nRevision: " + strconv.Itoa(s.Type.Revision) + "\n")
		b.WriteString("Header: " + s.header() + "\n")
		b.WriteString("Size in memory: " + strconv.Itoa(s.memSize()) + "\n")
		b.WriteString("References: " + strconv.Itoa(r.h.refs(s)) + "\n")
		b.WriteString("Number of entries: " + strconv.Itoa(len(s.Entries)) + "\n")
		if ev.terse {
			continue
		}
		b.WriteString("Members:\n")
		for _, e := range s.sortedEntries(ev.sorted) {
			b.WriteString(s.elemString(e, r.h.Names) + s.elemExt(e, now) + "\n")
		}
	}
	if ev.file != "" {
		if err := os.WriteFile(ev.file, b.Bytes(), 0o644); err != nil {
			return errf("Cannot open %s for writing: %s", ev.file, strings.TrimPrefix(err.Error(), "open "+ev.file+": "))
		}
		return nil
	}
	r.out.Write(b.Bytes())
	return nil
}

func (s *Set) elemString(e *Entry, names xtables.Resolver) string {
	var b strings.Builder
	for i, c := range e.Comps {
		if s.Type.comps[i] == compMAC && c.NoMAC {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.compString(s.Type.comps[i], c, names))
	}
	return b.String()
}

func (r *runner) destroyFlush(cmd, name string, has bool) *Error {
	if has {
		if err := checkSetname(name); err != nil {
			return err
		}
	}
	var sets []*Set
	if has {
		s := r.h.Set(name)
		if s == nil {
			return errNoSet
		}
		sets = []*Set{s}
	} else {
		sets = r.h.Sets
	}
	if cmd == "flush" {
		for _, s := range sets {
			if len(s.Entries) > 0 {
				r.changed = true
			}
			s.Entries = nil
		}
		return nil
	}
	if !has {
		// Destroying every set: the list:set members do not hold their
		// sets then, but rules do.
		for _, s := range sets {
			if r.h.RuleRefs != nil && r.h.RuleRefs(s.Name) > 0 {
				return errf("Set cannot be destroyed: it is in use by a kernel component")
			}
		}
		if len(r.h.Sets) > 0 {
			r.changed = true
		}
		r.h.Sets = nil
		return nil
	}
	s := sets[0]
	if r.h.refs(s) > 0 {
		return errf("Set cannot be destroyed: it is in use by a kernel component")
	}
	for i, x := range r.h.Sets {
		if x == s {
			r.h.Sets = append(r.h.Sets[:i], r.h.Sets[i+1:]...)
			break
		}
	}
	r.changed = true
	return nil
}

// features is what a set's elements are made of; swap needs them equal.
func (s *Set) features() string {
	var b strings.Builder
	for _, k := range s.Type.comps {
		if k == compNet {
			k = compIP
		}
		b.WriteByte(byte('0' + k))
	}
	return b.String()
}

func (r *runner) renameSwap(cmd, from, to string) *Error {
	if err := checkSetname(from); err != nil {
		return err
	}
	if err := checkSetname(to); err != nil {
		return err
	}
	a := r.h.Set(from)
	if a == nil {
		return errNoSet
	}
	b := r.h.Set(to)
	if cmd == "rename" {
		if b != nil {
			return errf("Set cannot be renamed: a set with the new name already exists")
		}
		if r.h.refs(a) > 0 {
			return errf("Set cannot be renamed: it is in use by another system")
		}
		a.Name = to
		r.changed = true
		return nil
	}
	if b == nil {
		return errf("Sets cannot be swapped: the second set does not exist")
	}
	if a.features() != b.features() || a.Family != b.Family {
		return errf("The sets cannot be swapped: their type does not match")
	}
	// The sets change places and names; rules keep referring to the
	// place, so they now see the other set's content under their name.
	*a, *b = *b, *a
	a.Name, b.Name = b.Name, a.Name
	r.changed = true
	return nil
}

// restore runs each line of the input as a command (ipset_parse_stream).
func (r *runner) restore(ev *env) int {
	in := r.stdin
	if ev.file != "" {
		f, err := os.Open(ev.file)
		if err != nil {
			return r.report(errf("Cannot open %s for reading: %s", ev.file, strings.TrimPrefix(err.Error(), "open "+ev.file+": ")), ev)
		}
		defer f.Close()
		in = f
	}
	if in == nil {
		in = strings.NewReader("")
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimLeft(sc.Text(), " \t")
		if text == "" || text[0] == '#' {
			continue
		}
		if text == "COMMIT" || strings.HasPrefix(text, "COMMIT ") {
			continue
		}
		args, err := buildArgv(text)
		if err != nil {
			r.line = line
			return r.report(err, ev)
		}
		sub := &runner{h: r.h, out: r.out, errw: r.errw, line: line}
		code := sub.runWithEnv(args, ev)
		r.changed = r.changed || sub.changed
		if code != 0 {
			return code
		}
	}
	return 0
}

// runWithEnv runs a restore line with the environment options of the
// restore command itself in force (-exist, -quiet).
func (r *runner) runWithEnv(args []string, ev *env) int {
	var pre []string
	if ev.exist {
		pre = append(pre, "-exist")
	}
	if ev.quiet {
		pre = append(pre, "-quiet")
	}
	return r.run(append(pre, args...))
}

// buildArgv splits a restore line as build_argv does: blanks separate,
// double quotes group.
func buildArgv(s string) ([]string, *Error) {
	var out []string
	var cur strings.Builder
	quoted, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
			have = true
		case (c == ' ' || c == '\t' || c == '\r' || c == '\n') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if quoted {
		return nil, paramErr("Missing close quote!")
	}
	if have && cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}
