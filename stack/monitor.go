package stack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/ext/iphdr"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Monitor renders the trace events of a run in `xtables-monitor --trace`
// form (iptables 1.8.9 with the nf_tables backend, on a Linux 6.x kernel),
// so that a twin host prints what the real tool prints for the same host
// and packets.
//
// What the kernel sends (nf_tables_core.c nft_do_chain, nf_tables_trace.c
// nft_trace_notify), for a packet whose nf_trace flag is set (-j TRACE is
// `meta nftrace set 1` in iptables-nft), in each base chain walk:
//
//   - a rule event for every rule whose expressions all ran: verdict
//     CONTINUE for a rule without verdict (LOG, MARK, TRACE itself, no
//     target), else its verdict (ACCEPT, DROP, JUMP:chain, GOTO:chain, and
//     RETURN as the raw 0xfffffffb: since the kernel masks verdicts with
//     NF_VERDICT_MASK in __nft_trace_verdict, RETURN and the end of a
//     chain are sent as rule events, not return events);
//   - at the end of a chain without verdict, a rule event without handle,
//     which xtables-monitor prints nothing for but the packet;
//   - the policy event when the base chain's policy decides.
//
// The first event of a walk carries the packet (interfaces, link-layer,
// network and transport headers as they are after the rule ran), which
// xtables-monitor prints as a PACKET line before the event's own line.
// For each rule event xtables-monitor asks the kernel for the rule
// (NFT_MSG_GETRULE by handle) and prints it as iptables-save would, with
// "-4 -t TABLE " or "-6 -t TABLE " before it.
//
// xtables-monitor 1.8.9 initialises libxtables for IPv4 only. IPv6 rules
// are therefore read with the IPv4 extensions of the same name (REJECT's
// ICMPv6 codes print as the IPv4 names of the same numbers), and a rule
// with an IPv6-only extension (icmp6, hl, HL, frag, ...) or with a native
// port or TCP flags match (nft_parse_transport reads the protocol from
// the IPv4 half of the rule's union, so it never is TCP or UDP) makes it
// print the rule's prefix, report "Parsing nftables rule failed" and exit
// with status 3: WriteTrace then returns a *MonitorExit.
type Monitor struct {
	// ID is the trace id (NFTA_TRACE_ID) of the n-th traced packet
	// (from 0, over every Trace written by this Monitor). The kernel
	// derives it from the skb's address and flow hash (trace_fill_id), so
	// it cannot be reproduced; the default is a fixed pseudo-random
	// sequence. A packet keeps its id through all hooks; a packet the
	// host generates, and one coming back over lo, gets a new one.
	ID func(n int) uint32
	// Handle, when set and ok, gives the nf_tables handle of the num-th
	// rule of chain c in table t. Otherwise RestoreHandle numbers them.
	Handle func(f xtables.Family, t *xtables.Table, c *xtables.Chain, num int) (uint64, bool)
	// IfType gives a device's ARPHRD type (ARPHRD_ETHER 1, ARPHRD_LOOPBACK
	// 772); nil: "lo" is a loopback, anything else Ethernet.
	IfType func(dev string) uint16

	names  xtables.Resolver
	events map[*TracePacket][]MonitorEvent
	ids    map[*TracePacket]uint32
	// parent says which event of which packet generated a packet inside
	// a target (REJECT): the kernel sends that packet out before the
	// target returns, so its events come before the rule's.
	parent map[*TracePacket]spawn
	walk   int
}

// spawn is the event (index in events[p]) a packet was generated in.
type spawn struct {
	p  *TracePacket
	ev int
}

// NewMonitor returns a Monitor; names resolves protocol names in rule
// texts as the Trace's resolver does (nil: numeric).
func NewMonitor(names xtables.Resolver) *Monitor {
	return &Monitor{names: names, events: map[*TracePacket][]MonitorEvent{}, ids: map[*TracePacket]uint32{}, parent: map[*TracePacket]spawn{}}
}

// MonitorKind is what a MonitorEvent reports.
type MonitorKind uint8

const (
	// MonitorRule: a rule ran to its end (NFT_TRACETYPE_RULE with a
	// handle).
	MonitorRule MonitorKind = iota
	// MonitorEnd: a chain ended without verdict (a rule event without
	// handle: only its packet is printed).
	MonitorEnd
	// MonitorPolicy: the base chain's policy decided.
	MonitorPolicy
)

