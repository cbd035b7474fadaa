package examples_test

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of the trace examples")

// TestTraceSeed002 runs the set-up script of examples/trace-seed002 and
// traces the SSH SYN of seed 002 through the host: REJECT answers it with
// an ICMP port unreachable, whose OUTPUT LOG line quotes the SYN. The
// expected output is the README's; the LOG line and the reply are the
// kernel's (internal/kernelref's log_seed002_reject scenario checks them
// against a recording).
func TestTraceSeed002(t *testing.T) {
	dir := "trace-seed002"
	state := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		var stdin *os.File
		if n := len(args); n >= 2 && args[n-2] == "<" {
			f, err := os.Open(filepath.Join(dir, args[n-1]))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			stdin, args = f, args[:n-2]
		}
		argv := append([]string{"iptwin", "--state", state}, args...)
		var in = strings.NewReader("")
		var rc int
		if stdin != nil {
			rc = cli.Main(argv, stdin, &out, &errb)
		} else {
			rc = cli.Main(argv, in, &out, &errb)
		}
		if rc != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), rc, errb.String())
		}
		return out.String()
	}
	f, err := os.Open(filepath.Join(dir, "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		run(strings.Fields(line)...)
	}
	f.Close()
	got := "$ iptwin trace 'tcp 10.1.77.146:55724 > 10.1.51.165:22 syn win 26883 ipid 40037 df mss 1460 sackok ts 1:0 wscale 7 in eth0'\n" +
		run("trace", "tcp 10.1.77.146:55724 > 10.1.51.165:22 syn win 26883 ipid 40037 df mss 1460 sackok ts 1:0 wscale 7 in eth0") +
		"\n$ iptables -L -v -n\n" + run("iptables", "-L", "-v", "-n")
	want := filepath.Join(dir, "trace.txt")
	if *update {
		if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(exp) {
		t.Errorf("trace output differs from %s (go test ./examples -run TraceSeed002 -update rewrites it):\n%s", want, got)
	}
}
