package xtables

import (
	"encoding/binary"
	"fmt"

	"github.com/iptwin/iptwin/packet"
)

// The walk of a table, as nft_do_chain runs the rules iptables-nft
// installs: the header part of each rule (-s -d -i -o -p -f, translated to
// payload and meta expressions), its matches in order, the rule counter
// (placed after the matches), then the target. Jumps push onto a stack of
// NFTJumpStackSize frames, gotos replace the current chain, RETURN and the
// end of a user chain pop, and the end of a base chain is its policy, which
// alone updates the chain's counters (nft_update_chain_stats).
//
// A table is compiled once into a Program (flat rules, chain starts, jump
// targets as indices) and run for each packet without allocating.

// NFTJumpStackSize is NFT_JUMP_STACK_SIZE: the deepest jump nesting. The
// loop check at insert time keeps rulesets within it in practice.
const NFTJumpStackSize = 16

type ruleKind uint8

const (
	kindNone    ruleKind = iota // no target: count and continue
	kindVerdict                 // ACCEPT, DROP, QUEUE
	kindReturn                  // RETURN
	kindJump                    // jump or goto to a user chain
	kindTarget                  // an extension target
	kindMissing                 // an extension without packet semantics
)

type progRule struct {
	rule    *Rule
	num     int32 // 1-based position in its chain
	chain   int32
	kind    ruleKind
	goto_   bool
	verdict VerdictCode
	jump    int32 // chain index for kindJump
	target  PacketTargeter
	matches []PacketMatcher

	// The compiled header.
	src, srcMask, dst, dstMask [16]byte
	hasSrc, hasDst             bool
	in, out                    Iface
	proto                      uint8
	frag                       bool
	inv                        uint8
}

type progChain struct {
	chain      *Chain
	start, end int32 // rules[start:end]
}

// Program is a compiled table, ready to run packets.
type Program struct {
	Table  *Table
	Family Family
	rules  []progRule
	chains []progChain
	hook   [NumHooks]int32 // chain index of each hook's base chain, -1: none
}

// MissingSemantics is returned by Compile when an extension in the table
// cannot evaluate packets.
type MissingSemantics struct {
	Table, Chain, Ext string
	Num               int
}

func (e *MissingSemantics) Error() string {
	return fmt.Sprintf("%s: rule %d of chain %s: %s has no packet semantics", e.Table, e.Num, e.Chain, e.Ext)
}

// Compile builds the program of a table. A table that is not present
// compiles to a program without base chains (its hooks are not
// registered). Extensions without packet semantics make Compile fail
// with *MissingSemantics unless lenient is set; then such a rule never
// matches (and the error is still returned for the caller to report).
func Compile(t *Table, fam Family, lenient bool) (*Program, error) {
	p := &Program{Table: t, Family: fam}
	for i := range p.hook {
		p.hook[i] = -1
	}
	if !t.Present {
		return p, nil
	}
	index := make(map[string]int32, len(t.Chains))
	for i, c := range t.Chains {
		index[c.Name] = int32(i)
	}
	var first error
	for ci, c := range t.Chains {
		if c.Builtin && c.Created {
			p.hook[c.Hook] = int32(ci)
		}
		pc := progChain{chain: c, start: int32(len(p.rules))}
		for ri, r := range c.Rules {
			pr := progRule{rule: r, num: int32(ri + 1), chain: int32(ci), inv: r.Inv, proto: r.Proto, in: r.In, out: r.Out, goto_: r.Goto()}
			pr.frag = fam == IPv4 && r.Flags&FlagFrag != 0
			if r.SrcMask.IsValid() && !r.SrcMask.IsUnspecified() {
				pr.hasSrc, pr.src, pr.srcMask = true, r.Src.As16(), r.SrcMask.As16()
			}
			if r.DstMask.IsValid() && !r.DstMask.IsUnspecified() {
				pr.hasDst, pr.dst, pr.dstMask = true, r.Dst.As16(), r.DstMask.As16()
			}
			for _, m := range r.Matches {
				pm, ok := m.Info.(PacketMatcher)
				if !ok {
					pr.kind = kindMissing
					if first == nil {
						first = &MissingSemantics{t.Name, c.Name, m.Type.Name, ri + 1}
					}
					continue
				}
				pr.matches = append(pr.matches, pm)
			}
			if pr.kind != kindMissing {
				if err := p.compileTarget(&pr, r, index); err != nil {
					if first == nil {
						first = &MissingSemantics{t.Name, c.Name, err.Error(), ri + 1}
					}
					pr.kind = kindMissing
				}
			}
			p.rules = append(p.rules, pr)
		}
		pc.end = int32(len(p.rules))
		p.chains = append(p.chains, pc)
	}
	if first != nil && !lenient {
		return nil, first
	}
	return p, first
}