// Kernel verdict codes as nft_verdict_dump sends them (NF_* and NFT_*).
const (
	nfDrop      uint32 = 0
	nfAccept    uint32 = 1
	nfStolen    uint32 = 2
	nfQueue     uint32 = 3
	nftContinue uint32 = 0xffffffff // -1
	nftJump     uint32 = 0xfffffffd // -3
	nftGoto     uint32 = 0xfffffffc // -4
	nftReturn   uint32 = 0xfffffffb // -5

	// nfQueueBypass is NF_VERDICT_FLAG_QUEUE_BYPASS.
	nfQueueBypass uint32 = 0x8000
)

// MonitorEvent is one trace message the kernel would send, with what
// xtables-monitor prints from it.
type MonitorEvent struct {
	Kind MonitorKind
	// Walk numbers the base chain walks (nft_do_chain calls) of a run;
	// the first traced event of a walk carries the packet.
	Walk   int
	Family xtables.Family
	Table  string
	Chain  string // the rule's chain; for a policy, the base chain
	Handle uint64
	// Verdict is the kernel's verdict code (nfAccept, nftJump, ...) and
	// Target the chain of a jump or goto.
	Verdict uint32
	Target  string
	// Rule is the rule as xtables-monitor prints it after "-4 -t TABLE ":
	// "-A CHAIN ...". Errors, when set, are the lines it writes to
	// standard error before giving up on the rule (and exiting).
	Rule   string
	Errors []string
	Packet MonitorPacket
}

// MonitorPacket is the packet as nft_trace_notify reads it from the skb
// at an event (after the rule ran).
type MonitorPacket struct {
	// Trace is the skb's nf_trace flag: the kernel sends nothing while it
	// is clear.
	Trace bool
	// In and Out are the hook's devices (nft_in/nft_out): In on
	// PREROUTING, INPUT and FORWARD, and on POSTROUTING the device a
	// forwarded packet came in by (ip_output's indev); Out on FORWARD,
	// OUTPUT and POSTROUTING.
	In, Out string
	// InType is In's ARPHRD type (NFTA_TRACE_IIFTYPE); 0 without In.
	InType uint16
	// LL is the link-layer header when the skb has one (received
	// packets, also when forwarded; not locally generated ones).
	LL []byte
	// IP is the packet from its network header to its end.
	IP   []byte
	Mark uint32
}

// ARPHRD types xtables-monitor tells apart.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// MonitorExit is returned by WriteTrace when the real xtables-monitor
// would have stopped: Stderr is what it writes to standard error, Code
// its exit status.
type MonitorExit struct {
	Code   int
	Stderr string
}

func (e *MonitorExit) Error() string {
	return fmt.Sprintf("xtables-monitor exits with status %d: %s", e.Code, strings.TrimSpace(e.Stderr))
}

// errNotAttached: WriteTrace has no events for a traced run.
var errNotAttached = errors.New("monitor: no trace events were recorded (attach the Monitor to the host with Attach)")

// Record adds an event of packet p (for callers that drive the Monitor
// themselves; Attach does it for a Host).
func (m *Monitor) Record(p *TracePacket, ev MonitorEvent) {
	if _, ok := m.ids[p]; !ok {
		m.ids[p] = m.id(len(m.ids))
	}
	m.events[p] = append(m.events[p], ev)
}

// Attach returns an Observer for h that passes every call to t and
// records, at each rule, chain end and policy, the event the kernel would
// send. Set h.Obs to it, and Start packets on t as usual.
func (m *Monitor) Attach(h *Host, t *Trace) Observer {
	return &monitorObserver{Observer: t, m: m, h: h, t: t, lastWalk: -1, qlen: len(h.queue), spawned: map[*packet.Packet]spawn{}}
}

// Generated records that packet p was generated while the kernel was in
// event ev of packet by (for callers that drive the Monitor themselves).
func (m *Monitor) Generated(p, by *TracePacket, ev int) {
	m.parent[p] = spawn{by, ev}
}

// monitorObserver is the Observer Attach returns.
type monitorObserver struct {
	Observer
	m *Monitor
	h *Host
	t *Trace

	hook     int
	hookSeq  int
	lastWalk int
	lastKey  walkKey
	ended    bool // the last event ended its walk (verdict or policy)
	returned bool // the last rule returned: the Return call is its own
	// qlen is the length of the host's queue of generated packets at the
	// last call; spawned maps those a target queued to their event.
	qlen    int
	spawned map[*packet.Packet]spawn
}

// walkKey tells consecutive walks apart.
type walkKey struct {
	hookSeq int
	table   string
	fam     xtables.Family
}

func (o *monitorObserver) Hook(f xtables.Family, hook int) {
	o.hook = hook
	o.hookSeq++
	o.Observer.Hook(f, hook)
}

func (o *monitorObserver) Begin(origin, in string, p *packet.Packet) {
	o.hookSeq++
	o.Observer.Begin(origin, in, p)
	if sp, ok := o.spawned[p]; ok {
		delete(o.spawned, p)
		o.m.Generated(o.t.cur, sp.p, sp.ev)
	}
	o.qlen = len(o.h.queue)
}

