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
	out := ms[:0]          // compacted in place: out never passes the match read
	var acc map[string]int // name -> index in out of the reused match
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
		i, have := acc[m.Type.Name]
		if have {
			prev = out[i].Info
		}
		res, merged := n.NFTRebuild(prev)
		switch {
		case res == nil:
		case merged && have:
			out[i] = &xtables.Match{Type: m.Type, Info: res}
		default:
			if merged {
				if acc == nil {
					acc = map[string]int{}
				}
				acc[m.Type.Name] = len(out)
			}
			out = append(out, &xtables.Match{Type: m.Type, Info: res})
		}
	}
	return out, nil
}
