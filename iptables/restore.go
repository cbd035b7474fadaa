package iptables

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/iptwin/iptwin/xtables"
)

// RestoreOptions are the options of iptables-restore.
type RestoreOptions struct {
	Family   xtables.Family
	Program  string // "iptables-restore" or "ip6tables-restore"
	Counters bool   // -c: [p:b] prefixes and policy counters are loaded
	Test     bool   // -t: parse only
	NoFlush  bool   // -n: do not flush the tables first
	Table    string // -T: restore only this table
	Verbose  int
	Names    xtables.Resolver
	State    bool // reading a state file (see xtables.Context.State)
	// Stderr receives the warnings printed while parsing; nil drops them.
	Stderr io.Writer
}

// RestoreError is a failure of iptables-restore with the exact text it
// prints on stderr and its exit status.
type RestoreError struct {
	Stderr string
	Code   int
}

func (e *RestoreError) Error() string { return strings.TrimSpace(e.Stderr) }

type queuedCmd struct {
	line int
	cmd  *Command
}

type restorer struct {
	o         RestoreOptions
	committed *xtables.Ruleset
	work      *xtables.Ruleset
	table     string
	inTable   bool
	queue     []queuedCmd
	out       []byte
	pre       []parsed // rule lines parsed ahead, by line index
	chunkDone []chan struct{}
	objects   xtables.ObjectStore // the host's objects, fixed for the restore
}

// Restore reads an iptables-restore stream and applies it to rs, table by
// table: each COMMIT makes that table's changes final, so an error keeps
// what earlier COMMITs made. It returns the resulting rule set (rs itself is
// not modified), what was printed on stdout, and the error.
func Restore(rs *xtables.Ruleset, in io.Reader, o RestoreOptions) (*xtables.Ruleset, []byte, *RestoreError) {
	if o.Program == "" {
		o.Program = o.Family.Program() + "-restore"
	}
	r := &restorer{o: o, committed: rs.Clone(), objects: rs.Objects}
	data, err := readAll(in)
	if err != nil {
		return r.committed, nil, &RestoreError{Stderr: fmt.Sprintf("%s: %v\n", o.Program, err), Code: 1}
	}
	// The input is not touched again: rules may keep pieces of it.
	text := ""
	if len(data) > 0 {
		text = unsafe.String(&data[0], len(data))
	}
	lines := splitLines(text)
	r.pre = r.preparse(lines)
	line := 0
	for _, s := range lines {
		line++
		if rerr := r.parseLine(s, line); rerr != nil {
			return r.committed, r.out, rerr
		}
	}
	if r.inTable {
		return r.committed, r.out, &RestoreError{Stderr: fmt.Sprintf("%s: COMMIT expected at line %d\n", o.Program, line+1), Code: 1}
	}
	return r.committed, r.out, nil
}

// paramError formats a PARAMETER_PROBLEM (or other xtables error) raised
// while reading a line, as basic_exit_err prints it in iptables-restore.
func (r *restorer) paramError(err error, line int) *RestoreError {
	if le, ok := err.(*lineError); ok {
		err = xtables.Errorf(le.format, line)
	}
	var b strings.Builder
	code := int(xtables.ParameterProblem)
	switch e := err.(type) {
	case *badArgError:
		fmt.Fprintf(&b, "Bad argument `%s'\n", e.arg)
	case *xtables.Error:
		code = int(e.Code)
		if e != errTryHelp {
			fmt.Fprintf(&b, "%s v1.8.9 (nf_tables): %s\n", r.o.Program, e.Msg)
		}
	case *xtables.KernelError:
		fmt.Fprintf(&b, "%s: line %d failed: %s.\n", r.o.Program, line, e.Errno)
		return &RestoreError{Stderr: b.String(), Code: 1}
	default:
		fmt.Fprintf(&b, "%s v1.8.9 (nf_tables): %s\n", r.o.Program, err)
	}
	switch xtables.ExitCode(code) {
	case xtables.ParameterProblem:
		fmt.Fprintf(&b, "Error occurred at line: %d\n", line)
		fmt.Fprintf(&b, "Try `%s -h' or '%s --help' for more information.\n", r.o.Program, r.o.Program)
	case xtables.VersionProblem:
		fmt.Fprintf(&b, "Perhaps %s or your kernel needs to be upgraded.\n", r.o.Program)
	}
	return &RestoreError{Stderr: b.String(), Code: code}
}

