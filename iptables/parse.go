// Package iptables is the iptables(8) language: the command-line grammar
// (do_parse of xshared.c), the commands acting on a rule set, the -L and -S
// printers, iptables-save and the atomic iptables-restore, all with the
// real tool's wording and exit codes.
package iptables

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/iptwin/iptwin/xtables"
)

// Command bits (CMD_* of xshared.h).
const (
	CmdNone        = 0
	CmdInsert      = 1 << 0
	CmdDelete      = 1 << 1
	CmdDeleteNum   = 1 << 2
	CmdReplace     = 1 << 3
	CmdAppend      = 1 << 4
	CmdList        = 1 << 5
	CmdFlush       = 1 << 6
	CmdZero        = 1 << 7
	CmdNewChain    = 1 << 8
	CmdDeleteChain = 1 << 9
	CmdSetPolicy   = 1 << 10
	CmdRenameChain = 1 << 11
	CmdListRules   = 1 << 12
	CmdZeroNum     = 1 << 13
	CmdCheck       = 1 << 14
	numCmds        = 15
)

// Option bits (OPT_* of xshared.h), in the order of optflags.
const (
	OptNumeric     = 1 << 0
	OptSource      = 1 << 1
	OptDestination = 1 << 2
	OptProtocol    = 1 << 3
	OptJump        = 1 << 4
	OptVerbose     = 1 << 5
	OptExpanded    = 1 << 6
	OptViaIn       = 1 << 7
	OptViaOut      = 1 << 8
	OptLineNumbers = 1 << 9
	OptCounters    = 1 << 10
	OptFragment    = 1 << 11
	numOpts        = 12
)

var optflags = []byte{'n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'}

var inverseForOptions = []uint8{0, xtables.InvSrcIP, xtables.InvDstIP, xtables.InvProto, 0, 0, 0,
	xtables.InvViaIn, xtables.InvViaOut, 0, 0, xtables.InvFrag}

// commandsVOptions is commands_v_options of xshared.c ('x' illegal).
var commandsVOptions = [numCmds][numOpts]byte{
	/*            -n  -s  -d  -p  -j  -v  -x  -i  -o --line -c -f */
	/*INSERT*/ {'x', ' ', ' ', ' ', ' ', ' ', 'x', ' ', ' ', 'x', ' ', ' '},
	/*DELETE*/ {'x', ' ', ' ', ' ', ' ', ' ', 'x', ' ', ' ', 'x', 'x', ' '},
	/*DELETE_NUM*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*REPLACE*/ {'x', ' ', ' ', ' ', ' ', ' ', 'x', ' ', ' ', 'x', ' ', ' '},
	/*APPEND*/ {'x', ' ', ' ', ' ', ' ', ' ', 'x', ' ', ' ', 'x', ' ', ' '},
	/*LIST*/ {' ', 'x', 'x', 'x', 'x', ' ', ' ', 'x', 'x', ' ', 'x', 'x'},
	/*FLUSH*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*ZERO*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*NEW_CHAIN*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*DEL_CHAIN*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*SET_POLICY*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', ' ', 'x'},
	/*RENAME*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*LIST_RULES*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*ZERO_NUM*/ {'x', 'x', 'x', 'x', 'x', ' ', 'x', 'x', 'x', 'x', 'x', 'x'},
	/*CHECK*/ {'x', ' ', ' ', ' ', ' ', ' ', 'x', ' ', ' ', 'x', 'x', ' '},
}

func cmd2char(cmd int) byte {
	flags := "IDDRALFZNXPESZC"
	i := 0
	for ; cmd > 1; cmd >>= 1 {
		i++
	}
	if i >= len(flags) {
		return '?'
	}
	return flags[i]
}

func opt2char(opt int) byte {
	i := 0
	for ; opt > 1; opt >>= 1 {
		i++
	}
	return optflags[i]
}

// Command is a parsed command line.
type Command struct {
	Cmd      int
	Chain    string
	NewName  string
	Policy   string
	RuleNum  int
	Table    string
	Verbose  int
	Options  int
	Wait     bool
	Counters xtables.Counters // -c
	// Rules is the rule given, expanded to one per (source, destination)
	// pair when -s/-d list several addresses, sources outermost.
	Rules []*xtables.Rule
	// Jump is the -j/-g target name ("" when none).
	Jump string
	// Version/Help are set by -V / -h (the caller prints and exits 0).
	Version    bool
	VersionInv bool
	Help       bool
	// HelpMatches and HelpTarget are the extensions loaded when -h came,
	// whose help the real tool prints after its own.
	HelpMatches []*xtables.MatchType
	HelpTarget  *xtables.TargetType
	rule1       [1]*xtables.Rule // storage of Rules for one rule
	// Notices are lines the real tool prints on stderr while parsing
	// (deprecation warnings, "Notice: ...").
	Notices []string
}

