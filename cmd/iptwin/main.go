// Command iptwin is a twin of Linux netfilter as driven by iptables 1.8.9.
// It is a multi-call binary: invoked as iptables, ip6tables, iptables-save,
// iptables-restore (and the ip6 variants) or ipset through a link of that
// name, it behaves as that tool on a twin host's state; invoked as iptwin,
// its first argument names the command.
package main

import (
	"os"

	"github.com/iptwin/iptwin/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
