package stack

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Trace records everything a host did with the packets of one run:
// the packet handed in first, then each packet the host generated or
// looped back while handling it. It implements Observer. Its JSON form is
// documented in docs/trace.md.
type Trace struct {
	Packets []*TracePacket `json:"packets"`
	// Syslog, when set, frames LOG lines as a syslog file shows them.
	Syslog func(line []byte) string `json:"-"`

	names   xtables.Resolver
	cur     *TracePacket
	outer   []*TracePacket // packets whose handling a nested one interrupted
	hooks   []string
	hook    string
	pending []TraceStep // LOG lines of the rule being evaluated
}

// TracePacket is one packet's way through the host.
type TracePacket struct {
	// Origin is "input" (arrived on In), "output" (sent by a local
	// socket) or what generated it ("tcp reset", "icmp error", "echo
	// reply", "syn-ack", "loopback").
	Origin  string       `json:"origin"`
	In      string       `json:"in,omitempty"`
	Summary string       `json:"summary"`
	Steps   []TraceStep  `json:"steps"`
	Fate    string       `json:"fate"`
	Reason  string       `json:"reason,omitempty"`
	Rule    *TraceRule   `json:"decided_by,omitempty"`
	Log     []string     `json:"log"`
	Emitted []TraceFrame `json:"emitted"`
	Conn    string       `json:"conntrack,omitempty"`
}

// TraceStep is one thing that happened: entering a hook, a rule
// evaluated, a policy, a routing decision, conntrack, NAT.
type TraceStep struct {
	Kind    string     `json:"kind"` // hook, rule, policy, return, route, conntrack, nat, log, emit
	Hook    string     `json:"hook,omitempty"`
	Rule    *TraceRule `json:"rule,omitempty"`
	Matched bool       `json:"matched,omitempty"`
	Verdict string     `json:"verdict,omitempty"`
	Text    string     `json:"text,omitempty"`
}

// TraceRule names a rule (Num 0: the chain's policy).
type TraceRule struct {
	Family string `json:"family"`
	Table  string `json:"table"`
	Chain  string `json:"chain"`
	Num    int    `json:"num"`
	Text   string `json:"text"`
}

// TraceFrame is a frame the host transmitted.
type TraceFrame struct {
	Dev     string `json:"dev"`
	Summary string `json:"summary"`
	Hex     string `json:"hex"`
}

// NewTrace returns a recorder; names resolves protocol names in rule
// texts (nil: numeric).
func NewTrace(names xtables.Resolver) *Trace { return &Trace{names: names} }

// Start begins the packet handed to the host (Receive or Send).
func (t *Trace) Start(origin, in string, ip []byte) {
	p := &TracePacket{Origin: origin, In: in, Summary: summary(ip), Log: []string{}, Emitted: []TraceFrame{}}
	t.Packets = append(t.Packets, p)
	t.cur = p
}

// Finish records the fate of the packet started last.
func (t *Trace) Finish(r Result) { t.end(t.Packets[0], r) }

func summary(ip []byte) string {
	var p packet.Packet
	if err := p.Decode(ip); err != nil {
		return "undecodable: " + err.Error()
	}
	return p.String()
}

func (t *Trace) Begin(origin, in string, pk *packet.Packet) {
	p := &TracePacket{Origin: origin, In: in, Summary: pk.String(), Log: []string{}, Emitted: []TraceFrame{}}
	t.Packets = append(t.Packets, p)
	t.outer = append(t.outer, t.cur)
	t.hooks = append(t.hooks, t.hook)
	t.cur = p
}

// End finishes a generated packet and returns to the one it interrupted
// (a redirect is sent while the packet it is about waits).
func (t *Trace) End(r Result) {
	t.end(t.cur, r)
	if n := len(t.outer); n > 0 {
		if o := t.outer[n-1]; o != nil {
			t.cur, t.hook = o, t.hooks[n-1]
		}
		t.outer, t.hooks = t.outer[:n-1], t.hooks[:n-1]
	}
}

