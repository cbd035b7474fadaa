package iptables

import (
	"bytes"
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// AppendRuleSpec appends a rule's specification as -S and iptables-save
// print it after "-A CHAIN": the header part (save_ipv4_addr,
// save_rule_details), the matches, " -c P B" when cCounters, the target.
func AppendRuleSpec(b []byte, r *xtables.Rule, ctx *xtables.Context, cCounters bool) []byte {
	hctx := *ctx
	return appendRuleSpec(b, r, &hctx, cCounters)
}

// appendRuleSpec is AppendRuleSpec with a context the caller lets it
// change (its Header and Numeric): a copy made here would escape to the
// heap through the extensions' Save, once per rule.
func appendRuleSpec(b []byte, r *xtables.Rule, ctx *xtables.Context, cCounters bool) []byte {
	hctx := ctx
	hctx.Header = &r.Header
	hctx.Numeric = true
	b = appendSaveAddr(b, 's', r.Src, r.SrcMask, r.Inv&xtables.InvSrcIP != 0, ctx.Family)
	b = appendSaveAddr(b, 'd', r.Dst, r.DstMask, r.Inv&xtables.InvDstIP != 0, ctx.Family)
	b = appendSaveIface(b, 'i', r.In, r.Inv&xtables.InvViaIn != 0)
	b = appendSaveIface(b, 'o', r.Out, r.Inv&xtables.InvViaOut != 0)
	if r.Proto != 0 || r.Inv&xtables.InvProto != 0 {
		if r.Inv&xtables.InvProto != 0 {
			b = append(b, " !"...)
		}
		b = append(b, " -p "...)
		if name := xtables.ProtoToName(r.Proto, false, ctx.Names); name != "" {
			b = append(b, name...)
		} else {
			b = strconv.AppendUint(b, uint64(r.Proto), 10)
		}
	}
	if ctx.Family == xtables.IPv4 && r.Flags&xtables.FlagFrag != 0 {
		if r.Inv&xtables.InvFrag != 0 {
			b = append(b, " !"...)
		}
		b = append(b, " -f"...)
	}
	for _, m := range r.Matches {
		b = append(b, " -m "...)
		b = append(b, m.Type.Name...)
		b = m.Info.Save(b, hctx)
	}
	if cCounters {
		b = append(b, " -c "...)
		b = strconv.AppendUint(b, r.Counters.Packets, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, r.Counters.Bytes, 10)
	}
	if t := r.Target; t != nil {
		if t.Type != nil {
			// Saved under the name typed: nf_tables keeps NOTRACK as its
			// own expression, though -L shows it as CT.
			b = append(b, " -j "...)
			b = append(b, t.Type.Name...)
			b = t.Info.Save(b, hctx)
		} else if r.Goto() {
			b = append(b, " -g "...)
			b = append(b, t.Name...)
		} else {
			b = append(b, " -j "...)
			b = append(b, t.Name...)
		}
	}
	return b
}

// targetName is the name -L lists a target as.
func targetName(t *xtables.Target) string {
	if t.Type != nil {
		if t.Type.RealName != "" {
			return t.Type.RealName
		}
		return t.Type.Name
	}
	return t.Name
}

func appendSaveAddr(b []byte, letter byte, a, m netipAddr, inv bool, f xtables.Family) []byte {
	bits := xtables.MaskBits(m)
	if f == xtables.IPv4 {
		if xtables.IsZero(m) && !inv && xtables.IsZero(a) {
			return b
		}
	} else if !inv && bits == 0 {
		return b
	}
	if inv {
		b = append(b, " !"...)
	}
	b = append(b, ' ', '-', letter, ' ')
	if !a.IsValid() {
		a = xtables.ZeroAddr(f)
	}
	b = xtables.AppendAddr(b, a)
	b = append(b, '/')
	return xtables.AppendMask(b, m)
}

func appendSaveIface(b []byte, letter byte, ifc xtables.Iface, inv bool) []byte {
	if ifc.Empty() {
		return b
	}
	if ifc.Name == "" && !inv {
		// "-i +" matches every interface; the nf_tables backend drops it.
		return b
	}
	if inv {
		b = append(b, " !"...)
	}
	b = append(b, ' ', '-', letter, ' ')
	return append(b, ifc.String()...)
}

// AppendChainRules appends the -S listing of one chain: its -P or -N line
// and its rules (nft_rule_list_save). With counters (-S -v) policies and
// rules carry "-c P B".
func AppendChainRules(b []byte, t *xtables.Table, c *xtables.Chain, ctx *xtables.Context, counters bool, rulenum int) []byte {
	if rulenum == 0 {
		b = appendChainHeadS(b, c, counters)
	}
	cctx := *ctx
	for i, r := range c.Rules {
		if rulenum != 0 && i+1 != rulenum {
			continue
		}
		b = append(b, "-A "...)
		b = append(b, c.Name...)
		b = appendRuleSpec(b, r, &cctx, counters)
		b = append(b, '\n')
	}
	return b
}

func appendChainHeadS(b []byte, c *xtables.Chain, counters bool) []byte {
	if !c.Builtin {
		b = append(b, "-N "...)
		b = append(b, c.Name...)
		return append(b, '\n')
	}
	b = append(b, "-P "...)
	b = append(b, c.Name...)
	b = append(b, ' ')
	b = append(b, c.Policy...)
	if counters {
		b = append(b, " -c "...)
		b = strconv.AppendUint(b, c.Counters.Packets, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, c.Counters.Bytes, 10)
	}
	return append(b, '\n')
}

// AppendListRules appends `iptables -S [chain [rulenum]]` for a table: all
// chain heads first, then the rules of every chain.
func AppendListRules(b []byte, t *xtables.Table, chain string, ctx *xtables.Context, counters bool, rulenum int) []byte {
	if chain != "" {
		c := t.Chain(chain)
		if c == nil {
			return b
		}
		return AppendChainRules(b, t, c, ctx, counters, rulenum)
	}
	for _, c := range t.Sorted() {
		b = appendChainHeadS(b, c, counters)
	}
	cctx := *ctx
	for _, c := range t.Sorted() {
		for _, r := range c.Rules {
			cctx.Chain = c.Name
			b = append(b, "-A "...)
			b = append(b, c.Name...)
			b = appendRuleSpec(b, r, &cctx, counters)
			b = append(b, '\n')
		}
	}
	return b
}

// AppendSaveTable appends one table in iptables-save format (without the
// "# Generated by" comment lines): *table, chain lines, rules, COMMIT.
// With counters (-c) rules are prefixed by [packets:bytes].
func AppendSaveTable(b []byte, t *xtables.Table, ctx *xtables.Context, counters bool) []byte {
	return appendTable(b, t, t.Sorted(), ctx, counters, false)
}

// AppendStateTable is AppendSaveTable with the chains in creation order,
// for state files: restoring it recreates the chains in the same order.
func AppendStateTable(b []byte, t *xtables.Table, ctx *xtables.Context) []byte {
	return appendTable(b, t, t.Chains, ctx, true, true)
}

// hasStateForm says whether a rule has an extension whose state form may
// differ from its save form.
func hasStateForm(r *xtables.Rule) bool {
	for _, m := range r.Matches {
		if m.Type != nil && m.Type.StateForm {
			return true
		}
	}
	return r.Target != nil && r.Target.Type != nil && r.Target.Type.StateForm
}

// quoteStateLine rewrites the state line from b[at:] as "#q " and its Go
// quoted form when it holds a newline (a comment or prefix typed with an
// unterminated quote swallows the end of the restore line): a state file
// keeps one rule per line, and restore with State set unquotes it.
func quoteStateLine(b []byte, at int) []byte {
	if bytes.IndexByte(b[at:], '\n') < 0 {
		return b
	}
	line := string(b[at:])
	return strconv.AppendQuote(append(b[:at], "#q "...), line)
}