// ParseOptions tunes the parser for its caller.
type ParseOptions struct {
	Family  xtables.Family
	Table   string // default table ("filter")
	Restore bool   // parsing a line of iptables-restore
	Names   xtables.Resolver
	// Objects are the host's named objects (ipsets …), which some
	// extensions look up while parsing, as the real tool does.
	Objects xtables.ObjectStore
	// State: reading iptwin's own state file, not user input (see
	// xtables.Context.State).
	State bool
}

type matchInst struct {
	m         *xtables.Match
	xflags    uint64
	completed bool
	offset    int
}

type parser struct {
	po      ParseOptions
	g       getopt
	cmd     *Command
	ctx     xtables.Context
	hdr     xtables.Header
	invert  bool
	matches []*matchInst
	target  *xtables.Target
	tflags  uint64
	toffset int
	// offsets of the extension types whose options are merged.
	offsets   []typeOffset
	nextOff   int
	protocol  string
	protoUsed bool
	shost     string
	dhost     string
	tableSet  bool
	waitIval  bool

	// Every field above must be set by reset (parsers are pooled).

	// Storage for the common case, so that a line costs few allocations.
	oc         xtables.OptionCall
	fc         xtables.FinalCall
	offsetsBuf [4]typeOffset
	extBuf     [4]extGroup
	matchesBuf [4]*matchInst
	instBuf    [4]matchInst
	matchBuf   [4]xtables.Match
	ninst      int
	tgtBuf     xtables.Target // p.target points here; rules get a copy
	addrBuf    [4]netip.Addr  // -s and -d with their masks, one address each
	slab       []ruleBlock    // rule storage handed out by buildRules, when set
}

const offsetScale = 256

type typeOffset struct {
	key any
	off int
}

func (p *parser) offsetOf(key any) (int, bool) {
	for _, o := range p.offsets {
		if o.key == key {
			return o.off, true
		}
	}
	return 0, false
}

// Parse parses one iptables/ip6tables command line (without the program
// name). It does what do_parse does, in the same order, so that the first
// error reported is the one the real tool reports.
func Parse(args []string, po ParseOptions) (*Command, error) {
	if po.Table == "" {
		po.Table = "filter"
	}
	// Parsers are pooled: nothing of one outlives Parse (rules get their
	// own copies), and a restore of many lines would otherwise leave one
	// per line as garbage.
	p := parserPool.Get().(*parser)
	defer parserPool.Put(p)
	cmd := new(Command)
	err := p.parseInto(args, po, cmd)
	return cmd, err
}