func (r *restorer) parseLine(s string, line int) *RestoreError {
	if s == "" || s[0] == '\n' {
		return nil
	}
	if r.o.State && strings.HasPrefix(s, "#q ") {
		// a state line holding a newline (see quoteStateLine)
		if u, err := strconv.Unquote(strings.TrimSuffix(s[3:], "\n")); err == nil {
			s = u + "\n"
		}
	}
	if s[0] == '#' {
		if r.o.Verbose > 0 {
			r.out = append(r.out, s...)
		}
		return nil
	}
	ok := false
	switch {
	case r.inTable && strings.HasPrefix(s, "COMMIT") && (len(s) == 6 || s[6] == '\n'):
		if !r.o.Test {
			if err := r.commit(line); err != nil {
				return err
			}
		}
		r.queue, r.work, r.inTable = nil, nil, false
		ok = true
	case s[0] == '*' && !r.inTable:
		f := strings.Fields(s[1:])
		if len(f) == 0 {
			return r.paramError(xtables.Errorf("%s: line %d table name invalid", r.o.Program, line), line)
		}
		name := f[0]
		if r.committed.Table(name) == nil {
			return r.paramError(xtables.Errorf("%s: line %d table name '%s' invalid", r.o.Program, line, name), line)
		}
		r.table = name
		if r.o.Table != "" && r.o.Table != name {
			return nil
		}
		r.work = r.committed.Clone()
		t := r.work.Table(name)
		if !r.o.NoFlush {
			if r.o.Verbose > 0 && !r.o.Test {
				// what the flush of a table says with -v
				for _, c := range t.Sorted() {
					r.out = fmt.Appendf(r.out, "Flushing chain `%s'\n", c.Name)
				}
				for _, c := range t.UserChains() {
					r.out = fmt.Appendf(r.out, "Deleting chain `%s'\n", c.Name)
				}
			}
			t.Reset()
		}
		t.Present = true
		r.inTable = true
		ok = true
	case s[0] == ':' && r.inTable:
		if err := r.chainLine(s, line); err != nil {
			return err
		}
		ok = true
	case r.inTable:
		if err := r.ruleLine(s, line); err != nil {
			return err
		}
		ok = true
	}
	if r.o.Table != "" && r.table != "" && r.table != r.o.Table {
		return nil
	}
	if !ok {
		return &RestoreError{Stderr: fmt.Sprintf("%s: line %d failed\n", r.o.Program, line), Code: 1}
	}
	return nil
}

func (r *restorer) chainLine(s string, line int) *RestoreError {
	f := strings.Fields(s[1:])
	if len(f) == 0 {
		return r.paramError(xtables.Errorf("%s: line %d chain name invalid", r.o.Program, line), line)
	}
	name := f[0]
	p := &parser{po: ParseOptions{Family: r.o.Family}}
	if err := p.assertValidChainName(name); err != nil {
		return r.paramError(err, line)
	}
	if len(f) < 2 {
		return r.paramError(xtables.Errorf("%s: line %d policy invalid", r.o.Program, line), line)
	}
	t := r.work.Table(r.table)
	if c := t.Chain(name); c != nil && c.Builtin {
		var cnt xtables.Counters
		if r.o.Counters {
			if len(f) < 3 {
				return r.paramError(xtables.Errorf("invalid policy counters for chain '%s'", name), line)
			}
			var good bool
			cnt, good = parseCounterPair(f[2])
			if !good {
				return r.paramError(xtables.Errorf("invalid policy counters for chain '%s'", name), line)
			}
		}
		if f[1] != xtables.VerdictAccept && f[1] != xtables.VerdictDrop {
			return &RestoreError{Stderr: fmt.Sprintf("%s: line %d failed: Bad policy name. Run `dmesg' for more information.\n", r.o.Program, line), Code: 1}
		}
		c.Policy = f[1]
		c.Counters = cnt
		c.Created = true
		return nil
	}
	if c := t.Chain(name); c != nil {
		c.Rules = nil // an existing user chain is flushed (nft_chain_restore)
		return nil
	}
	t.AddChain(name)
	return nil
}

// parseCounterPair reads "[p:b]" (parse_counters).
func parseCounterPair(s string) (xtables.Counters, bool) {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return xtables.Counters{}, false
	}
	p, b, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok {
		return xtables.Counters{}, false
	}
	pv, ok1 := scanUint64(p)
	bv, ok2 := scanUint64(b)
	return xtables.Counters{Packets: pv, Bytes: bv}, ok1 && ok2
}

