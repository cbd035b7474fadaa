package xtables

import (
	"fmt"
	"maps"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
)

// OptionType says how the core parses an option's argument before handing
// it to the extension (enum xt_option_type in libxtables). TypeString hands
// the raw argument over; extensions that keep the old parse style and their
// own error wording use it.
type OptionType uint8

const (
	TypeNone        OptionType = iota // no argument
	TypeUint8                         // Val.U64, range Min..Max (default type range)
	TypeUint16                        //
	TypeUint32                        //
	TypeUint64                        //
	TypeUint8RC                       // Val.Range[:Val.NVals], "a:b", missing parts 0 / max
	TypeUint16RC                      //
	TypeUint32RC                      //
	TypeUint64RC                      //
	TypeDouble                        // Val.Float
	TypeString                        // Val.Str (length checked against Min/Max when set)
	TypeTOSMask                       // Val.TOS, Val.TOSMask
	TypeMarkMask32                    // Val.Mark, Val.MarkMask
	TypeSyslogLevel                   // Val.Level
	TypeHost                          // Val.Addr (Val.Plen = family bits)
	TypeHostMask                      // Val.Addr, Val.Mask, Val.Plen
	TypeProtocol                      // Val.Proto
	TypePort                          // Val.Port
	TypePortRC                        // Val.Ports, Val.NVals
	TypePlen                          // Val.Plen
	TypePlenMask                      // Val.Plen, Val.Mask
	TypeEtherMAC                      // Val.MAC
	TypeOptional                      // optional argument (getopt has_arg=2): Val.Str, "" when absent
)

// OptionFlags are XTOPT_* flags.
type OptionFlags uint8

const (
	Invert OptionFlags = 1 << iota // may be preceded by "!"
	Mand                           // must be given
	Multi                          // may be given more than once
)

// Option is one entry of an extension's option table (struct
// xt_option_entry). ID must be unique within the extension, 0..63.
type Option struct {
	Name  string
	ID    uint // entries with equal IDs are aliases of one option
	Type  OptionType
	Flags OptionFlags
	Excl  uint64 // IDs (as 1<<id) that cannot be used together with this one
	Also  uint64 // IDs that must be used together with this one
	Min   uint64 // bounds for integer types and string lengths (0 = type default)
	Max   uint64
}

// Value is the parsed argument of an option, by OptionType.
type Value struct {
	U64        uint64
	Range      [2]uint64
	NVals      int
	Float      float64
	Str        string
	Addr, Mask netip.Addr
	Plen       int
	Mark       uint32
	MarkMask   uint32
	TOS        uint8
	TOSMask    uint8
	Level      uint8
	Proto      uint8
	Port       uint16
	Ports      [2]uint16
	MAC        [6]byte
}

// Resolver answers the name look-ups iptables makes (getaddrinfo,
// getservbyname, getprotobynumber, getnetbyaddr) from a twin host's data.
type Resolver interface {
	// PortByName resolves a service name or number as xtables_getportbyname
	// does (protocol-independent); -1 when unknown.
	PortByName(name string) int
	// ServicePort is getservbyname(name, proto); -1 when unknown.
	ServicePort(name, proto string) int
	// ServiceName is getservbyport(port, proto); "" when unknown.
	ServiceName(port uint16, proto string) string
	// ProtoByName is getprotobyname; -1 when unknown.
	ProtoByName(name string) int
	// ProtoName is getprotobynumber; "" when unknown.
	ProtoName(num uint8) string
	// HostAddrs resolves a host name in the family, in the order
	// getaddrinfo returns them; nil when unknown.
	HostAddrs(name string, f Family) []netip.Addr
	// HostName is the reverse look-up of an address; "" when unknown.
	HostName(a netip.Addr) string
	// NetworkAddr is getnetbyname for IPv4 networks.
	NetworkAddr(name string) (netip.Addr, bool)
	// NetworkName is getnetbyaddr for an IPv4 network; "" when unknown.
	NetworkName(a netip.Addr) string
}

// ObjectStore answers for the named objects of a host that rules refer to
// and the kernel checks when a rule is committed. Kind is the object kind
// ("ipset", "nfacct"); the value's type belongs to the package that owns
// that kind.
type ObjectStore interface {
	Lookup(kind, name string) (any, bool)
}