func (t *Trace) end(p *TracePacket, r Result) {
	p.Fate, p.Reason = r.Fate.String(), r.Reason
	if r.Decision.Chain != nil {
		fam := "ipv4"
		if r.Decision.Rule != nil || r.Decision.Chain != nil {
			fam = t.famOf(p)
		}
		p.Rule = t.rule(fam, r.Table, r.Decision.Chain, r.Decision.Num, r.Decision.Rule)
	}
}

func (t *Trace) famOf(p *TracePacket) string {
	if strings.HasPrefix(p.Summary, "IP6 ") {
		return "ipv6"
	}
	return "ipv4"
}

func (t *Trace) rule(fam, table string, c *xtables.Chain, num int, r *xtables.Rule) *TraceRule {
	tr := &TraceRule{Family: fam, Table: table, Chain: c.Name, Num: num}
	if r == nil {
		tr.Text = "-P " + c.Name + " " + c.Policy
		return tr
	}
	f := xtables.IPv4
	if fam == "ipv6" {
		f = xtables.IPv6
	}
	ctx := &xtables.Context{Family: f, Table: table, Chain: c.Name, Names: t.names, Numeric: true}
	tr.Text = string(iptables.AppendRuleSpec([]byte("-A "+c.Name), r, ctx, false))
	return tr
}

func (t *Trace) Hook(f xtables.Family, hook int) {
	t.hook = xtables.HookNames[hook]
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: "hook", Hook: t.hook})
}

func (t *Trace) Rule(p *xtables.Program, c *xtables.Chain, num int, r *xtables.Rule, matched bool, v xtables.VerdictCode) {
	st := TraceStep{Kind: "rule", Hook: t.hook, Rule: t.rule(famName(p.Family), p.Table.Name, c, num, r), Matched: matched}
	if matched {
		st.Verdict = verdictName(v, r)
	}
	t.cur.Steps = append(t.cur.Steps, st)
	t.flush()
}

func (t *Trace) Return(p *xtables.Program, c *xtables.Chain) {
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: "return", Hook: t.hook, Text: p.Table.Name + " " + c.Name})
}

func (t *Trace) Policy(p *xtables.Program, c *xtables.Chain, v xtables.VerdictCode) {
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: "policy", Hook: t.hook,
		Rule: t.rule(famName(p.Family), p.Table.Name, c, 0, nil), Matched: true, Verdict: c.Policy})
}

func (t *Trace) Route(dst netip.Addr, r *host.Route, err error) {
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: "route", Text: routeText(dst, r, err)})
}

func (t *Trace) Emit(dev string, frame []byte) {
	var p packet.Packet
	sum := ""
	if err := p.DecodeEthernet(frame); err != nil {
		sum = "undecodable: " + err.Error()
	} else {
		sum = p.String()
	}
	t.cur.Emitted = append(t.cur.Emitted, TraceFrame{Dev: dev, Summary: sum, Hex: hex.EncodeToString(frame)})
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: "emit", Text: dev + " " + sum})
}

func (t *Trace) Unresolved(dev string, nexthop netip.Addr) {
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: "neighbour", Text: fmt.Sprintf("%s on %s unresolved: not sent", nexthop, dev)})
}

// Log records a LOG line. The target runs before the walk reports its
// rule, so the line waits for the rule's step and follows it.
func (t *Trace) Log(level uint8, line []byte) {
	text := string(line)
	if t.Syslog != nil {
		text = t.Syslog(line)
	}
	t.cur.Log = append(t.cur.Log, text)
	t.pending = append(t.pending, TraceStep{Kind: "log", Text: text})
}

func (t *Trace) flush() {
	if len(t.pending) > 0 {
		t.cur.Steps = append(t.cur.Steps, t.pending...)
		t.pending = t.pending[:0]
	}
}

// Note records a step of the path that is not a rule (conntrack, NAT).
func (t *Trace) Note(kind, text string) {
	if t.cur == nil {
		return
	}
	t.cur.Steps = append(t.cur.Steps, TraceStep{Kind: kind, Hook: t.hook, Text: text})
	if kind == "conntrack" || kind == "nat" {
		// The packet's connection as it stands last.
		if i := strings.Index(text, ": "); i >= 0 {
			t.cur.Conn = text[i+2:]
		}
	}
}