// parseInto is Parse with the parser and the command's storage given
// (a restore's workers reuse theirs); po.Table must be set.
func (p *parser) parseInto(args []string, po ParseOptions, cmd *Command) error {
	p.reset(po, cmd)
	p.g = getopt{args: args, ext: p.extBuf[:0]}
	p.offsets = p.offsetsBuf[:0]
	p.matches = p.matchesBuf[:0]
	p.ctx = xtables.Context{Family: po.Family, Names: po.Names, Header: &p.hdr, State: po.State, Objects: po.Objects}
	p.ctx.Notices = &p.cmd.Notices
	// On error the command comes back for its Notices, which the real
	// tool printed before failing.
	err := p.run()
	p.cmd = nil
	return err
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

// reset readies a pooled parser for a command line. The storage buffers
// are not cleared: they are written before they are read.
func (p *parser) reset(po ParseOptions, cmd *Command) {
	p.po = po
	*cmd = Command{Table: po.Table}
	p.cmd = cmd
	p.hdr = xtables.Header{}
	p.invert = false
	p.target = nil
	p.tflags, p.toffset, p.nextOff, p.ninst = 0, 0, 0, 0
	p.protocol, p.protoUsed = "", false
	p.shost, p.dhost = "", ""
	p.tableSet, p.waitIval = false, false
}

func (p *parser) addCommand(newcmd, othercmds int) error {
	if p.invert {
		return xtables.Errorf("unexpected '!' flag")
	}
	if p.cmd.Cmd&^othercmds != 0 {
		return xtables.Errorf("Cannot use -%c with -%c", cmd2char(newcmd), cmd2char(p.cmd.Cmd&^othercmds))
	}
	p.cmd.Cmd |= newcmd
	return nil
}

func (p *parser) setOption(opt int) error {
	if p.cmd.Options&opt != 0 {
		return xtables.Errorf("multiple -%c flags not allowed", opt2char(opt))
	}
	p.cmd.Options |= opt
	if p.invert {
		i := 0
		for 1<<i != opt {
			i++
		}
		if inverseForOptions[i] == 0 {
			return xtables.Errorf("cannot have ! before -%c", opt2char(opt))
		}
		p.hdr.Inv |= inverseForOptions[i]
	}
	return nil
}

func parseRuleNumber(s string) (int, error) {
	v, ok := xtables.StrToUintAll(s, 1, 1<<31-1)
	if !ok {
		return 0, xtables.Errorf("Invalid rule number `%s'", s)
	}
	return int(v), nil
}

// optionalChain handles the "[chain]" argument of -L -S -F -Z -X.
func (p *parser) optionalChain() {
	if p.g.hasOpt {
		p.cmd.Chain = p.g.optarg
	} else if p.g.hasArg() {
		p.cmd.Chain = p.g.take()
	}
}

func (p *parser) run() error {
	g := &p.g
	c := p.cmd
	for {
		code := g.next()
		if code == -1 {
			break
		}
		var err error
		switch code {
		case 'A':
			err = p.addCommand(CmdAppend, CmdNone)
			c.Chain = g.optarg
		case 'C':
			err = p.addCommand(CmdCheck, CmdNone)
			c.Chain = g.optarg
		case 'D':
			err = p.addCommand(CmdDelete, CmdNone)
			c.Chain = g.optarg
			if err == nil && g.hasArg() {
				c.RuleNum, err = parseRuleNumber(g.take())
				c.Cmd = CmdDeleteNum
			}
		case 'R':
			err = p.addCommand(CmdReplace, CmdNone)
			c.Chain = g.optarg
			if err == nil {
				if g.hasArg() {
					c.RuleNum, err = parseRuleNumber(g.take())
				} else {
					err = xtables.Errorf("-%c requires a rule number", 'R')
				}
			}
		case 'I':
			err = p.addCommand(CmdInsert, CmdNone)
			c.Chain = g.optarg
			if err == nil {
				if g.hasArg() {
					c.RuleNum, err = parseRuleNumber(g.take())
				} else {
					c.RuleNum = 1
				}
			}
		case 'L':
			err = p.addCommand(CmdList, CmdZero|CmdZeroNum)
			if err == nil {
				p.optionalChain()
				if g.hasArg() {
					c.RuleNum, err = parseRuleNumber(g.take())
				}
			}
		case 'S':
			err = p.addCommand(CmdListRules, CmdZero|CmdZeroNum)
			if err == nil {
				p.optionalChain()
				if g.hasArg() {
					c.RuleNum, err = parseRuleNumber(g.take())
				}
			}
		case 'F':
			err = p.addCommand(CmdFlush, CmdNone)
			if err == nil {
				p.optionalChain()
			}
		case 'Z':
			err = p.addCommand(CmdZero, CmdList|CmdListRules)
			if err == nil {
				p.optionalChain()
				if g.hasArg() {
					c.RuleNum, err = parseRuleNumber(g.take())
					// an assignment in 1.8.9: a -L given before is dropped
					c.Cmd = CmdZeroNum
				}
			}
		case 'N':
			err = p.assertValidChainName(g.optarg)
			if err == nil {
				err = p.addCommand(CmdNewChain, CmdNone)
			}
			c.Chain = g.optarg
		case 'X':
			err = p.addCommand(CmdDeleteChain, CmdNone)
			if err == nil {
				p.optionalChain()
			}
		case 'E':
			err = p.addCommand(CmdRenameChain, CmdNone)
			c.Chain = g.optarg
			if err == nil {
				if g.hasArg() {
					c.NewName = g.take()
				} else {
					err = xtables.Errorf("-%c requires old-chain-name and new-chain-name", 'E')
				}
			}
		case 'P':
			err = p.addCommand(CmdSetPolicy, CmdNone)
			c.Chain = g.optarg
			if err == nil {
				if g.hasArg() {
					c.Policy = g.take()
				} else {
					err = xtables.Errorf("-%c requires a chain and a policy", 'P')
				}
			}
		case 'h':
			c.Help = true
			for _, mi := range p.matches {
				c.HelpMatches = append(c.HelpMatches, mi.m.Type)
			}
			if len(c.HelpMatches) == 0 && p.protocol != "" {
				// iptables -p icmp -h
				if mt := findMatch(p.po.Family, p.protocol); mt != nil {
					c.HelpMatches = append(c.HelpMatches, mt)
				}
			}
			if p.target != nil {
				c.HelpTarget = p.target.Type
			}
			return nil
		case 'p':
			err = p.setOption(OptProtocol)
			if err == nil {
				p.protocol = strings.ToLower(g.lastWord())
				var proto uint8
				proto, err = xtables.ParseProtocol(p.protocol, p.po.Names)
				if err == nil {
					p.hdr.Proto = proto
					if proto == 0 && p.hdr.Inv&xtables.InvProto != 0 {
						err = xtables.Errorf("rule would never match protocol")
					} else if p.po.Family == xtables.IPv6 && isExtHdr(proto) && p.hdr.Inv&xtables.InvProto == 0 {
						c.Notices = append(c.Notices, "Warning: never matched protocol: "+p.protocol+". use extension match instead.")
					}
				}
			}
		case 's':
			err = p.setOption(OptSource)
			p.shost = g.lastWord()
		case 'd':
			err = p.setOption(OptDestination)
			p.dhost = g.lastWord()
		case 'g':
			err = p.setOption(OptJump)
			if err == nil {
				p.hdr.Flags |= xtables.FlagGoto
				err = checkTargetName(g.optarg)
				c.Jump = g.optarg
			}
		case 'j':
			err = p.setOption(OptJump)
			if err == nil {
				err = p.commandJump(g.lastWord())
			}
		case 'i', 'o':
			if g.optarg == "" {
				err = xtables.Errorf("Empty interface is likely to be undesired")
				break
			}
			opt := OptViaIn
			if code == 'o' {
				opt = OptViaOut
			}
			err = p.setOption(opt)
			if err == nil {
				var ifc xtables.Iface
				ifc, err = parseInterface(g.lastWord())
				if code == 'i' {
					p.hdr.In = ifc
				} else {
					p.hdr.Out = ifc
				}
			}
		case 'f':
			if p.po.Family == xtables.IPv6 {
				err = xtables.Errorf("`-f' is not supported in IPv6, use -m frag instead")
				break
			}
			err = p.setOption(OptFragment)
			p.hdr.Flags |= xtables.FlagFrag
		case 'v':
			if c.Verbose == 0 {
				err = p.setOption(OptVerbose)
			}
			c.Verbose++
		case 'm':
			err = p.commandMatch(g.optarg)
		case 'n':
			err = p.setOption(OptNumeric)
		case 't':
			if p.invert {
				err = xtables.Errorf("unexpected ! flag before --table")
				break
			}
			if p.po.Restore && p.tableSet {
				err = xtables.Errorf("The -t option cannot be used in %s.\n", p.po.Family.Program()+"-restore")
				break
			}
			c.Table = g.optarg
			p.tableSet = true
		case 'x':
			err = p.setOption(OptExpanded)
		case 'V':
			c.Version, c.VersionInv = true, p.invert
			return nil
		case 'w':
			if p.po.Restore {
				err = xtables.Errorf("You cannot use `-w' from iptables-restore")
				break
			}
			err = p.parseWait()
		case 'W':
			if p.po.Restore {
				err = xtables.Errorf("You cannot use `-W' from iptables-restore")
				break
			}
			err = p.parseWaitInterval()
		case '0':
			err = p.setOption(OptLineNumbers)
		case 'M':
			// --modprobe: accepted, nothing to load.
		case 'c':
			err = p.parseCounters()
		case '4':
			if p.po.Family != xtables.IPv4 {
				if p.po.Restore {
					c.Cmd = CmdNone
					return errSkipLine
				}
				return errTryHelp
			}
		case '6':
			if p.po.Family != xtables.IPv6 {
				if p.po.Restore {
					c.Cmd = CmdNone
					return errSkipLine
				}
				return errTryHelp
			}
		case codeNonOption:
			if g.optarg == "!" {
				if p.invert {
					return xtables.Errorf("multiple consecutive ! not allowed")
				}
				p.invert = true
				continue
			}
			return &badArgError{arg: g.optarg}
		default:
			again, derr := p.commandDefault(code)
			if derr != nil {
				return derr
			}
			if again {
				continue
			}
		}
		if err != nil {
			return err
		}
		p.invert = false
	}
	return p.finish()
}

// errTryHelp is exit_tryhelp(2): only the "Try ..." line.
var errTryHelp = &xtables.Error{Code: xtables.ParameterProblem, Msg: ""}

// errSkipLine tells iptables-restore to ignore a line of the other family.
var errSkipLine = &xtables.Error{Code: 0, Msg: "skip"}

// IsSkipLine reports whether Parse asked to skip the line (-4/-6 in a
// restore file of the other family).
func IsSkipLine(err error) bool { return err == errSkipLine }

// IsTryHelp reports whether err prints only the "Try ..." line.
func IsTryHelp(err error) bool { return err == errTryHelp }

// badArgError is "Bad argument `x'" followed by the "Try" line.
type badArgError struct{ arg string }

func (e *badArgError) Error() string { return "Bad argument `" + e.arg + "'" }

// BadArgument returns the argument of a "Bad argument" error.
func BadArgument(err error) (string, bool) {
	if e, ok := err.(*badArgError); ok {
		return e.arg, true
	}
	return "", false
}

func isExtHdr(p uint8) bool { return p == 43 || p == 44 || p == 51 || p == 60 }

func (p *parser) parseWait() error {
	var s string
	if p.g.hasOpt {
		s = p.g.optarg
	} else if p.g.hasArg() {
		s = p.g.take()
	} else {
		p.cmd.Wait = true
		return nil
	}
	if _, ok := scanInt(s); !ok {
		return xtables.Errorf("wait seconds not numeric")
	}
	p.cmd.Wait = true
	return nil
}

func (p *parser) parseWaitInterval() error {
	var s string
	if p.g.hasOpt {
		s = p.g.optarg
	} else if p.g.hasArg() {
		s = p.g.take()
	} else {
		return xtables.Errorf("wait interval value required")
	}
	v, ok := scanU32(s)
	if !ok {
		return xtables.Errorf("wait interval not numeric")
	}
	if v > 999999 {
		return xtables.Errorf("too long usec wait %d > 999999 usec", v)
	}
	p.waitIval = true
	p.cmd.Notices = append(p.cmd.Notices, "Ignoring deprecated --wait-interval option.")
	return nil
}

// scanU32 is sscanf("%u"): strtoul, then the cast to unsigned int keeps
// the low 32 bits (so 4294967296 reads as 0, as the real tool takes it).
func scanU32(s string) (uint32, bool) {
	v, n := xtables.Strtoul10(s)
	return uint32(v), n > 0
}

// scanInt is sscanf("%i"): a leading integer in C notation.
func scanInt(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n")
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	v, _, ok := xtables.StrToUint(s, 0, 0)
	if !ok {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

func scanUint64(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	var v uint64
	for _, ch := range s[:i] {
		v = v*10 + uint64(ch-'0')
	}
	return v, true
}

func (p *parser) parseCounters() error {
	if err := p.setOption(OptCounters); err != nil {
		return err
	}
	pcnt := p.g.optarg
	var bcnt string
	hasB := false
	if len(pcnt) > 0 {
		if i := strings.IndexByte(pcnt[1:], ','); i >= 0 {
			bcnt, hasB = pcnt[i+2:], true
		}
	}
	if !hasB && p.g.hasArg() {
		bcnt, hasB = p.g.take(), true
	}
	if !hasB {
		return xtables.Errorf("-c requires packet and byte counter")
	}
	pv, ok := scanUint64(pcnt)
	if !ok {
		return xtables.Errorf("-c packet counter not numeric")
	}
	bv, ok := scanUint64(bcnt)
	if !ok {
		return xtables.Errorf("-c byte counter not numeric")
	}
	p.cmd.Counters = xtables.Counters{Packets: pv, Bytes: bv}
	return nil
}

// checkTargetName is xt_parse_target.
func checkTargetName(name string) error {
	if len(name) < 1 {
		return xtables.Errorf("Invalid target name (too short)")
	}
	if len(name) >= 29 {
		return xtables.Errorf("Invalid target name `%s' (%d chars max)", name, 28)
	}
	if hasSpace(name) {
		return xtables.Errorf("Invalid target name `%s'", name)
	}
	return nil
}

// hasSpace is strings.ContainsAny(s, " \t\n\v\f\r").
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return true
		}
	}
	return false
}

