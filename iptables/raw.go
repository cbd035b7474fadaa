package iptables

import (
	"io"
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// RawTable is a table of the state file as text: the rule specs exactly as
// iptables-save prints them, not parsed. The state file is written from
// parsed rules by the same printer, so listings that only reprint rules
// (iptables-save, -S) can be made from it without parsing a rule.
type RawTable struct {
	Name   string
	Chains []*RawChain // built-in chains first (hook order, all of them), then user chains by name
}

// RawChain is a chain of a RawTable.
type RawChain struct {
	Name     string
	Builtin  bool
	Policy   string
	Counters xtables.Counters
	Rules    []RawRule
}

// RawRule is one rule: its counters and its spec (" -p tcp ... -j X",
// starting with a space, after "-A CHAIN").
type RawRule struct {
	Counters xtables.Counters
	Spec     string
}

// AppendSaveRaw appends a raw table in iptables-save format, as
// AppendSaveTable does for a parsed one.
func AppendSaveRaw(b []byte, t *RawTable, counters bool) []byte {
	return appendSaveRaw(&flushWriter{}, reserve(b, t, ""), t, counters)
}

// WriteSaveRaw writes what AppendSaveRaw appends to w, through a bounded
// buffer.
func WriteSaveRaw(w io.Writer, t *RawTable, counters bool) error {
	fw := &flushWriter{w: w, b: make([]byte, 0, 1<<16)}
	fw.b = appendSaveRaw(fw, fw.b, t, counters)
	return fw.flush()
}

func appendSaveRaw(fw *flushWriter, b []byte, t *RawTable, counters bool) []byte {
	b = append(b, '*')
	b = append(b, t.Name...)
	b = append(b, '\n')
	for _, c := range t.Chains {
		b = append(b, ':')
		b = append(b, c.Name...)
		b = append(b, ' ')
		if c.Builtin {
			b = append(b, c.Policy...)
		} else {
			b = append(b, '-')
		}
		b = appendCounterPair(b, " [", c.Counters, "]\n")
		b = fw.handOver(b)
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if counters {
				b = appendCounterPair(b, "[", r.Counters, "] ")
			}
			b = append(b, "-A "...)
			b = append(b, c.Name...)
			b = append(b, r.Spec...)
			b = append(b, '\n')
			b = fw.handOver(b)
		}
	}
	return append(b, "COMMIT\n"...)
}

// AppendListRulesRaw appends `iptables -S [chain]` (without -v) for a raw
// table, as AppendListRules does for a parsed one; ok is false when the
// chain does not exist.
func AppendListRulesRaw(b []byte, t *RawTable, chain string) ([]byte, bool) {
	b = reserve(b, t, chain)
	found := false
	for _, c := range t.Chains {
		if chain == "" || c.Name == chain {
			found = true
			b = appendRawHead(b, c)
		}
	}
	for _, c := range t.Chains {
		if chain != "" && c.Name != chain {
			continue
		}
		for _, r := range c.Rules {
			b = append(b, "-A "...)
			b = append(b, c.Name...)
			b = append(b, r.Spec...)
			b = append(b, '\n')
		}
	}
	return b, found
}

func appendRawHead(b []byte, c *RawChain) []byte {
	if !c.Builtin {
		b = append(b, "-N "...)
		b = append(b, c.Name...)
		return append(b, '\n')
	}
	b = append(b, "-P "...)
	b = append(b, c.Name...)
	b = append(b, ' ')
	b = append(b, c.Policy...)
	return append(b, '\n')
}

func appendCounterPair(b []byte, pre string, c xtables.Counters, post string) []byte {
	b = append(b, pre...)
	b = strconv.AppendUint(b, c.Packets, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, c.Bytes, 10)
	return append(b, post...)
}

// reserve grows b once for what the table will print.
func reserve(b []byte, t *RawTable, chain string) []byte {
	n := 64
	for _, c := range t.Chains {
		if chain != "" && c.Name != chain {
			continue
		}
		n += 2*len(c.Name) + 64
		for _, r := range c.Rules {
			n += len(c.Name) + len(r.Spec) + 48
		}
	}
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b
}
