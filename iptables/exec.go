package iptables

import (
	"bytes"

	"github.com/iptwin/iptwin/xtables"
)

// Execute runs a parsed command on a rule set, appending what it prints to
// out. It reports whether the rule set changed. On error the rule set may
// be partly changed: callers work on a copy and keep it only on success,
// which makes every command atomic as an nf_tables batch is.
func Execute(rs *xtables.Ruleset, cmd *Command, names xtables.Resolver, out *[]byte) (changed bool, err error) {
	t := rs.Table(cmd.Table)
	if t == nil {
		return false, xtables.Problem(xtables.VersionProblem, "table '%s' does not exist", cmd.Table)
	}
	ctx := &xtables.Context{Family: rs.Family, Table: t.Name, Chain: cmd.Chain, Names: names, Objects: rs.Objects}
	switch cmd.Cmd {
	case CmdAppend, CmdInsert, CmdReplace:
		return true, addRules(t, cmd, ctx)
	case CmdDelete, CmdCheck:
		return cmd.Cmd == CmdDelete, deleteRules(t, cmd, ctx)
	case CmdDeleteNum:
		c := t.Chain(cmd.Chain)
		if c == nil || (c.Builtin && !c.Created && len(c.Rules) == 0 && !t.Present) {
			return false, xtables.ErrNoChain
		}
		if cmd.RuleNum > len(c.Rules) {
			return false, xtables.ErrDeleteTooBig
		}
		c.Rules = append(c.Rules[:cmd.RuleNum-1], c.Rules[cmd.RuleNum:]...)
		return true, nil
	case CmdFlush:
		return true, eachChain(t, cmd.Chain, func(c *xtables.Chain) { c.Rules = nil })
	case CmdZero:
		return true, eachChain(t, cmd.Chain, zeroChain)
	case CmdZeroNum:
		c := t.Chain(cmd.Chain)
		if c == nil {
			return false, xtables.ErrNoChain
		}
		if cmd.RuleNum <= len(c.Rules) {
			c.Rules[cmd.RuleNum-1].Counters = xtables.Counters{}
		}
		return true, nil
	case CmdList, CmdList | CmdZero, CmdList | CmdZeroNum:
		if cmd.Chain != "" && t.Chain(cmd.Chain) == nil {
			return false, incompatible(cmd)
		}
		format := ListFormat(cmd.Options&OptVerbose != 0, cmd.Options&OptNumeric != 0,
			cmd.Options&OptExpanded != 0, cmd.Options&OptLineNumbers != 0)
		*out = AppendList(*out, t, cmd.Chain, cmd.RuleNum, format, ctx)
		return zeroAfterList(t, cmd)
	case CmdListRules, CmdListRules | CmdZero, CmdListRules | CmdZeroNum:
		if cmd.Chain != "" && t.Chain(cmd.Chain) == nil {
			return false, incompatible(cmd)
		}
		*out = AppendListRules(*out, t, cmd.Chain, ctx, cmd.Options&OptVerbose != 0, cmd.RuleNum)
		return zeroAfterList(t, cmd)
	case CmdNewChain:
		if t.Chain(cmd.Chain) != nil {
			return false, xtables.ErrChainExists
		}
		t.AddChain(cmd.Chain)
		return true, nil
	case CmdDeleteChain:
		return true, deleteChains(t, cmd.Chain)
	case CmdRenameChain:
		c := t.Chain(cmd.Chain)
		if c == nil || c.Builtin {
			return false, xtables.ErrNoChain
		}
		if t.Chain(cmd.NewName) != nil {
			return false, xtables.ErrRenameExists
		}
		t.RenameChain(cmd.Chain, cmd.NewName)
		return true, nil
	case CmdSetPolicy:
		c := t.Chain(cmd.Chain)
		if c == nil || !c.Builtin {
			return false, xtables.ErrBadBuiltin
		}
		if cmd.Policy != xtables.VerdictAccept && cmd.Policy != xtables.VerdictDrop {
			return false, xtables.ErrBadPolicy
		}
		c.Policy = cmd.Policy
		if cmd.Options&OptCounters != 0 {
			c.Counters = cmd.Counters
		}
		c.Created = true
		t.Present = true
		return true, nil
	}
	return false, errTryHelp
}

func incompatible(cmd *Command) error {
	return xtables.Problem(xtables.OtherProblem, "chain `%s' in table `%s' is incompatible, use 'nft' tool.", cmd.Chain, cmd.Table)
}

func zeroAfterList(t *xtables.Table, cmd *Command) (bool, error) {
	switch {
	case cmd.Cmd&CmdZero != 0:
		return true, eachChain(t, cmd.Chain, zeroChain)
	case cmd.Cmd&CmdZeroNum != 0:
		if c := t.Chain(cmd.Chain); c != nil && cmd.RuleNum <= len(c.Rules) {
			c.Rules[cmd.RuleNum-1].Counters = xtables.Counters{}
		}
		return true, nil
	}
	return false, nil
}

func zeroChain(c *xtables.Chain) {
	c.Counters = xtables.Counters{}
	for _, r := range c.Rules {
		r.Counters = xtables.Counters{}
	}
}