func (p *parser) assertValidChainName(name string) error {
	return assertValidChainName(p.po.Family, name)
}

func assertValidChainName(f xtables.Family, name string) error {
	if len(name) >= 29 {
		return xtables.Errorf("chain name `%s' too long (must be under %d chars)", name, 29)
	}
	if name != "" && (name[0] == '-' || name[0] == '!') {
		return xtables.Errorf("chain name not allowed to start with `%c'", name[0])
	}
	if findTarget(f, name) != nil || xtables.IsStandard(name) {
		return xtables.Errorf("chain name may not clash with target name")
	}
	if hasSpace(name) {
		return xtables.Errorf("Invalid chain name `%s'", name)
	}
	return nil
}

func findTarget(f xtables.Family, name string) *xtables.TargetType {
	return xtables.FindTarget(f, name)
}

// findMatch applies the name aliases xtables_find_match knows.
func findMatch(f xtables.Family, name string) *xtables.MatchType {
	if f == xtables.IPv6 && (name == "icmpv6" || name == "ipv6-icmp") {
		name = "icmp6"
	}
	return xtables.FindMatch(f, name)
}

func (p *parser) mergeOptions(key any, opts []xtables.Option) int {
	p.nextOff += offsetScale
	off := p.nextOff
	p.offsets = append(p.offsets, typeOffset{key, off})
	// newest first, as xtables_merge_options puts them
	p.g.ext = append(p.g.ext, extGroup{})
	copy(p.g.ext[1:], p.g.ext)
	p.g.ext[0] = extGroup{off: off, opts: longOpts(opts)}
	return off
}

