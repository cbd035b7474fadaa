package iptables

import (
	"bytes"
	"fmt"

	"github.com/iptwin/iptwin/xtables"
)

// Execute runs a parsed command on a rule set, appending what it prints to
// out. It reports whether the rule set changed. On error the rule set may
// be partly changed: callers work on a copy and keep it only on success,
// which makes every command atomic as an nf_tables batch is.
func Execute(rs *xtables.Ruleset, cmd *Command, names xtables.Resolver, out *[]byte) (changed bool, err error) {
	return execute(rs, cmd, names, out, new(xtables.Context))
}

// execute is Execute with the context storage given (a restore reuses one
// for all its commands).
func execute(rs *xtables.Ruleset, cmd *Command, names xtables.Resolver, out *[]byte, ctx *xtables.Context) (changed bool, err error) {
	t := rs.Table(cmd.Table)
	if t == nil {
		return false, xtables.Problem(xtables.VersionProblem, "table '%s' does not exist", cmd.Table)
	}
	*ctx = xtables.Context{Family: rs.Family, Table: t.Name, Chain: cmd.Chain, Names: names, Objects: rs.Objects, Notices: &cmd.Notices}
	switch cmd.Cmd {
	case CmdAppend, CmdInsert, CmdReplace:
		return true, addRules(t, cmd, ctx, out)
	case CmdDelete, CmdCheck:
		return cmd.Cmd == CmdDelete, deleteRules(t, cmd, ctx, out)
	case CmdDeleteNum:
		c := t.Chain(cmd.Chain)
		if c == nil || (c.Builtin && !c.Created) {
			return false, xtables.ErrNoChain
		}
		if cmd.RuleNum > len(c.Rules) {
			return false, xtables.ErrDeleteTooBig
		}
		c.Rules = append(c.Rules[:cmd.RuleNum-1], c.Rules[cmd.RuleNum:]...)
		return true, nil
	case CmdFlush:
		// Flushing a built-in chain by name creates it in the kernel.
		if c := t.Chain(cmd.Chain); c != nil && c.Builtin {
			c.Created, t.Present = true, true
		}
		verbose := cmd.Options&OptVerbose != 0
		return true, eachChain(t, cmd.Chain, func(c *xtables.Chain) {
			if verbose {
				*out = fmt.Appendf(*out, "Flushing chain `%s'\n", c.Name)
			}
			c.Rules = nil
		})
	case CmdZero:
		if c := t.Chain(cmd.Chain); c != nil && c.Builtin && !c.Created {
			return false, xtables.ErrNoChain // not in the kernel
		}
		verbose := cmd.Options&OptVerbose != 0
		return true, eachChain(t, cmd.Chain, func(c *xtables.Chain) {
			// Only chains in the kernel are zeroed (and named).
			if verbose && (!c.Builtin || c.Created || cmd.Chain != "") {
				*out = fmt.Appendf(*out, "Zeroing chain `%s'\n", c.Name)
			}
			zeroChain(c)
		})
	case CmdZeroNum:
		c := t.Chain(cmd.Chain)
		if c == nil {
			return false, xtables.ErrNoChain
		}
		if cmd.RuleNum > len(c.Rules) {
			return false, xtables.ErrBadRule
		}
		c.Rules[cmd.RuleNum-1].Counters = xtables.Counters{}
		return true, nil
	case CmdList, CmdList | CmdZero, CmdList | CmdZeroNum:
		if cmd.Chain != "" && t.Chain(cmd.Chain) == nil {
			return false, incompatible(cmd)
		}
		format := ListFormat(cmd.Options&OptVerbose != 0, cmd.Options&OptNumeric != 0,
			cmd.Options&OptExpanded != 0, cmd.Options&OptLineNumbers != 0)
		*out = AppendList(*out, t, cmd.Chain, cmd.RuleNum, format, ctx)
		return zeroAfterList(t, cmd, out)
	case CmdListRules, CmdListRules | CmdZero, CmdListRules | CmdZeroNum:
		if cmd.Chain != "" && t.Chain(cmd.Chain) == nil {
			return false, incompatible(cmd)
		}
		*out = AppendListRules(*out, t, cmd.Chain, ctx, cmd.Options&OptVerbose != 0, cmd.RuleNum)
		return zeroAfterList(t, cmd, out)
	case CmdNewChain:
		if t.Chain(cmd.Chain) != nil {
			return false, xtables.ErrChainExists
		}
		t.AddChain(cmd.Chain)
		return true, nil
	case CmdDeleteChain:
		return true, deleteChains(t, cmd.Chain, cmd.Options&OptVerbose != 0, out)
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

func zeroAfterList(t *xtables.Table, cmd *Command, out *[]byte) (bool, error) {
	switch {
	case cmd.Cmd&CmdZero != 0:
		verbose := cmd.Options&OptVerbose != 0
		var first string
		err := eachChain(t, cmd.Chain, func(c *xtables.Chain) {
			if verbose { // after a listing every chain is in the cache
				*out = fmt.Appendf(*out, "Zeroing chain `%s'\n", c.Name)
			}
			if first == "" {
				first = c.Name
			}
			zeroChain(c)
		})
		if err == nil && !t.Present && first != "" {
			// The listing showed chains of a table the kernel does not
			// have: zeroing them fails on the first.
			return false, &BatchError{Op: "CHAIN_ZERO", Object: "chain", Chain: first, Errno: "No such file or directory"}
		}
		return true, err
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

// eachChain calls fn for the named chain, or for every chain in listing
// order when name is "".
func eachChain(t *xtables.Table, name string, fn func(*xtables.Chain)) error {
	if name == "" {
		for _, c := range t.Sorted() {
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

func deleteChains(t *xtables.Table, name string, verbose bool, out *[]byte) error {
	var victims []*xtables.Chain
	if name == "" {
		// The kernel's order, or by name when -v made iptables sort them.
		victims = append(victims, t.CreatedChains()...)
		if verbose {
			victims = append(victims[:0], t.UserChains()...)
		}
	} else {
		c := t.Chain(name)
		if c == nil {
			return xtables.ErrNoChain
		}
		if c.Builtin {
			// A built-in chain goes only when nothing was customised.
			if c.Created && (len(c.Rules) > 0 || c.Policy != xtables.VerdictAccept) {
				return ErrNotEmpty
			}
			c.Created, c.Counters = false, xtables.Counters{}
			return nil
		}
		victims = append(victims, c)
	}
	if verbose {
		for _, c := range victims {
			*out = fmt.Appendf(*out, "Deleting chain `%s'\n", c.Name)
		}
	}
	for _, c := range victims {
		if len(c.Rules) > 0 || t.References(c.Name) > 0 {
			return &BatchError{Op: "CHAIN_DEL", Object: "chain", Chain: c.Name, Errno: "Device or resource busy"}
		}
	}
	for _, c := range victims {
		t.RemoveChain(c.Name)
	}
	if name == "" {
		// iptables-nft's -X also deletes the built-in chains nothing
		// customised: no rules, policy ACCEPT.
		for _, c := range t.Chains {
			if c.Builtin && len(c.Rules) == 0 && c.Policy == xtables.VerdictAccept {
				c.Created, c.Counters = false, xtables.Counters{}
			}
		}
	}
	return nil
}

// ErrNotEmpty is what -X on a customised built-in chain gets (EBUSY, as
// nft_strerror words it for that call).
var ErrNotEmpty = &xtables.KernelError{Errno: "Directory not empty"}

// checkRule runs the checks the kernel makes of one rule in chain c, which
// is reachable from the hooks given (0: from none yet).
func checkRule(c *xtables.Chain, r *xtables.Rule, ctx *xtables.Context, hooks uint) error {
	if !hasChecker(r) {
		return nil
	}
	// The command's context, set for this rule and put back after: a copy
	// would escape to the heap for every rule of a restore.
	oh, oc, ok := ctx.Header, ctx.Chain, ctx.Hooks
	defer func() { ctx.Header, ctx.Chain, ctx.Hooks = oh, oc, ok }()
	ctx.Header, ctx.Chain, ctx.Hooks = &r.Header, c.Name, hooks
	cctx := ctx
	for _, m := range r.Matches {
		if m.Type != nil && m.Type.KernelMissing {
			return ErrNoModule
		}
	}
	if r.Target != nil && r.Target.Type != nil && r.Target.Type.KernelMissing {
		return ErrNoModule
	}
	for _, m := range r.Matches {
		if ck, ok := m.Info.(xtables.Checker); ok {
			if err := ck.Check(cctx); err != nil {
				return err
			}
		}
	}
	if r.Target != nil && r.Target.Type != nil {
		if ck, ok := r.Target.Info.(xtables.Checker); ok {
			if err := ck.Check(cctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasChecker says whether any extension of the rule has kernel-side checks.
func hasChecker(r *xtables.Rule) bool {
	for _, m := range r.Matches {
		if _, ok := m.Info.(xtables.Checker); ok {
			return true
		}
		if m.Type != nil && m.Type.KernelMissing {
			return true
		}
	}
	if r.Target != nil && r.Target.Type != nil {
		if _, ok := r.Target.Info.(xtables.Checker); ok || r.Target.Type.KernelMissing {
			return true
		}
	}
	return false
}

// jumpTarget returns the user chain a rule jumps or goes to, or nil.
func jumpTarget(t *xtables.Table, r *xtables.Rule) *xtables.Chain {
	if r.Target == nil || r.Target.Type != nil || xtables.IsStandard(r.Target.Name) {
		return nil
	}
	return t.Chain(r.Target.Name)
}

// printRule is what -v prints of a rule added, checked or deleted.
func printRule(out *[]byte, cmd *Command, r *xtables.Rule, ctx *xtables.Context) {
	if cmd.Options&OptVerbose != 0 && out != nil {
		*out = AppendRuleLine(*out, 0, r, FmtPrintRule, ctx)
	}
}

func addRules(t *xtables.Table, cmd *Command, ctx *xtables.Context, out *[]byte) error {
	c := t.Chain(cmd.Chain)
	// The user chain the rules jump or go to (they share their target),
	// looked up once.
	var jump *xtables.Target
	var d *xtables.Chain
	for _, r := range cmd.Rules {
		if tg := r.Target; tg != nil && tg.Type == nil && !xtables.IsStandard(tg.Name) && tg != jump {
			if d = t.Chain(tg.Name); d == nil {
				return xtables.Errorf("Chain '%s' does not exist", tg.Name)
			}
			jump = tg
		}
	}
	if c == nil {
		return xtables.ErrNoChain
	}
	switch cmd.Cmd {
	case CmdInsert:
		if cmd.RuleNum-1 > len(c.Rules) {
			return xtables.ErrInsertTooBig
		}
	case CmdReplace:
		if c.Builtin && !c.Created {
			return xtables.ErrNoChain
		}
		if cmd.RuleNum > len(c.Rules) {
			return xtables.ErrReplaceTooBig
		}
	}
	op := ruleOp(cmd.Cmd)
	for i, r := range cmd.Rules {
		printRule(out, cmd, r, ctx)
		rd := d
		if r.Target != jump {
			rd = jumpTarget(t, r)
		}
		if err := validateRule(t, c, r, rd, ctx, op); err != nil {
			return err
		}
		switch cmd.Cmd {
		case CmdAppend:
			c.Rules = append(c.Rules, r)
		case CmdInsert:
			pos := cmd.RuleNum - 1 + i
			c.Rules = append(c.Rules, nil)
			copy(c.Rules[pos+1:], c.Rules[pos:])
			c.Rules[pos] = r
		case CmdReplace:
			c.Rules[cmd.RuleNum-1] = r
			t.InvalidateReach() // the old rule's jump may be gone
		}
		c.Created = true
		t.Present = true
		if t.Looped() {
			return &BatchError{Op: op, Chain: c.Name, Errno: "Too many links"}
		}
	}
	return nil
}

// validateRule is what nf_tables checks when a rule is added to c: the
// extensions' checkentry (with c's hook when c is a built-in chain), their
// static hook masks against every hook c is reachable from and, for a jump
// or goto, the static hook masks of the target chain's subtree against the
// hooks it becomes reachable from, and that no loop becomes reachable. A
// loop is reported after the rule was added (the batch goes on failing,
// see Looped).
func validateRule(t *xtables.Table, c *xtables.Chain, r *xtables.Rule, d *xtables.Chain, ctx *xtables.Context, op string) error {
	var own uint
	if c.Builtin {
		own = 1 << uint(c.Hook)
	}
	if err := checkRule(c, r, ctx, own); err != nil {
		return batchError(err, op, c.Name)
	}
	h := t.ReachOf(c)
	if !hooksAllowed(r, h) {
		return &BatchError{Op: op, Chain: c.Name, Errno: "Invalid argument"}
	}
	if d == nil || h == 0 {
		return nil
	}
	if reachesOrLoops(t, d, c) {
		t.SetLooped()
		return nil
	}
	if h&^t.ReachOf(d) == 0 {
		return nil
	}
	// Propagate the new hooks through d's subtree and validate the rules
	// of every chain that gains some.
	var grown []*xtables.Chain
	var walk func(x *xtables.Chain)
	walk = func(x *xtables.Chain) {
		if t.ReachOf(x)&h == h {
			return
		}
		t.AddReach(x, h)
		grown = append(grown, x)
		for _, xr := range x.Rules {
			if next := jumpTarget(t, xr); next != nil {
				walk(next)
			}
		}
	}
	walk(d)
	for _, x := range grown {
		for _, xr := range x.Rules {
			if !hooksAllowed(xr, t.ReachOf(x)) {
				t.InvalidateReach()
				return &BatchError{Op: op, Chain: c.Name, Errno: "Invalid argument"}
			}
		}
	}
	return nil
}

// hooksAllowed checks the static hook masks of a rule's extensions.
func hooksAllowed(r *xtables.Rule, hooks uint) bool {
	if hooks == 0 {
		return true
	}
	for _, m := range r.Matches {
		if m.Type != nil && m.Type.Hooks != 0 && hooks&^m.Type.Hooks != 0 {
			return false
		}
	}
	if tg := r.Target; tg != nil && tg.Type != nil && tg.Type.Hooks != 0 && hooks&^tg.Type.Hooks != 0 {
		return false
	}
	return true
}

// reachesOrLoops says whether adding a jump from c to d makes a loop: d
// reaches c, or d's subtree already holds a cycle.
func reachesOrLoops(t *xtables.Table, d, c *xtables.Chain) bool {
	if d == c {
		return true
	}
	if len(d.Rules) == 0 {
		return false // the common case: a chain filled after the jump to it
	}
	const (
		grey  = 1
		black = 2
	)
	color := map[*xtables.Chain]uint8{}
	var visit func(x *xtables.Chain) bool
	visit = func(x *xtables.Chain) bool {
		if x == c {
			return true
		}
		color[x] = grey
		for _, r := range x.Rules {
			next := jumpTarget(t, r)
			if next == nil {
				continue
			}
			switch color[next] {
			case grey:
				return true
			case 0:
				if visit(next) {
					return true
				}
			}
		}
		color[x] = black
		return false
	}
	return visit(d)
}

// ErrNoModule is what the kernel answers for an extension it has no
// module for.
var ErrNoModule = &xtables.KernelError{Errno: "No such file or directory"}

// BatchError is the kernel refusing one message of an nf_tables batch,
// which iptables-nft reports with the message's name and object.
type BatchError struct {
	Op     string // RULE_APPEND, RULE_INSERT, RULE_REPLACE, CHAIN_DEL, CHAIN_ZERO
	Object string // "rule in chain" (the default) or "chain"
	Chain  string
	Errno  string // strerror text
}

func (e *BatchError) Error() string {
	obj := e.Object
	if obj == "" {
		obj = "rule in chain"
	}
	return fmt.Sprintf("%s failed (%s): %s %s", e.Op, e.Errno, obj, e.Chain)
}

// batchError turns an extension's kernel-side refusal into the batch
// error iptables-nft prints; other errors pass through.
func batchError(err error, op, chain string) error {
	if ke, ok := err.(*xtables.KernelError); ok {
		return &BatchError{Op: op, Chain: chain, Errno: ke.Errno}
	}
	return err
}

// ruleKey is the identity of a rule for -D and -C: its save form.
func ruleKey(r *xtables.Rule, ctx *xtables.Context) []byte {
	kctx := *ctx
	kctx.Key = true
	return AppendRuleSpec(nil, r, &kctx, false)
}

func deleteRules(t *xtables.Table, cmd *Command, ctx *xtables.Context, out *[]byte) error {
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
		printRule(out, cmd, c.Rules[found], ctx)
		if cmd.Cmd == CmdDelete {
			c.Rules = append(c.Rules[:found], c.Rules[found+1:]...)
		}
	}
	return nil
}

// ruleOp is the batch message name of a rule command.
func ruleOp(cmd int) string {
	switch {
	case cmd&CmdInsert != 0:
		return "RULE_INSERT"
	case cmd&CmdReplace != 0:
		return "RULE_REPLACE"
	}
	return "RULE_APPEND"
}
