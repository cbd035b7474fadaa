package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/xfrm"
)

// FuzzIPXfrm runs random argument lists through ip xfrm on one state
// directory: no input may panic, every failure prints something, and the
// database stays loadable and listable. The seeds are every fourth
// command of the ip xfrm transcripts (all of them run in TestIPXfrm*).
func FuzzIPXfrm(f *testing.F) {
	files, _ := filepath.Glob("testdata/ip-xfrm*/*.cmds")
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "ip "); ok {
				if n++; n%4 == 0 {
					f.Add(rest)
				}
			}
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(strings.ReplaceAll(line, "'", ""))
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, StatePath: dir}
		rc := XfrmForTest(env, args)
		if rc != 0 && errb.Len() == 0 && strings.Contains(line, "xfrm") {
			t.Fatalf("%q: exit %d without a message", line, rc)
		}
		if strings.Contains(errb.String(), "damaged") {
			t.Fatalf("state damaged after %q: %s", line, errb.String())
		}
		db, err := xfrm.Load(dir)
		if err != nil {
			t.Fatalf("after %q: %v", line, err)
		}
		o := &xfrm.FormatOptions{Stats: 2}
		for _, s := range db.States {
			xfrm.AppendState(nil, s, o)
		}
		for _, p := range db.Policies {
			xfrm.AppendPolicy(nil, p, o)
		}
		if len(db.States) > 200 || len(db.Policies) > 200 {
			db.FlushStates(0)
			db.FlushPolicies(0)
			db.FlushPolicies(1)
			db.Save(dir)
		}
	})
}