// longOptCache holds each option table in getopt form (values are the
// option IDs; the parser adds the extension's offset).
var longOptCache sync.Map // *xtables.Option (first entry) -> []longOpt

func longOpts(opts []xtables.Option) []longOpt {
	if len(opts) == 0 {
		return nil
	}
	if v, ok := longOptCache.Load(&opts[0]); ok {
		return v.([]longOpt)
	}
	out := make([]longOpt, 0, len(opts))
	for _, o := range opts {
		kind := requiredArg
		switch o.Type {
		case xtables.TypeNone:
			kind = noArg
		case xtables.TypeOptional:
			kind = optionalArg
		}
		out = append(out, longOpt{o.Name, kind, int(o.ID)})
	}
	longOptCache.Store(&opts[0], out)
	return out
}

func (p *parser) commandMatch(name string) error {
	if p.invert {
		return xtables.Errorf("unexpected ! flag before --match")
	}
	mt := findMatch(p.po.Family, name)
	if mt == nil {
		return xtables.Errorf("Couldn't load match `%s':No such file or directory\n", name)
	}
	p.loadMatch(mt)
	return nil
}

func (p *parser) loadMatch(mt *xtables.MatchType) *matchInst {
	for _, mi := range p.matches {
		if mi.m.Type == mt {
			mi.completed = true
		}
	}
	off, loaded := p.offsetOf(mt)
	if !loaded {
		off = p.mergeOptions(mt, mt.Options)
		if mt.KernelMissing {
			p.cmd.Notices = append(p.cmd.Notices, fmt.Sprintf("Warning: Extension %s revision %d not supported, missing kernel module?", mt.Name, mt.Revision))
		}
	}
	var mi *matchInst
	if p.ninst < len(p.instBuf) {
		m := &p.matchBuf[p.ninst]
		*m = xtables.Match{Type: mt, Info: mt.New()}
		mi = &p.instBuf[p.ninst]
		*mi = matchInst{m: m, offset: off}
		p.ninst++
	} else {
		mi = &matchInst{m: &xtables.Match{Type: mt, Info: mt.New()}, offset: off}
	}
	p.matches = append(p.matches, mi)
	return mi
}

