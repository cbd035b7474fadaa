// Package xttest runs iptables' own per-extension tests (the *.t files of
// the iptables source, as its iptables-test.py runs them) against iptwin in
// process, one fresh twin host per case, with the semantics of the corpus'
// run-xt-tests.sh.
package xttest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/internal/transcript"
)

// Case is one test line run with one binary.
type Case struct {
	ID    string // FILE:LINE:iptables|ip6tables
	File  string
	Line  int
	Prog  string   // iptables or ip6tables
	Table string   // "" = filter
	Chain []string // chains the rule is appended to
	Ext   []string // external commands above the line, in order
	Rule  string
	Saved string
	Res   string // OK, FAIL or NOMATCH after the variant is applied
}

// Load reads the cases of every *.t file in dir. only4 runs libxt_* files
// with iptables only (iptables 1.8.9's iptables-test.py); otherwise with
// both binaries.
func Load(dir string, only4 bool) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.t"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Case
	for _, path := range files {
		f := filepath.Base(path)
		var progs []string
		switch {
		case strings.HasPrefix(f, "libipt_"):
			progs = []string{"iptables"}
		case strings.HasPrefix(f, "libip6t_"):
			progs = []string{"ip6tables"}
		case strings.HasPrefix(f, "libxt_"):
			progs = []string{"iptables", "ip6tables"}
			if only4 {
				progs = progs[:1]
			}
		case strings.HasPrefix(f, "libarpt_"), strings.HasPrefix(f, "libebt_"):
			continue
		default:
			progs = []string{"iptables"}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for _, prog := range progs {
			out = append(out, parseFile(f, string(data), prog)...)
		}
	}
	return out, nil
}

func parseFile(name, data, prog string) []Case {
	var out []Case
	var table string
	var chains, ext []string
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case line == "" || strings.TrimSpace(line) == "" || line[0] == '#':
			continue
		case line[0] == ':':
			chains = strings.Split(line[1:], ",")
			continue
		case line[0] == '*':
			table = line[1:]
			continue
		case line[0] == '@' || line[0] == '%':
			ext = append(ext, line[1:])
			continue
		}
		f := strings.Split(line, ";")
		c := Case{ID: fmt.Sprintf("%s:%d:%s", name, n, prog), File: name, Line: n, Prog: prog,
			Table: table, Chain: chains, Ext: append([]string(nil), ext...), Rule: f[0]}
		if len(f) > 1 {
			c.Saved = f[1]
		}
		if c.Saved == "=" {
			c.Saved = c.Rule
		}
		if len(f) > 2 {
			c.Res = strings.Join(strings.Fields(f[2]), "")
		}
		if len(f) > 3 {
			v := strings.Join(strings.Fields(f[3]), "")
			alt := ""
			if len(f) > 4 {
				alt = strings.Join(strings.Fields(f[4]), "")
			}
			if v != "NFT" { // we are the nf_tables variant
				if alt != "" {
					c.Res = alt
				} else {
					switch c.Res {
					case "OK":
						c.Res = "FAIL"
					case "FAIL", "NOMATCH":
						c.Res = "OK"
					}
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// Run runs one case on a fresh host in the state directory st (which must
// not exist yet) and returns "" on success or why it failed, in the words
// of run-xt-tests.sh.
func Run(c Case, st string) string {
	if err := os.MkdirAll(st, 0o755); err != nil {
		return err.Error()
	}
	defer os.RemoveAll(st)
	run := func(argv []string) ([]byte, int) {
		var o bytes.Buffer
		full := append([]string{argv[0], "--state", st}, argv[1:]...)
		rc := cli.Main(full, bytes.NewReader(nil), &o, &o)
		return o.Bytes(), rc
	}
	for _, e := range c.Ext {
		argv, err := transcript.SplitWords(e)
		if err != nil || len(argv) == 0 || !cli.Has(argv[0]) {
			continue // a tool iptwin does not model (its effect is on the kernel only)
		}
		run(argv)
	}
	if len(c.Chain) == 0 {
		return "broken test, missing chain"
	}
	words, err := transcript.SplitWords(c.Rule)
	if err != nil {
		return "cannot split rule: " + err.Error()
	}
	for _, chain := range c.Chain {
		argv := []string{c.Prog}
		if c.Table != "" {
			argv = append(argv, "-t", c.Table)
		}
		argv = append(argv, "-A", chain)
		argv = append(argv, words...)
		out, rc := run(argv)
		if rc != 0 {
			if c.Res == "FAIL" {
				continue
			}
			first, _, _ := strings.Cut(string(out), "\n")
			return fmt.Sprintf("cannot load: %s: %s", strings.Join(argv, " "), first)
		}
		if c.Res == "FAIL" {
			return "should fail: " + strings.Join(argv, " ")
		}
		largv := []string{c.Prog}
		if c.Table != "" {
			largv = append(largv, "-t", c.Table)
		}
		listing, _ := run(append(largv, "-S", chain))
		want := "-A " + chain + " " + c.Saved
		found, last := false, ""
		for _, l := range strings.Split(string(listing), "\n") {
			if l == want {
				found = true
			}
			if strings.HasPrefix(l, "-A "+chain+" ") {
				last = l
			}
		}
		if found && c.Res != "OK" {
			return "should not match: " + strings.Join(argv, " ")
		}
		if !found && c.Res == "OK" {
			return fmt.Sprintf("cannot find: %s; got: %s", want, last)
		}
	}
	return ""
}

// Baseline reads a baseline file: the ids of the cases the real tool passes.
func Baseline(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		id, _, _ := strings.Cut(l, "\t")
		out[id] = true
	}
	return out, nil
}