// walkOf returns the walk number of an event of table p.
func (o *monitorObserver) walkOf(p *xtables.Program) int {
	k := walkKey{o.hookSeq, p.Table.Name, p.Family}
	if o.ended || k != o.lastKey || o.lastWalk < 0 {
		o.m.walk++
		o.lastWalk = o.m.walk
		o.lastKey = k
		o.ended = false
	}
	return o.lastWalk
}

func (o *monitorObserver) Rule(p *xtables.Program, c *xtables.Chain, num int, r *xtables.Rule, matched bool, v xtables.VerdictCode) {
	o.Observer.Rule(p, c, num, r, matched, v)
	walk := o.walkOf(p)
	o.returned = false
	if len(o.h.queue) < o.qlen {
		o.qlen = len(o.h.queue) // drained
	}
	hotDrop := !matched && v == xtables.VerdictCodeDrop
	if !matched && !hotDrop {
		return // NFT_BREAK: no event
	}
	ev := MonitorEvent{Kind: MonitorRule, Walk: walk, Family: p.Family, Table: p.Table.Name, Chain: c.Name}
	ev.Verdict, ev.Target = kernelVerdict(v, r, o.m.targetText(p, c, r))
	switch ev.Verdict {
	case nftContinue, nftJump, nftGoto:
	case nftReturn:
		o.returned = true
	default:
		o.ended = true
	}
	ev.Handle = o.m.handle(p.Family, p.Table, c, num)
	ev.Rule, ev.Errors = o.m.RuleText(p.Family, p.Table.Name, c, r)
	ev.Packet = o.h.monitorPacket(o.hook, o.m.ifType)
	if n := len(o.h.queue); n > o.qlen && r != nil && r.Target != nil && r.Target.Type != nil && o.t.cur != nil {
		// The target sent packets (REJECT): they go out before it returns.
		for _, s := range o.h.queue[o.qlen:] {
			o.spawned[&s.pkt] = spawn{o.t.cur, len(o.m.events[o.t.cur])}
		}
	}
	o.qlen = len(o.h.queue)
	if !ev.Packet.Trace {
		for k, sp := range o.spawned {
			if sp.p == o.t.cur && sp.ev == len(o.m.events[o.t.cur]) {
				delete(o.spawned, k) // no event of its own to precede
			}
		}
	}
	o.record(ev)
}

func (o *monitorObserver) Return(p *xtables.Program, c *xtables.Chain) {
	o.Observer.Return(p, c)
	walk := o.walkOf(p)
	if o.returned {
		// An explicit RETURN was the event; the chain's end is not one.
		o.returned = false
		return
	}
	ev := MonitorEvent{Kind: MonitorEnd, Walk: walk, Family: p.Family, Table: p.Table.Name, Chain: c.Name, Verdict: nftContinue}
	ev.Packet = o.h.monitorPacket(o.hook, o.m.ifType)
	o.record(ev)
}

func (o *monitorObserver) Policy(p *xtables.Program, c *xtables.Chain, v xtables.VerdictCode) {
	o.Observer.Policy(p, c, v)
	walk := o.walkOf(p)
	pk := o.h.monitorPacket(o.hook, o.m.ifType)
	if !o.returned {
		// The rule loop ended without verdict: nft_trace_verdict sends a
		// rule event without handle first (the packet, if first).
		o.record(MonitorEvent{Kind: MonitorEnd, Walk: walk, Family: p.Family, Table: p.Table.Name, Chain: c.Name, Verdict: nftContinue, Packet: pk})
	}
	o.returned = false
	ev := MonitorEvent{Kind: MonitorPolicy, Walk: walk, Family: p.Family, Table: p.Table.Name, Chain: c.Name, Verdict: nfAccept, Packet: pk}
	if v == xtables.VerdictCodeDrop {
		ev.Verdict = nfDrop
	}
	o.ended = true
	o.record(ev)
}

func (o *monitorObserver) record(ev MonitorEvent) {
	if o.t.cur == nil || !ev.Packet.Trace {
		return // the kernel sends nothing for an untraced packet
	}
	o.m.Record(o.t.cur, ev)
}