func (p *parser) commandJump(name string) error {
	if err := checkTargetName(name); err != nil {
		return err
	}
	p.cmd.Jump = name
	if xtables.IsStandard(name) {
		p.tgtBuf = xtables.Target{Name: name}
		p.target = &p.tgtBuf
		return nil
	}
	tt := findTarget(p.po.Family, name)
	if tt == nil {
		return nil // a chain name
	}
	p.tgtBuf = xtables.Target{Name: name, Type: tt, Info: tt.New()}
	p.target = &p.tgtBuf
	if tt.KernelMissing {
		p.cmd.Notices = append(p.cmd.Notices, fmt.Sprintf("Warning: Extension %s revision %d not supported, missing kernel module?", tt.Name, tt.Revision))
	}
	if tt.RealName != "" && tt.Notice {
		p.cmd.Notices = append(p.cmd.Notices, "Notice: The "+name+" target is converted into "+tt.RealName+" target in rule listing and saving.")
	}
	p.toffset = p.mergeOptions(tt, tt.Options)
	return nil
}

func optionByID(opts []xtables.Option, id int) *xtables.Option {
	for i := range opts {
		if int(opts[i].ID) == id {
			return &opts[i]
		}
	}
	return nil
}

// commandDefault routes an option that is not a built-in one to the
// target or a match (command_default), or loads the protocol match and asks
// for the option to be read again.
func (p *parser) commandDefault(code int) (again bool, err error) {
	if p.target != nil && p.target.Type != nil && code >= p.toffset && code < p.toffset+offsetScale {
		tt := p.target.Type
		opt := optionByID(tt.Options, code-p.toffset)
		return false, p.callParse(tt.Name, opt, p.target.Info, &p.tflags)
	}
	for _, mi := range p.matches {
		if mi.completed || code < mi.offset || code >= mi.offset+offsetScale {
			continue
		}
		opt := optionByID(mi.m.Type.Options, code-mi.offset)
		return false, p.callParse(mi.m.Type.Name, opt, mi.m.Info, &mi.xflags)
	}
	if mt := p.protoMatchToLoad(); mt != nil {
		p.protoUsed = true
		p.loadMatch(mt)
		p.g.optind-- // read the option again, now that it is known
		p.g.nextchar = ""
		return true, nil
	}
	arg := ""
	if p.g.optind-1 < len(p.g.args) && p.g.optind >= 1 {
		arg = p.g.args[p.g.optind-1]
	}
	if code == codeMissing {
		return false, xtables.Errorf("option \"%s\" requires an argument", arg)
	}
	if code == codeUnknown {
		return false, xtables.Errorf("unknown option \"%s\"", arg)
	}
	return false, xtables.Errorf("Unknown arg \"%s\"", p.g.optarg)
}

// protoMatchToLoad is should_load_proto + load_proto.
func (p *parser) protoMatchToLoad() *xtables.MatchType {
	if p.protocol == "" || p.protoUsed {
		return nil
	}
	name := p.protocol
	if v, ok := xtables.StrToUintAll(name, 0, 255); ok {
		name = xtables.ProtoToName(uint8(v), p.cmd.Options&OptNumeric != 0, p.po.Names)
		if name == "" {
			return nil
		}
	}
	return findMatch(p.po.Family, name)
}

