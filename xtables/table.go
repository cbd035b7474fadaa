package xtables

import (
	"sort"
	"sync/atomic"
)

// Hook numbers (enum nf_inet_hooks).
const (
	HookPrerouting = iota
	HookInput
	HookForward
	HookOutput
	HookPostrouting
	NumHooks
)

// HookNames are the built-in chain names of the hooks.
var HookNames = [NumHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

// TableNames lists the tables in the order iptables-save (nf_tables)
// prints them.
var TableNames = []string{"mangle", "security", "raw", "filter", "nat"}

// TableHooks gives the hooks of each table's built-in chains.
var TableHooks = map[string][]int{
	"raw":      {HookPrerouting, HookOutput},
	"mangle":   {HookPrerouting, HookInput, HookForward, HookOutput, HookPostrouting},
	"nat":      {HookPrerouting, HookInput, HookOutput, HookPostrouting},
	"filter":   {HookInput, HookForward, HookOutput},
	"security": {HookInput, HookForward, HookOutput},
}

// Chain is a built-in or user chain.
type Chain struct {
	Name    string
	Builtin bool
	Hook    int // for built-in chains
	// Created says whether a built-in chain exists in the kernel: with the
	// nf_tables backend built-in chains are made on first use, and some
	// errors differ before that.
	Created  bool
	Policy   string // ACCEPT or DROP for built-in chains
	Counters Counters
	Rules    []*Rule

	// reach caches the hooks the chain is reachable from; valid while
	// reachGen is its table's.
	reach    uint
	reachGen uint32
}

// Table is one table of a family's rule set.
type Table struct {
	Name string
	// Chains holds the built-in chains in hook order, then the user chains
	// in creation order (the kernel's order; Sorted gives the listing
	// order). Use the methods to change it: they keep the name index.
	Chains []*Chain
	// Present says whether the table exists (iptables-save lists it).
	Present bool

	index  map[string]*Chain
	sorted []*Chain // listing order, nil when it must be recomputed
	// reachGen is the generation of the chains' reach caches (0: not
	// computed); looped marks a batch in which a jump loop became
	// reachable.
	reachGen uint32
	looped   bool
}

// reachGens numbers the computations of reach, so that chains copied from
// another table never pass for computed.
var reachGens atomic.Uint32

// ReachOf returns the hooks chain c can be reached from through jumps and
// gotos (a built-in chain: its own hook). The reach of every chain is
// computed once and cached; AddReach updates it as jumps are added, and
// InvalidateReach drops it.
func (t *Table) ReachOf(c *Chain) uint {
	if t.reachGen == 0 {
		t.computeReach()
	}
	if c.reachGen != t.reachGen {
		return 0 // added since, and reached by nothing yet
	}
	return c.reach
}

// AddReach records that chain c is also reachable from hooks h.
func (t *Table) AddReach(c *Chain, h uint) {
	if t.reachGen == 0 {
		t.computeReach()
	}
	if c.reachGen != t.reachGen {
		c.reach, c.reachGen = 0, t.reachGen
	}
	c.reach |= h
}

func (t *Table) computeReach() {
	gen := reachGens.Add(1)
	if gen == 0 {
		gen = reachGens.Add(1)
	}
	t.reachGen = gen
	for _, c := range t.Chains {
		c.reach, c.reachGen = 0, gen
	}
	var walk func(c *Chain, h uint)
	walk = func(c *Chain, h uint) {
		if c.reach&h == h {
			return
		}
		c.reach |= h
		for _, r := range c.Rules {
			if r.Target != nil && r.Target.Type == nil && !IsStandard(r.Target.Name) {
				if next := t.Chain(r.Target.Name); next != nil {
					walk(next, h)
				}
			}
		}
	}
	for _, c := range t.Chains {
		if c.Builtin {
			walk(c, 1<<uint(c.Hook))
		}
	}
}

// InvalidateReach drops the reachability cache (after rules or chains
// were removed).
func (t *Table) InvalidateReach() { t.reachGen = 0 }

// Looped and SetLooped record that a jump loop became reachable in the
// current batch: nf_tables then refuses every later rule of the batch.
func (t *Table) Looped() bool { return t.looped }

// SetLooped marks the batch as looped.
func (t *Table) SetLooped() { t.looped = true }

// Ruleset is a family's tables.
type Ruleset struct {
	Family Family
	Tables map[string]*Table
	// Objects are the host's named objects rules refer to (ipsets, nfacct
	// counters); nil when the host has none. Shared, not cloned.
	Objects ObjectStore
}

// NewRuleset returns an empty rule set: every table known but absent.
func NewRuleset(f Family) *Ruleset {
	rs := &Ruleset{Family: f, Tables: map[string]*Table{}}
	for _, n := range TableNames {
		rs.Tables[n] = NewTable(n)
	}
	return rs
}

// NewTable returns an absent table with its built-in chains (not created).
func NewTable(name string) *Table {
	t := &Table{Name: name}
	for _, h := range TableHooks[name] {
		t.Chains = append(t.Chains, &Chain{Name: HookNames[h], Builtin: true, Hook: h, Policy: VerdictAccept})
	}
	return t
}

// Table returns the table of that name, or nil when there is no such table.
func (rs *Ruleset) Table(name string) *Table { return rs.Tables[name] }

// Chain returns the chain of that name, or nil.
func (t *Table) Chain(name string) *Chain {
	if t.index == nil {
		t.reindex()
	}
	return t.index[name]
}

func (t *Table) reindex() {
	t.index = make(map[string]*Chain, len(t.Chains))
	for _, c := range t.Chains {
		t.index[c.Name] = c
	}
}

// Sorted returns the chains in listing order (built-in, then user chains
// by name).
func (t *Table) Sorted() []*Chain {
	if t.sorted == nil {
		t.sorted = append(make([]*Chain, 0, len(t.Chains)), t.Chains...)
		user := t.sorted[len(TableHooks[t.Name]):]
		sort.SliceStable(user, func(i, j int) bool { return user[i].Name < user[j].Name })
	}
	return t.sorted
}

// AddChain adds a user chain.
func (t *Table) AddChain(name string) *Chain {
	c := &Chain{Name: name}
	t.Chains = append(t.Chains, c)
	if t.index != nil {
		t.index[name] = c
	}
	t.sorted = nil
	t.Present = true
	return c
}

// RemoveChain deletes a user chain.
func (t *Table) RemoveChain(name string) {
	for i, c := range t.Chains {
		if c.Name == name && !c.Builtin {
			t.Chains = append(t.Chains[:i], t.Chains[i+1:]...)
			delete(t.index, name)
			t.sorted = nil
			t.reachGen = 0
			return
		}
	}
}

// RenameChain renames a user chain and the jumps to it.
func (t *Table) RenameChain(old, name string) {
	c := t.Chain(old)
	if c == nil {
		return
	}
	c.Name = name
	delete(t.index, old)
	t.index[name] = c
	t.sorted = nil
	for _, ch := range t.Chains {
		for _, r := range ch.Rules {
			if r.Target != nil && r.Target.Type == nil && r.Target.Name == old {
				nt := *r.Target
				nt.Name = name
				r.Target = &nt
			}
		}
	}
}

// References counts the rules of the table that jump or go to the chain.
func (t *Table) References(name string) int {
	n := 0
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if r.Target != nil && r.Target.Type == nil && r.Target.Name == name {
				n++
			}
		}
	}
	return n
}