// monitorPacket reads the packet being walked as nft_trace_notify does.
// Only valid during a walk (h.env.cur is set).
func (h *Host) monitorPacket(hook int, ifType func(string) uint16) MonitorPacket {
	st, s := &h.env.st, h.env.cur
	mp := MonitorPacket{Trace: st.Trace, Mark: st.Mark}
	if st.Pkt != nil {
		mp.IP = append([]byte(nil), st.Pkt.Data...)
	}
	if s == nil {
		return mp
	}
	switch hook {
	case xtables.HookPrerouting, xtables.HookInput, xtables.HookForward:
		mp.In = s.in
	case xtables.HookPostrouting:
		mp.In = s.in // ip_output's indev: skb->dev before the output device
	}
	switch hook {
	case xtables.HookForward, xtables.HookOutput, xtables.HookPostrouting:
		mp.Out = st.Out
		if mp.Out == "" {
			mp.Out = s.out
		}
	}
	if mp.In != "" {
		mp.InType = ifType(mp.In)
	}
	if s.hasMAC {
		mp.LL = append([]byte(nil), s.mac[:]...)
	} else if mp.InType == arphrdLoopback {
		// eth_type_trans on lo sets a (zero) MAC header.
		mp.LL = make([]byte, 14)
	}
	return mp
}

func (m *Monitor) ifType(dev string) uint16 {
	if m.IfType != nil {
		return m.IfType(dev)
	}
	if dev == "lo" {
		return arphrdLoopback
	}
	return arphrdEther
}

func (m *Monitor) handle(f xtables.Family, t *xtables.Table, c *xtables.Chain, num int) uint64 {
	if m.Handle != nil {
		if h, ok := m.Handle(f, t, c, num); ok {
			return h
		}
	}
	return RestoreHandle(t, c, num)
}

// RestoreHandle is the nf_tables handle of the num-th rule of chain c as
// a fresh `iptables-restore` of the table's iptables-save output gives
// it. The kernel numbers the chains and rules of a table with one counter
// (nf_tables_alloc_handle: table->hgenerator, from 1), in the order of the
// restore batch: the chain lines first (iptables-save lists every
// built-in chain of the table, in hook order, then the user chains by
// name), then the rules in file order, chain after chain.
//
// The real handles depend on the table's history, which the rule model
// does not keep: iptables -A/-I/-N and built-in chains created on first
// use take the next number, -R keeps the replaced rule's, deleted rules
// and chains leave gaps, and a full iptables-restore of the table deletes
// and recreates it (numbering from 1 again in file order). So this is
// exact for a table loaded by iptables-restore from a file in
// iptables-save order, and for no other history in general.
func RestoreHandle(t *xtables.Table, c *xtables.Chain, num int) uint64 {
	chains := t.Sorted()
	h := uint64(len(chains))
	for _, ch := range chains {
		if ch == c {
			return h + uint64(num)
		}
		h += uint64(len(ch.Rules))
	}
	return h + uint64(num)
}

// targetText is the rule's target part as iptables-save prints it.
func (m *Monitor) targetText(p *xtables.Program, c *xtables.Chain, r *xtables.Rule) string {
	if r == nil || r.Target == nil || r.Target.Type == nil {
		return ""
	}
	ctx := &xtables.Context{Family: p.Family, Table: p.Table.Name, Chain: c.Name, Names: m.names, Numeric: true}
	return string(r.Target.Info.Save(nil, ctx))
}

// kernelVerdict is the verdict code the kernel reports for a rule that
// ran: the standard verdicts, NFT_JUMP/NFT_GOTO for a chain, NFT_RETURN,
// NFT_CONTINUE, and for an xt target what its function returned
// (nft_target_eval): NF_DROP for REJECT, NF_ACCEPT for the NAT targets,
// NF_QUEUE with the queue number and bypass flag for NFQUEUE.
func kernelVerdict(v xtables.VerdictCode, r *xtables.Rule, tgt string) (uint32, string) {
	if r != nil && r.Target != nil && r.Target.Type != nil && r.Target.Type.Name == "NFQUEUE" {
		return nfqueueVerdict(tgt), ""
	}
	switch v {
	case xtables.VerdictCodeAccept:
		return nfAccept, ""
	case xtables.VerdictCodeDrop:
		return nfDrop, ""
	case xtables.VerdictCodeQueue:
		return nfQueue, ""
	case xtables.VerdictCodeStolen:
		return nfStolen, ""
	case xtables.VerdictCodeReturn:
		return nftReturn, ""
	}
	if r != nil && r.Target != nil && r.Target.Type == nil && !xtables.IsStandard(r.Target.Name) {
		if r.Goto() {
			return nftGoto, r.Target.Name
		}
		return nftJump, r.Target.Name
	}
	return nftContinue, ""
}

