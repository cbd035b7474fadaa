package rate

import "github.com/iptwin/iptwin/xtables"

// Some state of these extensions belongs to the host (the kernel keeps it
// per network namespace), not to one rule: recent tables are shared by
// name by every rule naming them, hashlimit tables by name and family,
// rate estimators by name between RATEEST targets and rateest matches.
// A host that keeps a Shared and hands it out through its Env (StateHost)
// gets the kernel's sharing; without one every rule has state of its own.

// StateHost is implemented by an Env that keeps the host's Shared.
type StateHost interface {
	RateState() *Shared
}

// Shared is the host-wide state of the rate extensions. The zero value is
// ready to use; it is not safe for concurrent use (the packet path of one
// host runs one packet at a time).
type Shared struct {
	recent    map[string]*recentTable
	hashlimit map[hlTableKey]*hlTable
	est       map[string]*estimator
}

type hlTableKey struct {
	name string
	fam  xtables.Family
}

// Prune forgets the tables and estimators that none of infos (the match
// and target data of every rule of the host) refers to, as the kernel
// frees them with the last rule using them. Call it after a new ruleset
// is in place: state a new rule shares with one it replaces survives.
func (s *Shared) Prune(infos []any) {
	recent := map[string]bool{}
	hl := map[hlTableKey]bool{}
	est := map[string]bool{}
	for _, i := range infos {
		switch v := i.(type) {
		case *Recent:
			recent[v.Name] = true
		case *Hashlimit:
			hl[hlTableKey{v.Name, v.fam}] = true
		case *Rateest:
			est[v.Name1] = true
			if v.Name2 != "" {
				est[v.Name2] = true
			}
		case *RATEEST:
			est[v.Name] = true
		}
	}
	for k := range s.recent {
		if !recent[k] {
			delete(s.recent, k)
		}
	}
	for k := range s.hashlimit {
		if !hl[k] {
			delete(s.hashlimit, k)
		}
	}
	for k := range s.est {
		if !est[k] {
			delete(s.est, k)
		}
	}
}

// sharedOf is the host's Shared, or nil.
func sharedOf(st *xtables.PacketState) *Shared {
	if h, ok := st.Env.(StateHost); ok {
		return h.RateState()
	}
	return nil
}