func (p *parser) callParse(ext string, opt *xtables.Option, info xtables.Extension, xflags *uint64) error {
	if opt == nil {
		return xtables.Problem(xtables.OtherProblem, "Extension does not know id")
	}
	c := &p.oc
	*c = xtables.OptionCall{Ext: ext, Opt: opt, Arg: p.g.optarg, Invert: p.invert, XFlags: *xflags, Ctx: &p.ctx}
	c.SetArgv(&p.g.args, &p.g.optind)
	if opt.Type != xtables.TypeNone && opt.Type != xtables.TypeOptional && !p.g.hasOpt {
		return xtables.Errorf("%s: option \"--%s\" requires an argument.\n", ext, opt.Name)
	}
	if err := xtables.ParseOption(c); err != nil {
		return err
	}
	if err := info.Parse(c); err != nil {
		return err
	}
	*xflags |= 1 << opt.ID
	return nil
}

func (p *parser) finish() error {
	c := p.cmd
	if c.Table == "nat" && (c.Policy == "DROP" || c.Jump == "DROP") {
		return xtables.Errorf("\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n")
	}
	if !c.Wait && p.waitIval {
		return xtables.Errorf("--wait-interval only makes sense with --wait\n")
	}
	p.ctx.Table, p.ctx.Chain = c.Table, c.Chain
	for _, mi := range p.matches {
		if err := p.finalCall(mi.m.Type.Name, mi.m.Type.Options, mi.m.Info, mi.xflags); err != nil {
			return err
		}
	}
	if p.target != nil && p.target.Type != nil {
		tt := p.target.Type
		if err := p.finalCall(tt.Name, tt.Options, p.target.Info, p.tflags); err != nil {
			return err
		}
	}
	if p.g.optind < len(p.g.args) {
		return xtables.Errorf("unknown arguments found on commandline")
	}
	if c.Cmd == CmdNone {
		return xtables.Errorf("no command specified")
	}
	if p.invert {
		return xtables.Errorf("nothing appropriate following !")
	}
	srcs, smasks, dsts, dmasks, err := p.postParse()
	if err != nil {
		return err
	}
	if c.Cmd == CmdReplace && (len(srcs) != 1 || len(dsts) != 1) {
		return xtables.Errorf("Replacement rule does not specify a unique address")
	}
	if err := genericOptCheck(c.Cmd, c.Options); err != nil {
		return err
	}
	if len(c.Chain) >= 29 {
		return xtables.Errorf("chain name `%s' too long (must be under %d chars)", c.Chain, 29)
	}
	if c.Cmd&(CmdAppend|CmdDelete|CmdDeleteNum|CmdCheck|CmdInsert|CmdReplace) != 0 && c.Cmd == c.Cmd&(CmdAppend|CmdDelete|CmdDeleteNum|CmdCheck|CmdInsert|CmdReplace) {
		if (c.Chain == "PREROUTING" || c.Chain == "INPUT") && c.Options&OptViaOut != 0 {
			return xtables.Errorf("Can't use -%c with %s\n", 'o', c.Chain)
		}
		if (c.Chain == "POSTROUTING" || c.Chain == "OUTPUT") && c.Options&OptViaIn != 0 {
			return xtables.Errorf("Can't use -%c with %s\n", 'i', c.Chain)
		}
	}
	if c.Cmd&(CmdAppend|CmdDelete|CmdCheck|CmdInsert|CmdReplace) != 0 {
		return p.buildRules(srcs, smasks, dsts, dmasks)
	}
	return nil
}

func (p *parser) finalCall(name string, opts []xtables.Option, info xtables.Extension, xflags uint64) error {
	if f, ok := info.(xtables.Finisher); ok {
		p.fc = xtables.FinalCall{Ext: name, XFlags: xflags, Ctx: &p.ctx}
		if err := f.Final(&p.fc); err != nil {
			return err
		}
	}
	return xtables.FinalCheck(name, opts, xflags)
}

// illegalFor[j] has the bits of the options command j does not take.
var illegalFor = func() (m [numCmds]int) {
	for j := 0; j < numCmds; j++ {
		for i := 0; i < numOpts; i++ {
			if commandsVOptions[j][i] == 'x' {
				m[j] |= 1 << i
			}
		}
	}
	return m
}()

func genericOptCheck(cmd, options int) error {
	// Fast path: a single command whose options are all legal.
	for j := 0; j < numCmds; j++ {
		if cmd == 1<<j && options&illegalFor[j] == 0 {
			return nil
		}
	}
	for i := 0; i < numOpts; i++ {
		legal := 0
		for j := 0; j < numCmds; j++ {
			if cmd&(1<<j) == 0 {
				continue
			}
			if options&(1<<i) == 0 {
				if commandsVOptions[j][i] == '+' {
					return xtables.Errorf("You need to supply the `-%c' option for this command", optflags[i])
				}
			} else if commandsVOptions[j][i] != 'x' {
				legal = 1
			} else if legal == 0 {
				legal = -1
			}
		}
		if legal == -1 {
			return xtables.Errorf("Illegal option `-%c' with this command", optflags[i])
		}
	}
	return nil
}

