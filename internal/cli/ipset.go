package cli

import (
	"fmt"

	"github.com/iptwin/iptwin/ipset"
)

// The ipset command: the twin host's sets, kept in the state directory
// file "ipsets" and changed under the state lock.
func init() {
	Register("ipset", runIpset)
}

func runIpset(env *Env, prog string, args []string) int {
	d, code := openState(env, prog)
	if d == nil {
		return code
	}
	defer d.Unlock()
	h, err := ipset.Load(d.Path, d.Names())
	if err != nil {
		fmt.Fprintf(env.Stderr, "ipset v%s: %v\n", ipset.Version, err)
		return 1
	}
	rc, changed := h.Run(args, env.Stdin, env.Stdout, env.Stderr)
	if changed {
		if err := h.Store(d.Path); err != nil {
			fmt.Fprintf(env.Stderr, "ipset v%s: %v\n", ipset.Version, err)
			return 1
		}
	}
	return rc
}
