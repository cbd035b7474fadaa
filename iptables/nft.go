package iptables

import "github.com/iptwin/iptwin/xtables"

// nftRoundTrip gives a rule's matches the form they have after the trip
// through the kernel that iptables-nft makes them take: natively
// translated matches are rebuilt by nft's rule parser (see
// xtables.NFTNative), in the position of their first expression.
func nftRoundTrip(ms []*xtables.Match, ctx *xtables.Context) ([]*xtables.Match, error) {
	any := false
	for _, m := range ms {
		if _, ok := m.Info.(xtables.NFTNative); ok {
			any = true
			break
		}
	}
	if !any {
		return ms, nil
	}
	// The matches are the rule's own (see buildRules): rebuilt ones take
	// their places.
	out := ms[:0] // compacted in place: out never passes the match read
	var acc []reusedMatch
	for _, m := range ms {
		n, ok := m.Info.(xtables.NFTNative)
		if !ok {
			out = append(out, m)
			continue
		}
		native, err := n.NFTNative(ctx)
		if err != nil {
			return nil, err
		}
		if !native {
			out = append(out, m)
			continue
		}
		var prev xtables.MatchInfo
		i, have := -1, false
		for _, a := range acc {
			if a.name == m.Type.Name {
				i, have = a.at, true
			}
		}
		if have {
			prev = out[i].Info
		}
		res, merged := n.NFTRebuild(prev)
		switch {
		case res == nil:
		case merged && have:
			out[i].Type, out[i].Info = m.Type, res
		default:
			if merged {
				acc = append(acc, reusedMatch{m.Type.Name, len(out)})
			}
			m.Info = res
			out = append(out, m)
		}
	}
	return out, nil
}

// reusedMatch is a match the parser reuses for the rest of the rule.
type reusedMatch struct {
	name string
	at   int // index in the rule's matches
}