// nfqueueVerdict is NF_QUEUE_NR(queue) | NF_QUEUE, with the bypass flag
// (nfqueue_tg_v3). A balanced queue is chosen by a flow hash the twin
// cannot reproduce: the first queue of the range stands for it.
func nfqueueVerdict(save string) uint32 {
	f := strings.Fields(save)
	var q uint32
	v := nfQueue
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "--queue-num", "--queue-balance":
			if i+1 < len(f) {
				n, _ := strconv.ParseUint(strings.SplitN(f[i+1], ":", 2)[0], 10, 16)
				q = uint32(n)
			}
		case "--queue-bypass":
			v |= nfQueueBypass
		}
	}
	return q<<16 | v
}

// RuleText is the rule as xtables-monitor prints it after "-4 -t TABLE "
// ("-A CHAIN ..."), or the lines it writes to standard error instead
// before exiting (IPv6 rules it cannot read, see Monitor).
func (m *Monitor) RuleText(f xtables.Family, table string, c *xtables.Chain, r *xtables.Rule) (string, []string) {
	if r == nil {
		return "", nil
	}
	ctx := &xtables.Context{Family: f, Table: table, Chain: c.Name, Names: m.names, Numeric: true}
	if f != xtables.IPv6 {
		return string(iptables.AppendRuleSpec([]byte("-A "+c.Name), r, ctx, false)), nil
	}
	return ipv6RuleText(r, ctx)
}

// IPv6-only extensions in iptables 1.8.9: libxtables initialised for IPv4
// does not find them (xtables_find_match/target by name and family).
var ipv6OnlyMatches = map[string]bool{
	"icmp6": true, "hl": true, "dst": true, "eui64": true, "frag": true, "hbh": true,
	"ipv6header": true, "mh": true, "rt": true, "srh": true,
}

var ipv6OnlyTargets = map[string]bool{"HL": true, "DNPT": true, "SNPT": true}

// ip6RejectAsIPv4 is the IPv4 REJECT save table indexed by the IPv6
// --reject-with value (enum ip6t_reject_with), as libipt_REJECT prints it
// (index 4, IPT_ICMP_ECHOREPLY, is compiled out: "(null)").
var ip6RejectAsIPv4 = map[string]string{
	"icmp6-no-route":         "icmp-net-unreachable",
	"icmp6-adm-prohibited":   "icmp-host-unreachable",
	"icmp6-not-neighbor":     "icmp-proto-unreachable",
	"icmp6-addr-unreachable": "icmp-port-unreachable",
	"icmp6-port-unreachable": "(null)",
	"tcp-reset":              "icmp-host-prohibited",
	"icmp6-policy-fail":      "tcp-reset",
	"icmp6-reject-route":     "icmp-admin-prohibited",
}

// ipv6RuleText renders an IPv6 rule as xtables-monitor 1.8.9 reads it
// back (nft_rule_to_iptables_command_state with h->family = NFPROTO_IPV4).
func ipv6RuleText(r *xtables.Rule, ctx *xtables.Context) (string, []string) {
	var errs []string
	nr := *r
	nr.Matches = nil
	for _, mt := range r.Matches {
		name := mt.Type.Name
		switch {
		case ipv6OnlyMatches[name]:
			errs = append(errs, "Error: match extension not found")
			continue
		case name == "tcp" || name == "udp":
			native, cmps := nativePorts(name, string(mt.Info.Save(nil, ctx)))
			if native {
				// Each cmp on the transport header fails; ranges are
				// read as nothing (nft_parse_transport, nft_parse_range).
				for i := 0; i < cmps; i++ {
					errs = append(errs, "Error: unsupported layer 4 protocol value")
				}
				continue
			}
		}
		nr.Matches = append(nr.Matches, mt)
	}
	if t := r.Target; t != nil && t.Type != nil && ipv6OnlyTargets[t.Type.Name] {
		errs = append(errs, "Error: target extension not found")
	}
	if len(errs) > 0 {
		return "", append(errs,
			"xtables-monitor v1.8.9 (nf_tables): Parsing nftables rule failed",
			"Perhaps xtables-monitor or your kernel needs to be upgraded.")
	}
	text := string(iptables.AppendRuleSpec([]byte("-A "+ctx.Chain), &nr, ctx, false))
	if t := r.Target; t != nil && t.Type != nil && t.Type.Name == "REJECT" {
		const opt = " --reject-with "
		if i := strings.LastIndex(text, opt); i >= 0 {
			name := text[i+len(opt):]
			if v4, ok := ip6RejectAsIPv4[name]; ok {
				text = text[:i+len(opt)] + v4
			}
		}
	}
	return text, nil
}

