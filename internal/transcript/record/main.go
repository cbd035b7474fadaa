// Command record runs .cmds scripts against the real iptables in network
// namespaces and writes the .golden transcripts beside them (run as root;
// scripts/record-transcripts.sh is the documented way in).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/iptwin/iptwin/internal/transcript"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: record FILE.cmds...")
		os.Exit(2)
	}
	if why := transcript.KernelAvailable(); why != "" {
		fmt.Fprintln(os.Stderr, "record:", why)
		os.Exit(1)
	}
	rc := 0
	for _, f := range os.Args[1:] {
		s, err := transcript.Parse(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			rc = 1
			continue
		}
		dir, _ := filepath.Abs(filepath.Dir(f))
		out, err := transcript.Render(s, transcript.Kernel(fmt.Sprintf("iptw-rec-%d", os.Getpid()), dir, s.Hosts))
		if err != nil {
			fmt.Fprintln(os.Stderr, f+":", err)
			rc = 1
			continue
		}
		g := strings.TrimSuffix(f, ".cmds") + ".golden"
		if err := os.WriteFile(g, out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			rc = 1
			continue
		}
		fmt.Println("recorded", g)
	}
	os.Exit(rc)
}