func eachChain(t *xtables.Table, name string, fn func(*xtables.Chain)) error {
	if name == "" {
		for _, c := range t.Chains {
			fn(c)
		}
		return nil
	}
	c := t.Chain(name)
	if c == nil {
		return xtables.ErrNoChain
	}
	fn(c)
	return nil
}

func deleteChains(t *xtables.Table, name string) error {
	var victims []*xtables.Chain
	if name == "" {
		victims = append(victims, t.UserChains()...)
	} else {
		c := t.Chain(name)
		if c == nil || c.Builtin {
			return xtables.ErrNoChain
		}
		victims = append(victims, c)
	}
	for _, c := range victims {
		if len(c.Rules) > 0 || t.References(c.Name) > 0 {
			return xtables.Problem(xtables.ResourceProblem, " CHAIN_DEL failed (Device or resource busy): chain %s", c.Name)
		}
	}
	for _, c := range victims {
		t.RemoveChain(c.Name)
	}
	return nil
}

// checkRule runs the kernel-side checks: the jump target exists, the
// extensions accept the table and chain, no loop is made.
func checkRule(t *xtables.Table, c *xtables.Chain, r *xtables.Rule, ctx *xtables.Context) error {
	if tg := r.Target; tg != nil && tg.Type == nil && !xtables.IsStandard(tg.Name) {
		if t.Chain(tg.Name) == nil {
			return xtables.Errorf("Chain '%s' does not exist", tg.Name)
		}
	}
	if t.Chain(c.Name) == nil {
		return xtables.ErrNoChain
	}
	cctx := *ctx
	cctx.Header = &r.Header
	cctx.Chain = c.Name
	if c.Builtin {
		cctx.Hooks = 1 << uint(c.Hook)
	}
	for _, m := range r.Matches {
		if ck, ok := m.Info.(xtables.Checker); ok {
			if err := ck.Check(&cctx); err != nil {
				return err
			}
		}
	}
	if r.Target != nil && r.Target.Type != nil {
		if ck, ok := r.Target.Info.(xtables.Checker); ok {
			if err := ck.Check(&cctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func addRules(t *xtables.Table, cmd *Command, ctx *xtables.Context) error {
	c := t.Chain(cmd.Chain)
	for _, r := range cmd.Rules {
		if tg := r.Target; tg != nil && tg.Type == nil && !xtables.IsStandard(tg.Name) && t.Chain(tg.Name) == nil {
			return xtables.Errorf("Chain '%s' does not exist", tg.Name)
		}
	}
	if c == nil {
		return xtables.ErrNoChain
	}
	for _, r := range cmd.Rules {
		if err := checkRule(t, c, r, ctx); err != nil {
			return err
		}
	}
	switch cmd.Cmd {
	case CmdAppend:
		c.Rules = append(c.Rules, cmd.Rules...)
	case CmdInsert:
		pos := cmd.RuleNum - 1
		if pos > len(c.Rules) {
			return xtables.ErrInsertTooBig
		}
		for _, r := range cmd.Rules {
			c.Rules = append(c.Rules, nil)
			copy(c.Rules[pos+1:], c.Rules[pos:])
			c.Rules[pos] = r
		}
	case CmdReplace:
		if cmd.RuleNum > len(c.Rules) {
			return xtables.ErrReplaceTooBig
		}
		c.Rules[cmd.RuleNum-1] = cmd.Rules[0]
	}
	c.Created = true
	t.Present = true
	return nil
}

// ruleKey is the identity of a rule for -D and -C: its save form.
func ruleKey(r *xtables.Rule, ctx *xtables.Context) []byte {
	return AppendRuleSpec(nil, r, ctx, false)
}

func deleteRules(t *xtables.Table, cmd *Command, ctx *xtables.Context) error {
	c := t.Chain(cmd.Chain)
	if c == nil {
		return xtables.ErrNoChain
	}
	for _, r := range cmd.Rules {
		want := ruleKey(r, ctx)
		found := -1
		for i, have := range c.Rules {
			if bytes.Equal(ruleKey(have, ctx), want) {
				found = i
				break
			}
		}
		if found < 0 {
			return xtables.ErrBadRule
		}
		if cmd.Cmd == CmdDelete {
			c.Rules = append(c.Rules[:found], c.Rules[found+1:]...)
		}
	}
	return nil
}

// CheckLoops rejects a jump graph with a cycle (the kernel's ELOOP). It
// runs once per commit, after all the commands of a batch.
func CheckLoops(t *xtables.Table) error {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(c *xtables.Chain) bool
	visit = func(c *xtables.Chain) bool {
		color[c.Name] = grey
		for _, r := range c.Rules {
			if r.Target == nil || r.Target.Type != nil || xtables.IsStandard(r.Target.Name) {
				continue
			}
			next := t.Chain(r.Target.Name)
			if next == nil {
				continue
			}
			switch color[next.Name] {
			case grey:
				return false
			case white:
				if !visit(next) {
					return false
				}
			}
		}
		color[c.Name] = black
		return true
	}
	for _, c := range t.Chains {
		if color[c.Name] == white && !visit(c) {
			return xtables.ErrLoop
		}
	}
	return nil
}