// nativePorts reports whether iptables-nft 1.8.9 turns a tcp or udp match
// into payload expressions (add_nft_tcp/add_nft_udp: ports and TCP flags
// only), and how many of them end in a cmp (add_nft_tcpudp,
// expr_gen_range_cmp16: an exact port, ":N", both exact ports in one
// 4-byte compare, the flags) rather than a range.
func nativePorts(name, save string) (native bool, cmps int) {
	type ports struct {
		lo, hi uint64
		inv    bool
		set    bool
	}
	var src, dst ports
	flags := false
	f := strings.Fields(save)
	inv := false
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "!":
			inv = true
			continue
		case "--sport", "--source-port", "--dport", "--destination-port":
			if i+1 >= len(f) {
				return false, 0
			}
			p := ports{inv: inv, set: true, hi: 0xffff}
			a, b, rng := strings.Cut(f[i+1], ":")
			p.lo, _ = strconv.ParseUint(a, 10, 16)
			if !rng {
				p.hi = p.lo
			} else if b != "" {
				p.hi, _ = strconv.ParseUint(b, 10, 16)
			}
			if f[i] == "--sport" || f[i] == "--source-port" {
				src = p
			} else {
				dst = p
			}
			i++
		case "--tcp-flags":
			flags = true
			i += 2
		case "--syn":
			flags = true
		default:
			// --tcp-option and anything else stay an xt match.
			return false, 0
		}
		inv = false
	}
	if !src.set && !dst.set && !flags {
		return false, 0 // all zero: kept as an xt match
	}
	if flags {
		cmps++
	}
	exact := func(p ports) bool { return p.set && p.lo != 0 && p.lo == p.hi }
	if exact(src) && exact(dst) && src.inv == dst.inv {
		return true, cmps + 1
	}
	for _, p := range []ports{src, dst} {
		if !p.set || (p.lo == 0 && p.hi == 0xffff) {
			continue
		}
		if p.lo == p.hi || p.lo == 0 {
			cmps++
		}
	}
	return true, cmps
}

// WriteTrace writes what xtables-monitor --trace prints for the run t:
// the events of the packets whose nf_trace flag was set, in order. When
// the real tool would have exited on a rule it cannot read, the output
// stops there and the error is a *MonitorExit.
func (m *Monitor) WriteTrace(w io.Writer, t *Trace) error {
	wr := &monitorWriter{m: m, dumped: map[int]bool{}}
	for _, p := range t.Packets {
		if _, nested := m.parent[p]; nested {
			continue
		}
		if !wr.packet(p) {
			break
		}
	}
	// Packets generated by an event that printed nothing come at their
	// own place.
	if wr.exit == nil {
		for _, p := range t.Packets {
			if sp, nested := m.parent[p]; nested && !wr.done[p] && len(m.events[sp.p]) <= sp.ev {
				if !wr.packet(p) {
					break
				}
			}
		}
	}
	if _, err := w.Write(wr.b.Bytes()); err != nil {
		return err
	}
	if wr.exit != nil {
		return wr.exit
	}
	if wr.traced || wr.events || !tracedRun(t) {
		return nil
	}
	return errNotAttached
}

// monitorWriter renders the packets of one WriteTrace.
type monitorWriter struct {
	m      *Monitor
	b      bytes.Buffer
	dumped map[int]bool
	done   map[*TracePacket]bool
	exit   *MonitorExit
	traced bool
	events bool
}

// packet renders p's events and, before each, the packets generated in
// it; false when xtables-monitor stopped.
func (wr *monitorWriter) packet(p *TracePacket) bool {
	if wr.done == nil {
		wr.done = map[*TracePacket]bool{}
	}
	wr.done[p] = true
	m := wr.m
	evs := m.events[p]
	if len(evs) > 0 {
		wr.events = true
	}
	id := m.ids[p]
	for i, ev := range evs {
		for c, sp := range m.parent {
			if sp.p == p && sp.ev == i && !wr.done[c] {
				if !wr.packet(c) {
					return false
				}
			}
		}
		if !ev.Packet.Trace {
			continue
		}
		wr.traced = true
		b := &wr.b
		if !wr.dumped[ev.Walk] {
			wr.dumped[ev.Walk] = true
			if ev.Kind != MonitorPolicy {
				appendPacketLine(b, ev, id)
			}
		}
		switch ev.Kind {
		case MonitorRule:
			fmt.Fprintf(b, " TRACE: %d %08x %s:%s:rule:0x%x:", famNum(ev.Family), id, ev.Table, ev.Chain, ev.Handle)
			appendVerdict(b, ev.Verdict, ev.Target)
			b.WriteString(" -")
			b.WriteByte("46"[famIndex(ev.Family)])
			b.WriteString(" -t ")
			b.WriteString(ev.Table)
			b.WriteByte(' ')
			if len(ev.Errors) > 0 {
				wr.exit = &MonitorExit{Code: 3, Stderr: strings.Join(ev.Errors, "\n") + "\n"}
				return false
			}
			b.WriteString(ev.Rule)
			b.WriteByte('\n')
		case MonitorPolicy:
			fmt.Fprintf(b, " TRACE: %d %08x %s:%s:policy:", famNum(ev.Family), id, ev.Table, ev.Chain)
			appendVerdict(b, ev.Verdict, "")
			b.WriteByte('\n')
		}
	}
	return true
}

