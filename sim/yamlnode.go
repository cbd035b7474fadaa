package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a mistake in a topology file: where it is (file, line, column
// and the field's path such as hosts.r1.interfaces.eth0.mtu) and what is
// wrong.
type Error struct {
	File      string
	Line, Col int
	Field     string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// node is a YAML node with the path that leads to it, for errors.
type node struct {
	n    *yaml.Node
	path string
	file string
}

func (n node) errf(format string, args ...any) *Error {
	e := &Error{File: n.file, Field: n.path, Msg: fmt.Sprintf(format, args...)}
	if n.n != nil {
		e.Line, e.Col = n.n.Line, n.n.Column
	}
	return e
}

func (n node) child(c *yaml.Node, name string) node {
	p := name
	if n.path != "" {
		if strings.HasPrefix(name, "[") {
			p = n.path + name
		} else {
			p = n.path + "." + name
		}
	}
	for c.Kind == yaml.AliasNode && c.Alias != nil {
		c = c.Alias
	}
	return node{n: c, path: p, file: n.file}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a value"
	}
	return "nothing"
}

// pair is one key and value of a mapping, in file order.
type pair struct {
	key string
	k   node // the key node (for errors about the key itself)
	v   node
}

// mapping returns the pairs of a mapping node; an empty value (null) is
// an empty mapping.
func (n node) mapping() ([]pair, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.n.Kind != yaml.MappingNode {
		return nil, n.errf("want a mapping (key: value lines), not %s", kindName(n.n.Kind))
	}
	var out []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.n.Content); i += 2 {
		k, v := n.n.Content[i], n.n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, n.child(k, "?").errf("a key must be a plain value")
		}
		if k.Value == "<<" {
			return nil, n.child(k, "<<").errf("merge keys are not supported")
		}
		if seen[k.Value] {
			return nil, n.child(k, k.Value).errf("given twice")
		}
		seen[k.Value] = true
		out = append(out, pair{key: k.Value, k: n.child(k, k.Value), v: n.child(v, k.Value)})
	}
	return out, nil
}

// fields checks a mapping's keys against the allowed ones and returns the
// values by key.
func (n node) fields(allowed ...string) (map[string]node, error) {
	ps, err := n.mapping()
	if err != nil {
		return nil, err
	}
	out := make(map[string]node, len(ps))
	for _, p := range ps {
		ok := false
		for _, a := range allowed {
			if p.key == a {
				ok = true
				break
			}
		}
		if !ok {
			return nil, p.k.errf("unknown field (want one of %s)", strings.Join(allowed, ", "))
		}
		out[p.key] = p.v
	}
	return out, nil
}

func (n node) isNull() bool {
	return n.n == nil || n.n.Kind == yaml.ScalarNode && n.n.Tag == "!!null"
}

// list returns the items of a sequence; a single scalar counts as a list
// of one, null as an empty list.
func (n node) list() ([]node, error) {
	if n.isNull() {
		return nil, nil
	}
	switch n.n.Kind {
	case yaml.SequenceNode:
		out := make([]node, len(n.n.Content))
		for i, c := range n.n.Content {
			out[i] = n.child(c, "["+strconv.Itoa(i)+"]")
		}
		return out, nil
	case yaml.ScalarNode:
		return []node{n}, nil
	}
	return nil, n.errf("want a list, not %s", kindName(n.n.Kind))
}

func (n node) str() (string, error) {
	if n.n == nil || n.n.Kind != yaml.ScalarNode {
		k := yaml.Kind(0)
		if n.n != nil {
			k = n.n.Kind
		}
		return "", n.errf("want a value, not %s", kindName(k))
	}
	if n.n.Tag == "!!null" {
		return "", nil
	}
	return n.n.Value, nil
}

// strs is a list of strings (or one string).
func (n node) strs() ([]string, error) {
	items, err := n.list()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, err := it.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (n node) integer(min, max int64) (int64, error) {
	s, err := n.str()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, n.errf("%q is not a number", s)
	}
	if v < min || v > max {
		return 0, n.errf("%d is out of range (%d to %d)", v, min, max)
	}
	return v, nil
}

func (n node) uinteger() (uint64, error) {
	s, err := n.str()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, n.errf("%q is not a number", s)
	}
	return v, nil
}

func (n node) boolean() (bool, error) {
	s, err := n.str()
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, n.errf("%q is not true or false", s)
}

// duration reads "100us", "1.5s", "2m" (Go's notation).
func (n node) duration() (time.Duration, error) {
	s, err := n.str()
	if err != nil {
		return 0, err
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, n.errf("%v", err)
	}
	return d, nil
}

// ParseDuration reads a duration as Go writes it ("100us", "1.5s",
// "2m30s"), also accepting a bare number of seconds and "µs".
func ParseDuration(s string) (time.Duration, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return time.Duration(v * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 100us, 2s or 1m30s", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