// ReferenceCounts counts, for every chain, the rules that jump or go to it.
func (t *Table) ReferenceCounts() map[string]int {
	refs := map[string]int{}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if r.Target != nil && r.Target.Type == nil {
				refs[r.Target.Name]++
			}
		}
	}
	return refs
}

// UserChains returns the user chains in listing order (by name).
func (t *Table) UserChains() []*Chain {
	return t.Sorted()[len(TableHooks[t.Name]):]
}

// CreatedChains returns the user chains in the order they were created,
// the order of the kernel's chain list (which -X without a name walks).
func (t *Table) CreatedChains() []*Chain {
	return t.Chains[len(TableHooks[t.Name]):]
}

// Reset empties the table and marks it absent.
func (t *Table) Reset() {
	*t = *NewTable(t.Name)
}

// Clone returns a copy of the rule set that can be changed without
// touching the original. Rules are copied (their counters change); the
// extension data they point to is shared, as it never changes after parse.
func (rs *Ruleset) Clone() *Ruleset {
	out := &Ruleset{Family: rs.Family, Tables: make(map[string]*Table, len(rs.Tables)), Objects: rs.Objects}
	for n, t := range rs.Tables {
		nt := &Table{Name: t.Name, Present: t.Present, Chains: make([]*Chain, len(t.Chains))}
		// One block for the table's chains, rules and rule pointers: big
		// tables have tens of thousands of short chains.
		total := 0
		for _, c := range t.Chains {
			total += len(c.Rules)
		}
		chains := make([]Chain, len(t.Chains))
		rules := make([]Rule, total)
		ptrs := make([]*Rule, total)
		for i, c := range t.Chains {
			nc := &chains[i]
			*nc = *c
			nc.Rules = ptrs[:len(c.Rules):len(c.Rules)]
			ptrs = ptrs[len(c.Rules):]
			for j, r := range c.Rules {
				rules[j] = *r
				nc.Rules[j] = &rules[j]
			}
			rules = rules[len(c.Rules):]
			nt.Chains[i] = nc
		}
		out.Tables[n] = nt
	}
	return out
}