// tracedRun says whether a TRACE rule matched in t (then events were due).
func tracedRun(t *Trace) bool {
	for _, p := range t.Packets {
		for _, s := range p.Steps {
			if s.Kind == "rule" && s.Matched && strings.HasPrefix(s.Verdict, "TRACE") {
				return true
			}
		}
	}
	return false
}

func (m *Monitor) id(n int) uint32 {
	if m.ID != nil {
		return m.ID(n)
	}
	// splitmix64 of the index: fixed, and as scattered as the kernel's.
	z := uint64(n+1) * 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return uint32(z ^ z>>31)
}

// famNum is the NFPROTO number xtables-monitor prints (2 or 10).
func famNum(f xtables.Family) int {
	if f == xtables.IPv6 {
		return 10
	}
	return 2
}

// appendVerdict is print_verdict: the name and a space.
func appendVerdict(b *bytes.Buffer, v uint32, target string) {
	switch v {
	case nfAccept:
		b.WriteString("ACCEPT")
	case nfDrop:
		b.WriteString("DROP")
	case nfQueue:
		b.WriteString("QUEUE")
	case nfStolen:
		b.WriteString("STOLEN")
	case 0xfffffffe:
		b.WriteString("BREAK")
	case nftContinue:
		b.WriteString("CONTINUE")
	case nftGoto:
		b.WriteString("GOTO")
		if target != "" {
			b.WriteString(":" + target)
		}
	case nftJump:
		b.WriteString("JUMP")
		if target != "" {
			b.WriteString(":" + target)
		}
	default:
		fmt.Fprintf(b, "0x%x", v)
	}
	b.WriteByte(' ')
}

// appendPacketLine is trace_print_packet.
func appendPacketLine(b *bytes.Buffer, ev MonitorEvent, id uint32) {
	pk := &ev.Packet
	fmt.Fprintf(b, "PACKET: %d %08x ", famNum(ev.Family), id)
	if pk.In != "" {
		fmt.Fprintf(b, "IN=%s ", pk.In)
	}
	if pk.Out != "" {
		fmt.Fprintf(b, "OUT=%s ", pk.Out)
	}
	if len(pk.LL) > 0 {
		ll := pk.LL
		if len(ll) > 20 {
			ll = ll[len(ll)-20:] // NFT_TRACETYPE_LL_HSIZE
		}
		switch pk.InType {
		case arphrdEther:
			if len(ll) >= 14 {
				fmt.Fprintf(b, "MACSRC=%s MACDST=%s MACPROTO=%04x ", etherNtoa(ll[6:12]), etherNtoa(ll[0:6]), binary.BigEndian.Uint16(ll[12:14]))
			}
		case arphrdLoopback:
			b.WriteString("LOOPBACK ")
		default:
			// An Ethernet header with no in device (no IIFTYPE: 0).
			fmt.Fprintf(b, "LL=0x%x ", pk.InType)
			for _, c := range ll {
				appendSignedHex(b, c, false)
			}
			b.WriteByte(' ')
		}
	}
	thoff := iphdr.TransportOffset(ev.Family, pk.IP)
	if !validNetwork(ev.Family, pk.IP) {
		thoff = 0 // nft_set_pktinfo_unspec
	}
	nh := pk.IP[:min(thoff, 40, len(pk.IP))] // NFT_TRACETYPE_NETWORK_HSIZE
	var l4 byte
	if len(nh) > 0 {
		if ev.Family == xtables.IPv6 {
			l4 = appendIPv6(b, nh)
		} else {
			l4 = appendIPv4(b, nh)
		}
	}
	if thoff <= len(pk.IP) {
		th := pk.IP[thoff:]
		th = th[:min(len(th), 20)] // NFT_TRACETYPE_TRANSPORT_HSIZE
		appendTransport(b, l4, th)
	}
	if pk.Mark != 0 {
		fmt.Fprintf(b, "MARK=0x%x ", pk.Mark)
	}
	b.WriteByte('\n')
}

