package sim_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/sim"
)

// run is the in-process runner the command line passes.
func run(state string, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cli.Main(append([]string{argv[0], "--state", state}, argv[1:]...), stdin, stdout, stderr)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the iptwin command once per test run (setup scripts call
// it through their PATH).
func iptwinBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iptwin-sim-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "iptwin")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/iptwin/iptwin/cmd/iptwin")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("building iptwin: %v\n%s", binErr, binPath)
	}
	return binPath
}

func TestMain(m *testing.M) {
	rc := m.Run()
	if binPath != "" && binErr == nil {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(rc)
}

// options are the options of a test run; withBinary when a host has a
// script.
func options(t testing.TB, withBinary bool) sim.Options {
	o := sim.Options{Run: run}
	if withBinary {
		o.Exec = iptwinBinary(t)
	}
	return o
}

// runFile parses and runs a topology file.
func runFile(t testing.TB, path string, o sim.Options) *sim.Result {
	t.Helper()
	topo, err := sim.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(topo, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func text(t testing.TB, r *sim.Result) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// parse parses a topology given inline, in dir (for its files).
func parse(t testing.TB, dir, yaml string) (*sim.Topology, error) {
	t.Helper()
	p := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return sim.ParseFile(p)
}

// runPassing parses a topology's text (written to dir/net.yaml), runs it
// and fails the test, with the run's output, when an assertion failed.
func runPassing(t testing.TB, dir, yaml string, withBinary bool) *sim.Result {
	t.Helper()
	topo, err := parse(t, dir, yaml)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.Run(topo, options(t, withBinary))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(r); len(f) > 0 {
		t.Fatalf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), text(t, r))
	}
	return r
}
