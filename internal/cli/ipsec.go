package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/iptwin/iptwin/sim"
)

// ipsec in a host's script under `iptwin sim`: strongSwan runs inside the
// simulator, not in the script's process, so the command is handed to it
// (a line in the state directory's sim.IPsecRequests) and carried out when
// the script is done: at boot for a setup script, right after it for a
// step's "bash FILE", where its output is printed.

func init() { commands["ipsec"] = runIPsec }

func runIPsec(env *Env, prog string, args []string) int {
	if os.Getenv("IPTWIN_SIM") == "" {
		fmt.Fprintln(env.Stderr, "ipsec: strongSwan runs only inside `iptwin sim` (a host's ipsec field)")
		return 1
	}
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "Usage: ipsec {up NAME|status|statusall|start|stop|restart|reload}")
		return 1
	}
	for _, a := range args {
		if strings.ContainsAny(a, "\n\t") {
			fmt.Fprintf(env.Stderr, "ipsec: bad argument %q\n", a)
			return 1
		}
	}
	f, err := os.OpenFile(filepath.Join(env.StatePath, sim.IPsecRequests), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = fmt.Fprintln(f, strings.Join(args, "\t"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "ipsec: %v\n", err)
		return 1
	}
	return 0
}
