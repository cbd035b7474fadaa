// Package cli is iptwin's command line: the multi-call dispatch on the
// program name (iptables, ip6tables, iptables-save, iptables-restore, the
// ip6 variants, ipset) or on the first argument of `iptwin`, and one file
// per command. Commands write to the writers they are given and return an
// exit status; nothing below main calls os.Exit.
package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/iptwin/iptwin/ext" // every built-in extension
	"github.com/iptwin/iptwin/internal/wallclock"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

// Env is what a command runs with.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StatePath is the twin host's state directory.
	StatePath string
}

type command func(env *Env, prog string, args []string) int

var commands = map[string]command{
	"iptables":          runIptables(xtables.IPv4),
	"ip6tables":         runIptables(xtables.IPv6),
	"iptables-save":     runSave(xtables.IPv4),
	"ip6tables-save":    runSave(xtables.IPv6),
	"iptables-restore":  runRestore(xtables.IPv4),
	"ip6tables-restore": runRestore(xtables.IPv6),
}

// aliases are the names the nft variants of the tools also go by.
var aliases = map[string]string{
	"iptables-nft":          "iptables",
	"ip6tables-nft":         "ip6tables",
	"iptables-nft-save":     "iptables-save",
	"ip6tables-nft-save":    "ip6tables-save",
	"iptables-nft-restore":  "iptables-restore",
	"ip6tables-nft-restore": "ip6tables-restore",
}

// Register adds a multi-call command (used by packages that bring their
// own, such as ipset).
func Register(name string, fn func(env *Env, prog string, args []string) int) {
	commands[name] = fn
}

// Main runs iptwin with argv (argv[0] is the program name as invoked). It
// reads IPTWIN_STATE from the process environment.
func Main(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, StatePath: os.Getenv("IPTWIN_STATE")}
	if len(argv) == 0 {
		argv = []string{"iptwin"}
	}
	prog := filepath.Base(argv[0])
	args := argv[1:]
	args = takeState(env, args)
	if prog == "iptwin" || strings.HasPrefix(prog, "iptwin-") || strings.HasPrefix(prog, "iptwin.") {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			usage(stdout)
			if len(args) == 0 {
				return 2
			}
			return 0
		}
		if args[0] == "version" || args[0] == "--version" {
			fmt.Fprintln(stdout, "iptwin (iptables v1.8.9 (nf_tables) compatible)")
			return 0
		}
		prog, args = args[0], takeState(env, args[1:])
	}
	if a, ok := aliases[prog]; ok {
		prog = a
	}
	fn, ok := commands[prog]
	if !ok {
		fmt.Fprintf(stderr, "iptwin: unknown command %q\n", prog)
		usage(stderr)
		return 2
	}
	if env.StatePath == "" {
		env.StatePath = state.DefaultPath()
	}
	return fn(env, prog, args)
}

// clock is the host's wall clock: its state's (a simulation's virtual
// clock, package wallclock) or the machine's.
func (e *Env) clock() time.Time {
	if t, ok := wallclock.Read(e.StatePath); ok {
		return t
	}
	return now()
}

// takeState consumes a leading "--state DIR" or "--state=DIR".
func takeState(env *Env, args []string) []string {
	for len(args) > 0 {
		switch {
		case args[0] == "--state" && len(args) > 1:
			env.StatePath, args = args[1], args[2:]
		case strings.HasPrefix(args[0], "--state="):
			env.StatePath, args = strings.TrimPrefix(args[0], "--state="), args[1:]
		default:
			return args
		}
	}
	return args
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: iptwin [--state DIR] COMMAND [ARGS...]

A twin of Linux netfilter as driven by iptables 1.8.9 (nf_tables). Commands
act on a twin host kept in a state directory (--state DIR, or $IPTWIN_STATE,
default $XDG_STATE_HOME/iptwin/default).

Commands, also available as multi-call names through a link of that name:
  iptables, ip6tables                 the iptables(8) command line
  iptables-save, ip6tables-save       print the rule set
  iptables-restore, ip6tables-restore load a rule set (atomic per table)
  ipset                               the twin host's ip sets
  nfacct                              the twin host's nfacct counters
  ip                                  the twin host's links, addresses, routes, rules
  sysctl                              the twin host's sysctls
  conntrack                           the twin host's connection tracking table
  trace                               send packets into the twin host and show every step
  socket                              the twin host's listening sockets
  sim                                 run a network of twin hosts from a topology file (docs/sim.md)
  demo                                restore seed 004's ruleset into a fresh host and list it
`)
}

// openState opens and locks the state directory.
func openState(env *Env, prog string) (*state.Dir, int) {
	d, err := state.Open(env.StatePath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", prog, err)
		return nil, 4
	}
	if err := d.Lock(); err != nil {
		fmt.Fprintf(env.Stderr, "%s: cannot lock %s: %v\n", prog, env.StatePath, err)
		return nil, 4
	}
	return d, 0
}

// Has reports whether prog names an iptwin command (after aliases).
func Has(prog string) bool {
	if a, ok := aliases[prog]; ok {
		prog = a
	}
	_, ok := commands[prog]
	return ok
}
