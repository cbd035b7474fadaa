package sim

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Expect is an assertion on a step: its outcome, a line of its output, a
// LOG line, a capture line (each as a substring, or its absence), or a
// rule's counters after it.
type Expect struct {
	Kind    string // outcome, output, log, capture, counter
	Not     bool
	Text    string
	Host    string // log: only this host's lines
	Link    string // capture: only this link's lines
	Counter *CounterExpect

	at node
}

// CounterExpect names a rule (Rule 0: the chain's policy) and the
// counts it must show, as iptables -L -v -x would.
type CounterExpect struct {
	Host, Table, Chain string
	Rule               int
	IPv6               bool
	Packets, Bytes     int64 // -1: not checked
}

// ExpectResult is an assertion and whether it held.
type ExpectResult struct {
	Expect string `json:"expect"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

var expectKinds = []string{"outcome", "output", "no-output", "log", "no-log", "capture", "no-capture", "counter"}

func parseExpects(n node, t *Topology) ([]Expect, error) {
	if !n.isNull() && n.n.Kind == yaml.ScalarNode {
		s, err := n.str()
		if err != nil {
			return nil, err
		}
		return []Expect{{Kind: "outcome", Text: s, at: n}}, nil
	}
	items, err := n.list()
	if err != nil {
		return nil, err
	}
	var out []Expect
	for _, it := range items {
		e, err := parseExpect(it, t)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func parseExpect(n node, t *Topology) (Expect, error) {
	e := Expect{at: n}
	if !n.isNull() && n.n.Kind == yaml.ScalarNode {
		s, _ := n.str()
		e.Kind, e.Text = "outcome", s
		return e, nil
	}
	f, err := n.fields(append(expectKinds, "host", "link")...)
	if err != nil {
		return e, err
	}
	var kind string
	for _, k := range expectKinds {
		if _, ok := f[k]; ok {
			if kind != "" {
				return e, n.errf("one assertion per item (%s and %s)", kind, k)
			}
			kind = k
		}
	}
	if kind == "" {
		return e, n.errf("an assertion is one of %s", strings.Join(expectKinds, ", "))
	}
	e.Kind = strings.TrimPrefix(kind, "no-")
	e.Not = strings.HasPrefix(kind, "no-")
	if h, ok := f["host"]; ok {
		if e.Host, err = h.str(); err != nil {
			return e, err
		}
		if t.Host(e.Host) == nil {
			return e, h.errf("no host %q", e.Host)
		}
		if e.Kind != "log" {
			return e, h.errf("host goes with log (a counter names its host inside)")
		}
	}
	if l, ok := f["link"]; ok {
		if e.Link, err = l.str(); err != nil {
			return e, err
		}
		if t.Link(e.Link) == nil {
			return e, l.errf("no link %q", e.Link)
		}
		if e.Kind != "capture" {
			return e, l.errf("link goes with capture")
		}
	}
	v := f[kind]
	if kind == "counter" {
		c, err := parseCounter(v, t)
		if err != nil {
			return e, err
		}
		e.Counter = c
		return e, nil
	}
	if e.Text, err = v.str(); err != nil {
		return e, err
	}
	if e.Text == "" && e.Kind != "outcome" {
		return e, v.errf("empty text")
	}
	return e, nil
}

func parseCounter(n node, t *Topology) (*CounterExpect, error) {
	f, err := n.fields("host", "table", "chain", "rule", "family", "packets", "bytes")
	if err != nil {
		return nil, err
	}
	c := &CounterExpect{Table: "filter", Packets: -1, Bytes: -1}
	h, ok := f["host"]
	if !ok {
		return nil, n.errf("a counter needs its host")
	}
	if c.Host, err = h.str(); err != nil {
		return nil, err
	}
	if t.Host(c.Host) == nil {
		return nil, h.errf("no host %q", c.Host)
	}
	if v, ok := f["table"]; ok {
		if c.Table, err = v.str(); err != nil {
			return nil, err
		}
		switch c.Table {
		case "raw", "mangle", "nat", "filter", "security":
		default:
			return nil, v.errf("%q is not a table (raw, mangle, nat, filter, security)", c.Table)
		}
	}
	v, ok := f["chain"]
	if !ok {
		return nil, n.errf("a counter needs its chain")
	}
	if c.Chain, err = v.str(); err != nil {
		return nil, err
	}
	if v, ok := f["rule"]; ok {
		s, err := v.str()
		if err != nil {
			return nil, err
		}
		if s == "policy" {
			c.Rule = 0
		} else {
			r, err := v.integer(1, 1<<30)
			if err != nil {
				return nil, v.errf("rule is a rule number from 1, or \"policy\"")
			}
			c.Rule = int(r)
		}
	}
	if v, ok := f["family"]; ok {
		s, err := v.str()
		if err != nil {
			return nil, err
		}
		switch s {
		case "ipv4", "4":
		case "ipv6", "6":
			c.IPv6 = true
		default:
			return nil, v.errf("family is ipv4 or ipv6")
		}
	}
	for _, k := range []struct {
		key string
		dst *int64
	}{{"packets", &c.Packets}, {"bytes", &c.Bytes}} {
		if v, ok := f[k.key]; ok {
			if *k.dst, err = v.integer(0, 1<<62); err != nil {
				return nil, err
			}
		}
	}
	if c.Packets < 0 && c.Bytes < 0 {
		return nil, n.errf("say the packets or bytes the counter must show")
	}
	return c, nil
}

// String describes the assertion.
func (e *Expect) String() string {
	var b strings.Builder
	if e.Not {
		b.WriteString("no ")
	}
	b.WriteString(e.Kind)
	switch {
	case e.Counter != nil:
		c := e.Counter
		fmt.Fprintf(&b, " %s %s %s ", c.Host, c.Table, c.Chain)
		if c.Rule == 0 {
			b.WriteString("policy")
		} else {
			b.WriteString(strconv.Itoa(c.Rule))
		}
		if c.IPv6 {
			b.WriteString(" ipv6")
		}
		if c.Packets >= 0 {
			fmt.Fprintf(&b, " packets=%d", c.Packets)
		}
		if c.Bytes >= 0 {
			fmt.Fprintf(&b, " bytes=%d", c.Bytes)
		}
		return b.String()
	case e.Host != "":
		b.WriteString(" on " + e.Host)
	case e.Link != "":
		b.WriteString(" on " + e.Link)
	}
	if e.Kind == "outcome" {
		b.WriteString(" " + e.Text)
	} else {
		b.WriteString(" " + strconv.Quote(e.Text))
	}
	return b.String()
}

// check evaluates an assertion on a finished step.
func (n *Network) check(e *Expect, r *StepResult) ExpectResult {
	res := ExpectResult{Expect: e.String()}
	found := false
	switch e.Kind {
	case "outcome":
		res.OK = r.Outcome == e.Text
		if !res.OK {
			res.Detail = "outcome is " + r.Outcome
		}
		return res
	case "output":
		for _, l := range r.Output {
			if strings.Contains(l, e.Text) {
				found = true
				break
			}
		}
	case "log":
		for _, l := range r.Logs {
			if (e.Host == "" || l.Host == e.Host) && strings.Contains(l.Line, e.Text) {
				found = true
				break
			}
		}
	case "capture":
		for _, f := range r.Frames {
			if (e.Link == "" || f.Link == e.Link) && strings.Contains(f.Summary, e.Text) {
				found = true
				break
			}
		}
	case "counter":
		pk, by, err := n.counter(e.Counter)
		if err != nil {
			res.Detail = err.Error()
			return res
		}
		c := e.Counter
		res.OK = (c.Packets < 0 || uint64(c.Packets) == pk) && (c.Bytes < 0 || uint64(c.Bytes) == by)
		if !res.OK {
			res.Detail = fmt.Sprintf("counters are packets=%d bytes=%d", pk, by)
		}
		return res
	}
	res.OK = found != e.Not
	if !res.OK {
		if e.Not {
			res.Detail = "found"
		} else {
			res.Detail = "not found"
		}
	}
	return res
}

// counter reads a rule's or policy's counters.
func (n *Network) counter(c *CounterExpect) (uint64, uint64, error) {
	sh := n.byName[c.Host]
	rs := sh.h.Rules[0]
	if c.IPv6 {
		rs = sh.h.Rules[1]
	}
	if rs == nil {
		return 0, 0, fmt.Errorf("no rules")
	}
	t := rs.Table(c.Table)
	if t == nil || !t.Present {
		return 0, 0, fmt.Errorf("table %s does not exist", c.Table)
	}
	for _, ch := range t.Chains {
		if ch.Name != c.Chain {
			continue
		}
		if c.Rule == 0 {
			if !ch.Builtin {
				return 0, 0, fmt.Errorf("chain %s has no policy", c.Chain)
			}
			return ch.Counters.Packets, ch.Counters.Bytes, nil
		}
		if c.Rule > len(ch.Rules) {
			return 0, 0, fmt.Errorf("chain %s has %d rules", c.Chain, len(ch.Rules))
		}
		r := ch.Rules[c.Rule-1]
		return r.Counters.Packets, r.Counters.Bytes, nil
	}
	return 0, 0, fmt.Errorf("no chain %s in table %s", c.Chain, c.Table)
}