func famName(f xtables.Family) string {
	if f == xtables.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

func verdictName(v xtables.VerdictCode, r *xtables.Rule) string {
	switch v {
	case xtables.VerdictCodeAccept:
		return "ACCEPT"
	case xtables.VerdictCodeDrop:
		if r.Target != nil && r.Target.Type != nil {
			return r.Target.Type.Name + " (drop)"
		}
		return "DROP"
	case xtables.VerdictCodeQueue:
		return "QUEUE"
	case xtables.VerdictCodeStolen:
		return "STOLEN"
	case xtables.VerdictCodeReturn:
		return "RETURN"
	}
	if r.Target == nil {
		return "continue"
	}
	if r.Target.Type == nil {
		if r.Goto() {
			return "goto " + r.Target.Name
		}
		return "jump " + r.Target.Name
	}
	return r.Target.Type.Name + " (continue)"
}

func routeText(dst netip.Addr, r *host.Route, err error) string {
	if err != nil {
		if errors.Is(err, host.ErrNetUnreach) {
			return fmt.Sprintf("%s: no route (Network is unreachable)", dst)
		}
		return fmt.Sprintf("%s: %v", dst, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", dst)
	switch r.Type {
	case host.RTLocal:
		b.WriteString("local")
	case host.RTBroadcast:
		b.WriteString("broadcast")
	default:
		b.WriteString("unicast")
	}
	fmt.Fprintf(&b, " %s", r.Dst)
	if r.Gw.IsValid() {
		fmt.Fprintf(&b, " via %s", r.Gw)
	}
	if r.Table != host.TableMain && r.Table != host.TableLocal {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	return b.String()
}

// WriteText renders the trace for a person.
func (t *Trace) WriteText(w io.Writer) error {
	var b strings.Builder
	for i, p := range t.Packets {
		if i > 0 {
			b.WriteString("\n")
		}
		switch p.Origin {
		case "input":
			fmt.Fprintf(&b, "packet in %s: %s\n", p.In, p.Summary)
		case "output":
			fmt.Fprintf(&b, "packet out: %s\n", p.Summary)
		default:
			fmt.Fprintf(&b, "generated %s: %s\n", p.Origin, p.Summary)
		}
		for _, s := range p.Steps {
			switch s.Kind {
			case "hook":
				fmt.Fprintf(&b, "  %s\n", s.Hook)
			case "rule":
				res := "no match"
				if s.Matched {
					res = "match → " + s.Verdict
				}
				fmt.Fprintf(&b, "    %s %s #%d  %s  : %s\n", s.Rule.Table, s.Rule.Chain, s.Rule.Num, s.Rule.Text, res)
			case "policy":
				fmt.Fprintf(&b, "    %s %s policy %s\n", s.Rule.Table, s.Rule.Chain, s.Verdict)
			case "return":
				fmt.Fprintf(&b, "    %s: end of chain, return\n", s.Text)
			case "route":
				fmt.Fprintf(&b, "  routing: %s\n", s.Text)
			case "log":
				fmt.Fprintf(&b, "    LOG %s\n", s.Text)
			case "emit":
				fmt.Fprintf(&b, "  sent on %s\n", s.Text)
			default:
				fmt.Fprintf(&b, "    %s: %s\n", s.Kind, s.Text)
			}
		}
		fmt.Fprintf(&b, "  fate: %s", p.Fate)
		if p.Rule != nil {
			fmt.Fprintf(&b, " by %s %s", p.Rule.Table, p.Rule.Chain)
			if p.Rule.Num > 0 {
				fmt.Fprintf(&b, " rule %d: %s", p.Rule.Num, p.Rule.Text)
			} else {
				b.WriteString(" policy")
			}
		}
		if p.Reason != "" {
			fmt.Fprintf(&b, " (%s)", p.Reason)
		}
		b.WriteString("\n")
		if p.Conn != "" {
			fmt.Fprintf(&b, "  conntrack: %s\n", p.Conn)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var _ Observer = (*Trace)(nil)