// readAll is io.ReadAll reading a file or reader of known size at once.
func readAll(in io.Reader) ([]byte, error) {
	size := 0
	switch v := in.(type) {
	case interface{ Len() int }:
		size = v.Len()
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(fi.Size())
		}
	}
	if size == 0 {
		return io.ReadAll(in)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+512))
	_, err := buf.ReadFrom(in)
	return buf.Bytes(), err
}

// splitLines cuts the input into lines that keep their "\n" (the last one
// may lack it), as fgets reads them.
func splitLines(s string) []string {
	n := strings.Count(s, "\n") + 1
	out := make([]string, 0, n)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// parsed is a rule line parsed ahead of its turn.
type parsed struct {
	table string
	cmd   *Command
	err   error
	chunk int32 // index in chunkDone, -1 when not parsed ahead
}

// preparse parses the rule lines in parallel before the lines are
// processed in order: parsing a rule depends only on its text and table,
// and it is most of a restore's work. Each result records the table it
// assumed; ruleLine parses again when the sequential pass disagrees.
func (r *restorer) preparse(lines []string) []parsed {
	if len(lines) < 256 {
		return nil
	}
	pre := make([]parsed, len(lines))
	idx := make([]int, 0, len(lines))
	table := ""
	for i, s := range lines {
		pre[i].chunk = -1
		switch {
		case len(s) > 0 && s[0] == '*':
			if f := strings.Fields(s[1:]); len(f) > 0 {
				table = f[0]
			}
		case len(s) > 0 && (s[0] == '-' || s[0] == '['):
			pre[i].table = table
			idx = append(idx, i)
		}
	}
	// Workers parse chunks in order while the lines are processed: the
	// processing waits only for the chunk of the line at hand.
	const chunkLen = 512
	n := (len(idx) + chunkLen - 1) / chunkLen
	r.chunkDone = make([]chan struct{}, n)
	for k := range r.chunkDone {
		r.chunkDone[k] = make(chan struct{})
		for _, i := range idx[k*chunkLen : min((k+1)*chunkLen, len(idx))] {
			pre[i].chunk = int32(k)
		}
	}
	var next atomic.Int64
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		go func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				for _, i := range idx[k*chunkLen : min((k+1)*chunkLen, len(idx))] {
					p := &pre[i]
					p.cmd, p.err = r.parseRule(lines[i], p.table)
				}
				close(r.chunkDone[k])
			}
		}()
	}
	return pre
}

func (r *restorer) ruleLine(s string, line int) *RestoreError {
	var cmd *Command
	var perr error
	if line-1 < len(r.pre) && r.pre[line-1].chunk >= 0 {
		<-r.chunkDone[r.pre[line-1].chunk]
	}
	if line-1 < len(r.pre) && r.pre[line-1].table == r.table && (r.pre[line-1].cmd != nil || r.pre[line-1].err != nil) {
		cmd, perr = r.pre[line-1].cmd, r.pre[line-1].err
		r.pre[line-1] = parsed{chunk: -1}
	} else {
		cmd, perr = r.parseRule(s, r.table)
	}
	if cmd != nil && r.o.Stderr != nil {
		for _, n := range cmd.Notices {
			fmt.Fprintln(r.o.Stderr, n)
		}
	}
	if perr != nil {
		if IsSkipLine(perr) {
			return nil
		}
		return r.paramError(perr, line)
	}
	if cmd.Help || cmd.Version {
		return nil
	}
	if r.queue == nil && len(r.pre) > 0 {
		r.queue = make([]queuedCmd, 0, len(r.pre)/2)
	}
	r.queue = append(r.queue, queuedCmd{line: line, cmd: cmd})
	return nil
}

// lineError is a restore-format error of a rule line whose message names
// the line; the line number is filled in when it is reported.
type lineError struct{ format string }

func (e *lineError) Error() string { return e.format }

