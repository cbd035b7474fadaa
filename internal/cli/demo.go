package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/iptwin/iptwin/examples"
)

// runDemo is the README's main job: seed 004's ruleset restored into a
// fresh twin host and listed, each command shown as a user would type it.
func runDemo(env *Env, prog string, args []string) int {
	rules, err := examples.FS.ReadFile("seed004/iptables.txt")
	if err != nil {
		fmt.Fprintf(env.Stderr, "demo: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "iptwin-demo-")
	if err != nil {
		fmt.Fprintf(env.Stderr, "demo: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(env.Stdout, "# Seed 004: a VPS firewall with -m state, restored into a fresh twin host\n")
	steps := []struct {
		show  string
		argv  []string
		stdin []byte
	}{
		{"iptables-restore < examples/seed004/iptables.txt", []string{"iptables-restore"}, rules},
		{"iptables -L -nv", []string{"iptables", "-L", "-nv"}, nil},
		{"iptables -S MYCHAIN", []string{"iptables", "-S", "MYCHAIN"}, nil},
	}
	for _, s := range steps {
		fmt.Fprintf(env.Stdout, "\n$ %s\n", s.show)
		argv := append([]string{s.argv[0], "--state", dir}, s.argv[1:]...)
		if rc := Main(argv, bytes.NewReader(s.stdin), env.Stdout, env.Stderr); rc != 0 {
			fmt.Fprintf(env.Stderr, "demo: %s failed (exit %d)\n", s.show, rc)
			return rc
		}
	}
	return 0
}

func init() { commands["demo"] = runDemo }