// postParse is ipv4_post_parse / ipv6_post_parse: the address lists.
func (p *parser) postParse() (srcs, smasks, dsts, dmasks []netip.Addr, err error) {
	c := p.cmd
	f := p.po.Family
	zero := "0.0.0.0/0"
	if f == xtables.IPv6 {
		zero = "::0/0"
	}
	if c.Cmd&(CmdReplace|CmdInsert|CmdDelete|CmdAppend|CmdCheck) != 0 {
		if c.Options&OptDestination == 0 {
			p.dhost = zero
		}
		if c.Options&OptSource == 0 {
			p.shost = zero
		}
	}
	if p.shost != "" {
		if srcs, smasks, err = p.addrList(p.shost, p.addrBuf[0:2]); err != nil {
			return
		}
	}
	if p.dhost != "" {
		if dsts, dmasks, err = p.addrList(p.dhost, p.addrBuf[2:4]); err != nil {
			return
		}
	}
	if (len(srcs) > 1 || len(dsts) > 1) && p.hdr.Inv&(xtables.InvSrcIP|xtables.InvDstIP) != 0 {
		err = xtables.Errorf("! not allowed with multiple source or destination IP addresses")
	}
	return
}

// addrList is xtables.ParseAddrList, in buf (address, mask) when the
// argument is one numeric address.
func (p *parser) addrList(s string, buf []netip.Addr) (addrs, masks []netip.Addr, err error) {
	a, m, ok, err := xtables.ParseAddrSingle(s, p.po.Family)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return xtables.ParseAddrList(s, p.po.Family, p.po.Names)
	}
	buf[0], buf[1] = a, m
	return buf[0:1:1], buf[1:2:2], nil
}

// ruleBlock holds a rule and its first matches in one allocation.
type ruleBlock struct {
	rule  xtables.Rule
	ptrs  [3]*xtables.Match
	match [3]xtables.Match
	tgt   xtables.Target
}

func (p *parser) buildRules(srcs, smasks, dsts, dmasks []netip.Addr) error {
	// The rule gets its own copies: the parser's storage is not kept.
	var blk *ruleBlock
	if len(p.slab) > 0 {
		blk, p.slab = &p.slab[0], p.slab[1:]
	} else {
		blk = &ruleBlock{}
	}
	var ms []*xtables.Match
	if n := len(p.matches); n <= len(blk.ptrs) {
		ms = blk.ptrs[:n]
		for i, mi := range p.matches {
			blk.match[i] = *mi.m
			ms[i] = &blk.match[i]
		}
	} else {
		ms = make([]*xtables.Match, n)
		block := make([]xtables.Match, n)
		for i, mi := range p.matches {
			block[i] = *mi.m
			ms[i] = &block[i]
		}
	}
	ms, err := nftRoundTrip(ms, &p.ctx)
	if err != nil {
		return err
	}
	var tgt *xtables.Target
	if p.target != nil {
		blk.tgt = *p.target
		tgt = &blk.tgt
	} else if p.cmd.Jump != "" {
		blk.tgt = xtables.Target{Name: p.cmd.Jump}
		tgt = &blk.tgt
	}
	n := len(srcs) * len(dsts)
	if n == 1 {
		r := &blk.rule
		*r = xtables.Rule{Header: p.hdr, Matches: ms, Target: tgt, Counters: p.cmd.Counters}
		r.Src, r.SrcMask = srcs[0], smasks[0]
		r.Dst, r.DstMask = dsts[0], dmasks[0]
		p.cmd.Rules = p.cmd.rule1[:1:1]
		p.cmd.Rules[0] = r
		return nil
	}
	p.cmd.Rules = make([]*xtables.Rule, 0, n)
	for i := range srcs {
		for j := range dsts {
			r := &xtables.Rule{Header: p.hdr, Matches: ms, Target: tgt, Counters: p.cmd.Counters}
			r.Src, r.SrcMask = srcs[i], smasks[i]
			r.Dst, r.DstMask = dsts[j], dmasks[j]
			p.cmd.Rules = append(p.cmd.Rules, r)
		}
	}
	return nil
}

// parseInterface is xtables_parse_interface.
func parseInterface(s string) (xtables.Iface, error) {
	if len(s) > 15 {
		return xtables.Iface{}, xtables.Errorf("interface name `%s' must be shorter than IFNAMSIZ (%d)", s, 15)
	}
	if strings.HasSuffix(s, "+") {
		return xtables.Iface{Name: s[:len(s)-1], Wildcard: true}, nil
	}
	return xtables.Iface{Name: s}, nil
}
