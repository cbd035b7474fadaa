package examples_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestReadmeMainJob keeps README's excerpt of the main job true: each of
// its lines is a line of examples/sim-seed000/expected.txt, or, where
// abridged with "...", the beginning of one (the parts in order).
func TestReadmeMainJob(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := os.ReadFile("sim-seed000/expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## The main job")
	end := strings.Index(text[start:], "The same file gives")
	if start < 0 || end < 0 {
		t.Fatal("README has no main job section")
	}
	lines := strings.Split(string(exp), "\n")
	checked := 0
	for _, l := range strings.Split(text[start:start+end], "\n") {
		if !strings.HasPrefix(l, "    ") || strings.TrimSpace(l) == "..." {
			continue
		}
		l = strings.TrimPrefix(l, "    ")
		parts := strings.Split(l, "...")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		found := false
		for _, e := range lines {
			if matchParts(e, parts) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README line not in sim-seed000/expected.txt: %q", l)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d README lines checked", checked)
	}
}

// matchParts says whether line has the parts in order, the first at its
// start and, when the last part is not empty, the last at its end.
func matchParts(line string, parts []string) bool {
	if !strings.HasPrefix(line, parts[0]) {
		return false
	}
	rest := line[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return len(parts) > 1 || rest == ""
}