// parseRule parses one rule line (with its optional [p:b] prefix) in a
// table; it does not touch the restorer's state.
func (r *restorer) parseRule(s, table string) (*Command, error) {
	// The argument vector is scratch: nothing keeps it after Parse.
	ap := argsPool.Get().(*[]string)
	defer argsPool.Put(ap)
	args := append((*ap)[:0], "-t", table)
	defer func() { *ap = args[:0] }()
	for i := 0; i < r.o.Verbose && !r.o.NoFlush && !r.o.Test; i++ {
		args = append(args, "-v")
	}
	rest := s
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, &lineError{"Bad line %d: need ]"}
		}
		inner := rest[1:end]
		pc, bc, found := strings.Cut(inner, ":")
		if !found || pc == "" {
			if pc == "" && !found {
				return nil, &lineError{"Bad line %d: need :"}
			}
			return nil, &lineError{"Bad line %d: need ]"}
		}
		if bc == "" {
			return nil, &lineError{"Bad line %d: need ]"}
		}
		if r.o.Counters {
			args = append(args, "--set-counters", pc, bc)
		}
		rest = rest[end+1:]
	}
	args, err := appendParams(args, rest)
	if err != nil {
		return nil, err
	}
	return Parse(args, ParseOptions{Family: r.o.Family, Table: table, Restore: true, Names: r.o.Names, State: r.o.State, Objects: r.objects})
}

var argsPool = sync.Pool{New: func() any { s := make([]string, 0, 32); return &s }}

// appendParams appends the words of s to dst as add_param_to_argv splits
// a restore line: words split on blanks; double quotes group (a closing
// quote ends the word, so "" is an empty word) and a backslash inside
// quotes takes the next character literally. A word that is a plain slice
// of s costs no allocation.
func appendParams(dst []string, s string) ([]string, error) {
	var scratch []byte
	quoteOpen, escaped := false, false
	start, n := -1, 0 // the word as a slice of s (start >= 0), its length
	inScratch := false
	emit := func() {
		if inScratch {
			dst = append(dst, string(scratch))
		} else if start >= 0 {
			dst = append(dst, s[start:start+n])
		} else {
			dst = append(dst, "")
		}
		start, n, inScratch = -1, 0, false
		scratch = scratch[:0]
	}
	add := func(k int) error {
		if !inScratch && (start < 0 || start+n == k) {
			if start < 0 {
				start = k
			}
			n++
		} else {
			if !inScratch {
				scratch = append(scratch[:0], s[start:start+n]...)
				inScratch = true
			}
			scratch = append(scratch, s[k])
			n++
		}
		if n >= 1024 {
			return xtables.Errorf("Parameter too long!")
		}
		return nil
	}
	for k := 0; k < len(s); k++ {
		ch := s[k]
		if quoteOpen {
			switch {
			case escaped:
				if err := add(k); err != nil {
					return dst, err
				}
				escaped = false
				continue
			case ch == '\\':
				escaped = true
				continue
			case ch != '"':
				if err := add(k); err != nil {
					return dst, err
				}
				continue
			}
			quoteOpen = false
		} else if ch == '"' {
			quoteOpen = true
			continue
		}
		switch ch {
		case '"':
		case ' ', '\t', '\n':
			if n == 0 {
				continue
			}
		default:
			if err := add(k); err != nil {
				return dst, err
			}
			continue
		}
		emit()
	}
	if n > 0 {
		emit()
	}
	return dst, nil
}

// splitParams is appendParams into a new slice.
func splitParams(s string) ([]string, error) { return appendParams(nil, s) }

// SplitParams splits a rule line into words exactly as iptables-restore
// does (for readers of state files looking for the objects rules name).
func SplitParams(s string) ([]string, error) { return appendParams(nil, s) }

// commit runs the table's queued commands on the working copy (the
// nf_tables batch) and makes it final when all succeed.
func (r *restorer) commit(line int) *RestoreError {
	var batchErrs []byte
	ctx := new(xtables.Context)
	for _, q := range r.queue {
		var out []byte
		if _, err := execute(r.work, q.cmd, r.o.Names, &out, ctx); err != nil {
			// The kernel refuses single messages and goes on with the
			// batch; every refusal is reported with its line.
			if be, ok := err.(*BatchError); ok {
				batchErrs = fmt.Appendf(batchErrs, "line %d: %s\n", q.line, be)
				continue
			}
			if ke, ok := err.(*xtables.KernelError); ok {
				msg := ke.Errno + "."
				if ke.Dmesg {
					msg += " Run `dmesg' for more information."
				}
				return &RestoreError{Stderr: fmt.Sprintf("%s: line %d failed: %s\n", r.o.Program, q.line, msg), Code: 1}
			}
			return r.paramError(err, line)
		}
		r.out = append(r.out, out...)
	}
	if batchErrs != nil {
		return &RestoreError{Stderr: r.o.Family.Program() + "-restore v1.8.9 (nf_tables): \n" + string(batchErrs), Code: 4}
	}
	r.committed = r.work
	return nil
}