// Context is what an extension sees of the rule and command it is part of.
type Context struct {
	Family  Family
	Table   string
	Chain   string
	Header  *Header // the rule's fixed part (protocol, addresses …)
	Names   Resolver
	Numeric bool // -L with -n: print numbers, not names
	// Notices collects the lines the real tool prints on stderr while
	// parsing without failing (warnings, deprecation notices); nil when
	// nobody listens. Use Notice.
	Notices *[]string
	// Key is set when a rule is rendered as its identity for -C and -D,
	// which the kernel compares as binary data: an extension whose data
	// holds more than its save form shows appends that too (connlimit's
	// mask), or less when the kernel compares less (connlabel).
	Key bool
	// State is set while iptwin reads back its own state file: the rule
	// was accepted before, and an extension whose save form the real tool
	// cannot read back (SNAT's shifted port base) may accept it here.
	State bool
	// Objects looks up the host's named objects (ipsets, nfacct
	// counters) for checks the kernel makes; nil when there are none.
	Objects ObjectStore
	// Hooks is what checkentry sees as the hook mask: 1<<Hook of the
	// rule's chain when it is a built-in chain, 0 in a user chain (the
	// static hook masks of MatchType/TargetType are checked by the core
	// against every base chain reaching the rule).
	Hooks uint
}

// Notice adds a warning line to Notices, if set.
func (c *Context) Notice(msg string) {
	if c != nil && c.Notices != nil {
		*c.Notices = append(*c.Notices, msg)
	}
}

// OptionCall carries one option occurrence to an extension's Parse
// (struct xt_option_call).
type OptionCall struct {
	Ext    string // extension name, for error messages
	Opt    *Option
	Arg    string // raw argument ("" for TypeNone)
	Invert bool
	XFlags uint64 // 1<<ID of the options of this extension seen before this one
	Val    Value
	Ctx    *Context

	args *[]string
	pos  *int
}

// Notice queues a line the real tool prints on stderr while parsing (a
// deprecation warning, say); it does not stop the command.
func (c *OptionCall) Notice(msg string) { c.Ctx.Notice(msg) }

// PeekArg returns the argument after the option's own one without taking
// it (old-style extensions such as --tcp-flags take two).
func (c *OptionCall) PeekArg() (string, bool) {
	if c.args == nil || *c.pos >= len(*c.args) {
		return "", false
	}
	return (*c.args)[*c.pos], true
}

// TakeArg consumes the argument PeekArg returned.
func (c *OptionCall) TakeArg() (string, bool) {
	s, ok := c.PeekArg()
	if ok {
		*c.pos++
	}
	return s, ok
}

// SetArgv lets the command-line parser give an OptionCall access to the rest
// of argv.
func (c *OptionCall) SetArgv(args *[]string, pos *int) { c.args, c.pos = args, pos }

// FinalCall carries the final check of an extension (struct xt_fcheck_call).
type FinalCall struct {
	Ext    string
	XFlags uint64
	Ctx    *Context
}

// Has reports whether the option with the given ID was used.
func (f *FinalCall) Has(id uint) bool { return f.XFlags&(1<<id) != 0 }

// Has reports whether the option with the given ID was used before.
func (c *OptionCall) Has(id uint) bool { return c.XFlags&(1<<id) != 0 }

// Extension is the part match and target instances share: option parsing,
// the -L rendering and the -S / iptables-save rendering. Print and Save
// append to b; like the C print/save functions each part starts with a
// space (" --dport 22", " tcp dpt:22").
type Extension interface {
	Parse(c *OptionCall) error
	Print(b []byte, ctx *Context) []byte
	Save(b []byte, ctx *Context) []byte
}

// Finisher is implemented by extensions with a final check (x6_fcheck).
type Finisher interface {
	Final(f *FinalCall) error
}

// Checker is implemented by extensions with checks the kernel makes when
// the rule is committed (checkentry): table, hooks, protocol.
type Checker interface {
	Check(ctx *Context) error
}

// MatchInfo is the per-rule data of a match.
type MatchInfo interface{ Extension }

// TargetInfo is the per-rule data of a target.
type TargetInfo interface{ Extension }

// MatchType describes a match extension (struct xtables_match).
type MatchType struct {
	Name     string
	Revision uint8
	Family   Family // IPv4, IPv6 or AnyFamily
	// Hooks is the kernel's static hook mask of the extension (struct
	// xt_match .hooks, 1<<Hook…; 0: any). nf_tables checks it against
	// every base chain that reaches the rule, also through user chains,
	// whereas Check runs once, when the rule is added.
	Hooks   uint
	Options []Option
	New     func() MatchInfo
	// Help is printed by -h after the generic help (optional).
	Help string
	// StateForm says Save writes another form into state files (when
	// Context.State is set) than iptables-save prints, so that the state
	// reads back losslessly.
	StateForm bool
	// KernelMissing: the reference kernel has no module for it (ipvs,
	// LED, ULOG, CLUSTERIP): iptables warns when it loads the extension
	// and the kernel refuses every rule using it (ENOENT).
	KernelMissing bool
}