func (p *Program) compileTarget(pr *progRule, r *Rule, index map[string]int32) error {
	switch {
	case r.Target == nil:
		pr.kind = kindNone
	case r.Target.Type != nil:
		pt, ok := r.Target.Info.(PacketTargeter)
		if !ok {
			return fmt.Errorf("%s", r.Target.Type.Name)
		}
		pr.kind, pr.target = kindTarget, pt
	default:
		switch r.Target.Name {
		case VerdictAccept:
			pr.kind, pr.verdict = kindVerdict, VerdictCodeAccept
		case VerdictDrop:
			pr.kind, pr.verdict = kindVerdict, VerdictCodeDrop
		case VerdictQueue:
			// NF_QUEUE to queue 0; with no listener the packet is dropped.
			pr.kind, pr.verdict = kindVerdict, VerdictCodeQueue
		case VerdictReturn:
			pr.kind = kindReturn
		default:
			ci, ok := index[r.Target.Name]
			if !ok {
				return fmt.Errorf("chain %s", r.Target.Name)
			}
			pr.kind, pr.jump = kindJump, ci
		}
	}
	return nil
}

// HasHook reports whether the table has a base chain on the hook.
func (p *Program) HasHook(hook int) bool { return p.hook[hook] >= 0 }

// Tracer observes a walk: every rule whose matches were evaluated, and the
// policy when it decides. A nil Tracer costs nothing.
type Tracer interface {
	// Rule is called for each rule evaluated: matched says whether its
	// header and matches matched; v is the target's verdict when it did
	// (VerdictCodeContinue for a jump, a rule without target, or a
	// target that continues).
	Rule(p *Program, chain *Chain, num int, r *Rule, matched bool, v VerdictCode)
	// Return is called when a user chain returns (RETURN or its end).
	Return(p *Program, chain *Chain)
	// Policy is called when a base chain's policy decides.
	Policy(p *Program, chain *Chain, v VerdictCode)
}

// Decision says which rule decided a walk: Chain and Num (1-based) of the
// rule, or Num 0 for the chain's policy.
type Decision struct {
	Chain *Chain
	Rule  *Rule
	Num   int
}

type frame struct {
	chain int32
	next  int32
}

// Run walks the base chain of hook with the packet in st and returns the
// verdict (Accept, Drop, Queue or Stolen) and what decided it. A table
// without a base chain on the hook accepts.
func (p *Program) Run(st *PacketState, hook int, tr Tracer) (VerdictCode, Decision) {
	base := p.hook[hook]
	if base < 0 {
		return VerdictCodeAccept, Decision{}
	}
	st.Hook, st.Table, st.Family = hook, p.Table.Name, p.Family
	var stack [NFTJumpStackSize]frame
	sp := 0
	src, dst := st.Pkt.Src().As16(), st.Pkt.Dst().As16()
	ci := base
	i := p.chains[ci].start
	for {
		if i >= p.chains[ci].end {
			// End of the chain: a user chain returns, a base chain's
			// policy decides.
			if ci != base || sp > 0 {
				if tr != nil {
					tr.Return(p, p.chains[ci].chain)
				}
				if sp == 0 {
					// A goto from the base chain ended: the base policy.
					ci = base
					i = p.chains[ci].end
					goto policy
				}
				sp--
				ci, i = stack[sp].chain, stack[sp].next
				continue
			}
		policy:
			c := p.chains[base].chain
			v := VerdictCodeAccept
			if c.Policy == VerdictDrop {
				v = VerdictCodeDrop
			}
			c.Counters.Packets++
			c.Counters.Bytes += uint64(len(st.Pkt.Data))
			if tr != nil {
				tr.Policy(p, c, v)
			}
			return v, Decision{Chain: c}
		}
		pr := &p.rules[i]
		i++
		if !p.matchHeader(pr, st, &src, &dst) || !matchAll(pr.matches, st) {
			if st.HotDrop {
				if tr != nil {
					tr.Rule(p, p.chains[ci].chain, int(pr.num), pr.rule, false, VerdictCodeDrop)
				}
				return VerdictCodeDrop, Decision{Chain: p.chains[ci].chain, Rule: pr.rule, Num: int(pr.num)}
			}
			if tr != nil {
				tr.Rule(p, p.chains[ci].chain, int(pr.num), pr.rule, false, VerdictCodeContinue)
			}
			continue
		}
		if pr.kind == kindMissing {
			continue
		}
		pr.rule.Counters.Packets++
		pr.rule.Counters.Bytes += uint64(len(st.Pkt.Data))
		v := VerdictCodeContinue
		switch pr.kind {
		case kindVerdict:
			v = pr.verdict
		case kindTarget:
			v = pr.target.TargetPacket(st)
		case kindReturn:
			v = VerdictCodeReturn
		}
		if tr != nil {
			tr.Rule(p, p.chains[ci].chain, int(pr.num), pr.rule, true, v)
		}
		switch v {
		case VerdictCodeContinue:
			if pr.kind == kindJump {
				if !pr.goto_ {
					if sp == len(stack) {
						// nft_do_chain refuses to go deeper: the packet
						// is dropped.
						return VerdictCodeDrop, Decision{Chain: p.chains[ci].chain, Rule: pr.rule, Num: int(pr.num)}
					}
					stack[sp] = frame{chain: ci, next: i}
					sp++
				}
				ci = pr.jump
				i = p.chains[ci].start
			}
		case VerdictCodeReturn:
			// RETURN ends the current chain: a user chain pops, a base
			// chain's policy decides.
			i = p.chains[ci].end
		default:
			return v, Decision{Chain: p.chains[ci].chain, Rule: pr.rule, Num: int(pr.num)}
		}
	}
}

