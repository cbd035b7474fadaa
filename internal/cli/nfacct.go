package cli

import "github.com/iptwin/iptwin/nfacct"

// nfacct: the twin host's extended accounting objects (nfacct(8)).
func init() {
	Register("nfacct", func(env *Env, prog string, args []string) int {
		d, code := openState(env, prog)
		if d == nil {
			return code
		}
		defer d.Unlock()
		return nfacct.Main(d.Path, prog, args, env.Stdin, env.Stdout, env.Stderr)
	})
}