// TargetType describes a target extension (struct xtables_target).
type TargetType struct {
	Name     string
	Revision uint8
	Family   Family
	// Hooks is the static hook mask (struct xt_target .hooks), as for
	// MatchType.
	Hooks   uint
	Options []Option
	New     func() TargetInfo
	Help    string
	// RealName is the name the target is saved and listed as when it is an
	// alias (NOTRACK is saved as CT); Notice says whether the real tool
	// prints "Notice: The X target is converted into Y target ...".
	RealName string
	Notice   bool
	// StateForm and KernelMissing are as for MatchType.
	StateForm     bool
	KernelMissing bool
}

type regKey struct {
	fam  Family
	name string
}

var (
	regMu   sync.RWMutex
	matches = map[regKey]*MatchType{}
	targets = map[regKey]*TargetType{}
	// registry is a copy of the maps for the look-ups, which take no
	// lock (parsers call them from several goroutines for every rule);
	// nil after a registration until the next look-up makes it again.
	registry atomic.Pointer[regSnapshot]
)

type regSnapshot struct {
	matches map[regKey]*MatchType
	targets map[regKey]*TargetType
}

func snapshot() *regSnapshot {
	if s := registry.Load(); s != nil {
		return s
	}
	regMu.RLock()
	defer regMu.RUnlock()
	s := &regSnapshot{matches: maps.Clone(matches), targets: maps.Clone(targets)}
	registry.Store(s)
	return s
}

// RegisterMatch adds a match to the registry; it panics on a duplicate,
// which is a programming error caught at init.
func RegisterMatch(m *MatchType) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, f := range []Family{IPv4, IPv6} {
		if m.Family&f == 0 {
			continue
		}
		k := regKey{f, m.Name}
		if _, dup := matches[k]; dup {
			panic(fmt.Sprintf("xtables: match %q registered twice for %v", m.Name, f))
		}
		validateOptions(m.Name, m.Options)
		matches[k] = m
	}
	registry.Store(nil)
}

// RegisterTarget adds a target to the registry.
func RegisterTarget(t *TargetType) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, f := range []Family{IPv4, IPv6} {
		if t.Family&f == 0 {
			continue
		}
		k := regKey{f, t.Name}
		if _, dup := targets[k]; dup {
			panic(fmt.Sprintf("xtables: target %q registered twice for %v", t.Name, f))
		}
		validateOptions(t.Name, t.Options)
		targets[k] = t
	}
	registry.Store(nil)
}

// validateOptions checks an option table. Entries sharing an ID are aliases
// (--sport and --source-port): getopt then treats an abbreviation matching
// both as unambiguous, as glibc does for equal option values; they must
// agree in type and flags.
func validateOptions(ext string, opts []Option) {
	seen := map[uint]Option{}
	for _, o := range opts {
		if o.ID > 63 {
			panic(fmt.Sprintf("xtables: %s: bad option id %d", ext, o.ID))
		}
		if p, dup := seen[o.ID]; dup && (p.Type != o.Type || p.Flags != o.Flags) {
			panic(fmt.Sprintf("xtables: %s: options --%s and --%s share id %d but differ", ext, p.Name, o.Name, o.ID))
		}
		seen[o.ID] = o
	}
}

// FindMatch returns the match of that name for the family, or nil.
func FindMatch(f Family, name string) *MatchType {
	return snapshot().matches[regKey{f, name}]
}

// FindTarget returns the target of that name for the family, or nil.
func FindTarget(f Family, name string) *TargetType {
	return snapshot().targets[regKey{f, name}]
}

// MatchNames lists the registered matches of a family, sorted.
func MatchNames(f Family) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for k := range matches {
		if k.fam == f {
			out = append(out, k.name)
		}
	}
	sort.Strings(out)
	return out
}

// TargetNames lists the registered targets of a family, sorted.
func TargetNames(f Family) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for k := range targets {
		if k.fam == f {
			out = append(out, k.name)
		}
	}
	sort.Strings(out)
	return out
}

// NFTNative is implemented by the matches iptables-nft turns into native
// nf_tables expressions instead of an xt match (tcp, udp, mark, limit).
// The kernel keeps only the expressions; what every later listing shows is
// what nft's rule parser rebuilds from them, which can differ from what
// was typed: tcp and udp port checks of one rule fold into a single match,
// a check on a full port range vanishes.
type NFTNative interface {
	// NFTNative says whether this instance is translated natively; an
	// error is iptables-nft refusing it ("TCP match requires '-p tcp'").
	NFTNative(ctx *Context) (bool, error)
	// NFTRebuild returns the match nft's parser makes of the expressions,
	// folded into acc (the match of that name rebuilt earlier in the rule
	// when the parser reuses it, else nil); nil when no expression was
	// emitted. merged says the parser reuses one match per rule.
	NFTRebuild(acc MatchInfo) (res MatchInfo, merged bool)
}