func matchAll(ms []PacketMatcher, st *PacketState) bool {
	for _, m := range ms {
		if !m.MatchPacket(st) || st.HotDrop {
			return false
		}
	}
	return true
}

// matchHeader is the rule's fixed part: ip_packet_match, as nft payload
// and meta expressions evaluate it.
func (p *Program) matchHeader(pr *progRule, st *PacketState, src, dst *[16]byte) bool {
	if pr.hasSrc && maskedEqual(src, &pr.src, &pr.srcMask) == (pr.inv&InvSrcIP != 0) {
		return false
	}
	if pr.hasDst && maskedEqual(dst, &pr.dst, &pr.dstMask) == (pr.inv&InvDstIP != 0) {
		return false
	}
	if !pr.in.Empty() && ifaceMatch(pr.in, st.In) == (pr.inv&InvViaIn != 0) {
		return false
	}
	if !pr.out.Empty() && ifaceMatch(pr.out, st.Out) == (pr.inv&InvViaOut != 0) {
		return false
	}
	if pr.proto != 0 {
		// meta l4proto: the IPv4 protocol field, the IPv6 transport
		// protocol after the extension headers (ipv6_find_hdr, which for
		// a later fragment names the fragment's next header).
		if st.L4Proto < 0 {
			return false
		}
		if (uint8(st.L4Proto) == pr.proto) == (pr.inv&InvProto != 0) {
			return false
		}
	}
	if pr.frag && (st.FragOff != 0) == (pr.inv&InvFrag != 0) {
		return false
	}
	return true
}

func maskedEqual(a, want, mask *[16]byte) bool {
	x0 := binary.BigEndian.Uint64(a[:8]) ^ binary.BigEndian.Uint64(want[:8])
	x1 := binary.BigEndian.Uint64(a[8:]) ^ binary.BigEndian.Uint64(want[8:])
	return x0&binary.BigEndian.Uint64(mask[:8]) == 0 && x1&binary.BigEndian.Uint64(mask[8:]) == 0
}

// ifaceMatch compares a device name with a rule's interface: exactly, or
// by prefix for "eth+".
func ifaceMatch(i Iface, dev string) bool {
	if i.Wildcard {
		return len(dev) >= len(i.Name) && dev[:len(i.Name)] == i.Name
	}
	return dev == i.Name
}

// FragOffset returns the fragment offset the way nft_set_pktinfo records
// it for matches (non-zero exactly for a later fragment).
func FragOffset(h *packet.Headers) int {
	if h.IsIPv4() {
		return int(h.IPv4.FragOff)
	}
	if h.Layers&packet.LayerFragment != 0 {
		return int(h.IPv6.Frag.Offset)
	}
	return 0
}
