package examples_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSimExamples runs every examples/sim-*/network.yaml through the
// iptwin command, as README shows it, and compares the output with the
// example's expected.txt (`iptwin sim --check`); -update rewrites them.
func TestSimExamples(t *testing.T) {
	dirs, err := filepath.Glob("sim-*/network.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no sim examples found (%v)", err)
	}
	bin := filepath.Join(t.TempDir(), "iptwin")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/iptwin/iptwin/cmd/iptwin").CombinedOutput(); err != nil {
		t.Fatalf("building iptwin: %v\n%s", err, out)
	}
	for _, file := range dirs {
		dir := filepath.Dir(file)
		t.Run(dir, func(t *testing.T) {
			args := []string{"sim", "--check", filepath.Join(dir, "expected.txt"), file}
			if *update {
				args = append(args[:3], "--update", file)
			}
			var out bytes.Buffer
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.Env = append(os.Environ(), "IPTWIN_STATE="+t.TempDir())
			if err := cmd.Run(); err != nil {
				t.Errorf("iptwin %v: %v\n%s", args, err, out.String())
			}
		})
	}
}
