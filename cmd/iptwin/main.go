// Command iptwin is a twin of Linux netfilter as driven by iptables 1.8.9.
// It is a multi-call binary: invoked as iptables, ip6tables, iptables-save,
// iptables-restore (and the ip6 variants) or ipset through a link of that
// name, it behaves as that tool on a twin host's state; invoked as iptwin,
// its first argument names the command.
package main

import (
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/iptwin/iptwin/internal/cli"
)

func main() {
	// A command runs briefly and exits: fewer collections of a heap that
	// only grows save time on big rule sets (measured with 100,000 rules:
	// -S 0.69 s at the default, 0.29 s at 200). GOGC in the environment
	// wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	// IPTWIN_CPUPROFILE=FILE writes a CPU profile of the run (for the
	// benchmark scripts).
	if p := os.Getenv("IPTWIN_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			rc := cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(rc)
		}
	}
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