// validNetwork is what nft_set_pktinfo_ipv4/ipv6_validate check before
// giving the packet a transport offset.
func validNetwork(f xtables.Family, ip []byte) bool {
	if f == xtables.IPv6 {
		if len(ip) < 40 || ip[0]>>4 != 6 || int(binary.BigEndian.Uint16(ip[4:]))+40 > len(ip) {
			return false
		}
		_, _, _, err := iphdr.IPv6FindHdr(ip, -1, true)
		return err == iphdr.FindOK
	}
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[0]&0xf < 5 {
		return false
	}
	n := int(binary.BigEndian.Uint16(ip[2:]))
	return n <= len(ip) && n >= int(ip[0]&0xf)*4
}

func appendIPv4(b *bytes.Buffer, nh []byte) byte {
	if len(nh) < 20 {
		return 0
	}
	src, _ := netip.AddrFromSlice(nh[12:16])
	dst, _ := netip.AddrFromSlice(nh[16:20])
	frag := binary.BigEndian.Uint16(nh[6:])
	fmt.Fprintf(b, "SRC=%s DST=%s LEN=%d TOS=0x%x TTL=%d ID=%d ", src, dst, binary.BigEndian.Uint16(nh[2:]), nh[1], nh[8], binary.BigEndian.Uint16(nh[4:]))
	if frag&0x8000 != 0 {
		b.WriteString("CE ")
	}
	if frag&0x4000 != 0 {
		b.WriteString("DF ")
	}
	if frag&0x2000 != 0 {
		b.WriteString("MF ")
	}
	if frag&0x1fff != 0 {
		fmt.Fprintf(b, "FRAG:%d ", frag&0x1fff)
	}
	if hl := int(nh[0]&0xf) * 4; hl > 20 {
		// The options as signed chars with %02X; only what the 40-byte
		// network header attribute holds is known.
		b.WriteString("OPT (")
		for _, c := range nh[20:min(hl, len(nh))] {
			appendSignedHex(b, c, true)
		}
		b.WriteString(") ")
	}
	return nh[9]
}

func appendIPv6(b *bytes.Buffer, nh []byte) byte {
	if len(nh) < 40 {
		return 0
	}
	w := binary.BigEndian.Uint32(nh)
	fmt.Fprintf(b, "SRC=%s DST=%s LEN=%d TC=%d HOPLIMIT=%d FLOWLBL=%d ",
		inet6Ntop(nh[8:24]), inet6Ntop(nh[24:40]),
		// ntohs(ip6_plen) + sizeof(struct iphdr): 20, not 40.
		int(binary.BigEndian.Uint16(nh[4:]))+20, (w&0x0ff00000)>>20, nh[7], w&0xfffff)
	return nh[6]
}

func appendTransport(b *bytes.Buffer, l4 byte, th []byte) {
	switch l4 {
	case packet.ProtoTCP:
		if len(th) < 20 {
			return
		}
		fmt.Fprintf(b, "SPORT=%d DPORT=%d ", binary.BigEndian.Uint16(th), binary.BigEndian.Uint16(th[2:]))
		fl := th[13]
		for _, f := range []struct {
			bit  byte
			name string
		}{{0x02, "SYN"}, {0x10, "ACK"}, {0x01, "FIN"}, {0x04, "RST"}, {0x08, "PSH"}, {0x20, "URG"}} {
			if fl&f.bit != 0 {
				b.WriteString(f.name + " ")
			}
		}
	case packet.ProtoUDP, 33, 132, 136: // UDP, DCCP, SCTP, UDP-Lite
		if len(th) < 4 {
			return
		}
		fmt.Fprintf(b, "SPORT=%d DPORT=%d ", binary.BigEndian.Uint16(th), binary.BigEndian.Uint16(th[2:]))
	}
}

// appendSignedHex prints a byte as printf("%02x") of a (signed) char
// does: bytes from 0x80 are sign-extended to eight digits.
func appendSignedHex(b *bytes.Buffer, c byte, upper bool) {
	format := "%02x"
	if upper {
		format = "%02X"
	}
	if c >= 0x80 {
		fmt.Fprintf(b, format, uint32(int32(int8(c))))
		return
	}
	fmt.Fprintf(b, format, c)
}

// etherNtoa is glibc's ether_ntoa: hex without leading zeros.
func etherNtoa(m []byte) string {
	return fmt.Sprintf("%x:%x:%x:%x:%x:%x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// inet6Ntop is glibc's inet_ntop for IPv6: RFC 5952 compression, and the
// dotted form for an address whose first six words (only) are zero.
func inet6Ntop(a []byte) string {
	addr, _ := netip.AddrFromSlice(a)
	if binary.BigEndian.Uint64(a) == 0 && binary.BigEndian.Uint32(a[8:]) == 0 && binary.BigEndian.Uint16(a[12:]) != 0 {
		return "::" + netip.AddrFrom4([4]byte(a[12:16])).String()
	}
	return addr.String()
}

var _ Observer = (*monitorObserver)(nil)
