package iptables

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
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

// queuedCmd is a command of the table being read, with its line. A plain
// append (the common case) comes as its chain and rule, without the
// command around it.
type queuedCmd struct {
	line  int
	cmd   *Command
	chain string
	rule  *xtables.Rule
}

type restorer struct {
	o         RestoreOptions
	committed *xtables.Ruleset
	work      *xtables.Ruleset
	table     string
	inTable   bool
	out       []byte
	text      string
	pre       *preparser          // rule lines parsed ahead; nil for short inputs
	objects   xtables.ObjectStore // the host's objects, fixed for the restore
	batch     batch               // of the table being read
	ctx       xtables.Context     // of the commands run
	one       Command             // a plain append, as a command for execute
}

// Restore reads an iptables-restore stream and applies it to rs, table by
// table: each COMMIT makes that table's changes final, so an error keeps
// what earlier COMMITs made. It returns the resulting rule set (rs itself is
// not modified), what was printed on stdout, and the error.
func Restore(rs *xtables.Ruleset, in io.Reader, o RestoreOptions) (*xtables.Ruleset, []byte, *RestoreError) {
	data, err := readAll(in)
	if err != nil {
		prog := o.Program
		if prog == "" {
			prog = o.Family.Program() + "-restore"
		}
		return rs.Clone(), nil, &RestoreError{Stderr: fmt.Sprintf("%s: %v\n", prog, err), Code: 1}
	}
	return RestoreBytes(rs, data, o)
}

// RestoreBytes is Restore reading data, which it keeps: rules hold pieces
// of it, so it must not change afterwards.
func RestoreBytes(rs *xtables.Ruleset, data []byte, o RestoreOptions) (*xtables.Ruleset, []byte, *RestoreError) {
	if o.Program == "" {
		o.Program = o.Family.Program() + "-restore"
	}
	r := &restorer{o: o, committed: rs.Clone(), objects: rs.Objects}
	if len(data) > 0 {
		r.text = unsafe.String(&data[0], len(data))
	}
	r.pre = r.preparse(r.text)
	defer r.pre.stop()
	line := 0
	for off := 0; off < len(r.text); {
		s := nextLine(r.text, off)
		at := off
		off += len(s)
		line++
		var pl *parsedLine
		var plTable string
		if r.pre != nil && isRuleText(s) {
			pl, plTable = r.pre.next(at)
		}
		if rerr := r.parseLine(s, line, at, pl, plTable); rerr != nil {
			return r.committed, r.out, rerr
		}
	}
	if r.inTable {
		return r.committed, r.out, &RestoreError{Stderr: fmt.Sprintf("%s: COMMIT expected at line %d\n", o.Program, line+1), Code: 1}
	}
	return r.committed, r.out, nil
}

// nextLine returns the line starting at off with its "\n" (the last one
// may lack it), as fgets reads it.
func nextLine(text string, off int) string {
	if i := strings.IndexByte(text[off:], '\n'); i >= 0 {
		return text[off : off+i+1]
	}
	return text[off:]
}

// isRuleText says whether a line is one the workers parse ahead.
func isRuleText(s string) bool { return len(s) > 0 && (s[0] == '-' || s[0] == '[') }

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

func (r *restorer) parseLine(s string, line, at int, pl *parsedLine, plTable string) *RestoreError {
	if s == "" || s[0] == '\n' {
		return nil
	}
	s = r.unquote(s)
	if s[0] == '#' {
		if r.o.Verbose > 0 {
			r.out = append(r.out, s...)
		}
		return nil
	}
	ok := false
	switch {
	case r.inTable && isCommit(s):
		if !r.o.Test {
			if err := r.commit(line, at); err != nil {
				return err
			}
		}
		r.batch, r.work, r.inTable = batch{}, nil, false
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
		r.beginTable(true)
		r.batch.start, r.batch.line = at+len(s), line
		r.batch.deferred = restoreAtCommit
		r.inTable = true
		ok = true
	case s[0] == ':' && r.inTable:
		if r.batch.ran > 0 && !r.batch.deferred {
			r.deferBatch(at)
		}
		if err := r.chainLine(s, line); err != nil {
			return err
		}
		ok = true
	case r.inTable:
		if err := r.ruleLine(s, line, pl, plTable); err != nil {
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

// unquote reads back a state line holding a newline (see quoteStateLine).
func (r *restorer) unquote(s string) string {
	if r.o.State && strings.HasPrefix(s, "#q ") {
		if u, err := strconv.Unquote(strings.TrimSuffix(s[3:], "\n")); err == nil {
			return u + "\n"
		}
	}
	return s
}

func isCommit(s string) bool {
	return strings.HasPrefix(s, "COMMIT") && (len(s) == 6 || s[6] == '\n')
}

// beginTable starts the working copy of r.table: the rule set as
// committed, the table flushed unless -n (saying so with -v when told).
func (r *restorer) beginTable(verbose bool) {
	r.work = r.committed.Clone()
	t := r.work.Table(r.table)
	if !r.o.NoFlush {
		if verbose && r.o.Verbose > 0 && !r.o.Test {
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
}

func (r *restorer) chainLine(s string, line int) *RestoreError {
	f, nf := fields3(s[1:])
	if nf == 0 {
		return r.paramError(xtables.Errorf("%s: line %d chain name invalid", r.o.Program, line), line)
	}
	name := f[0]
	if err := assertValidChainName(r.o.Family, name); err != nil {
		return r.paramError(err, line)
	}
	if nf < 2 {
		return r.paramError(xtables.Errorf("%s: line %d policy invalid", r.o.Program, line), line)
	}
	t := r.work.Table(r.table)
	c := t.Chain(name)
	if c != nil && c.Builtin {
		var cnt xtables.Counters
		if r.o.Counters {
			if nf < 3 {
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
	if c != nil {
		c.Rules = nil // an existing user chain is flushed (nft_chain_restore)
		return nil
	}
	t.AddChain(name)
	return nil
}

// fields3 is strings.Fields for the first three fields (and the number of
// all), without allocating for an ASCII line.
func fields3(s string) (f [3]string, n int) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			all := strings.Fields(s)
			copy(f[:], all)
			return f, len(all)
		}
	}
	for i := 0; i < len(s); {
		if isSpace(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		if n < len(f) {
			f[n] = s[i:j]
		}
		n++
		i = j
	}
	return f, n
}

// isSpace is unicode.IsSpace for ASCII.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
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

func (r *restorer) ruleLine(s string, line int, pl *parsedLine, plTable string) *RestoreError {
	q := queuedCmd{line: line}
	var perr error
	switch {
	case pl != nil && plTable == r.table && pl.x == nil:
		q.chain, q.rule = pl.chain, pl.rule
	case pl != nil && plTable == r.table:
		q.cmd, perr = pl.x.cmd, pl.x.err
	default:
		q.cmd, perr = r.parseRule(s, r.table)
	}
	if q.cmd != nil && r.o.Stderr != nil {
		for _, n := range q.cmd.Notices {
			fmt.Fprintln(r.o.Stderr, n)
		}
	}
	if perr != nil {
		if IsSkipLine(perr) {
			return nil
		}
		return r.paramError(perr, line)
	}
	if q.cmd != nil && (q.cmd.Help || q.cmd.Version) {
		return nil
	}
	if !r.o.Test && !r.batch.deferred {
		r.run(&q)
	}
	return nil
}

// lineError is a restore-format error of a rule line whose message names
// the line; the line number is filled in when it is reported.
type lineError struct{ format string }

func (e *lineError) Error() string { return e.format }

// parseRule parses one rule line (with its optional [p:b] prefix) in a
// table; it does not touch the restorer's state.
func (r *restorer) parseRule(s, table string) (*Command, error) {
	p := parserPool.Get().(*parser)
	defer parserPool.Put(p)
	ap := argsPool.Get().(*[]string)
	defer argsPool.Put(ap)
	cmd := new(Command)
	var parsed bool
	var err error
	*ap, parsed, err = r.parseRuleInto(p, cmd, (*ap)[:0], s, table)
	if !parsed {
		cmd = nil // the line was refused before the parser saw it
	}
	return cmd, err
}

// parseRuleInto is parseRule with the parser, the command's storage and
// the argument vector's given; it returns the vector for reuse (nothing
// keeps it after the parse) and whether the parser saw the line.
func (r *restorer) parseRuleInto(p *parser, cmd *Command, args []string, s, table string) ([]string, bool, error) {
	args = append(args, "-t", table)
	for i := 0; i < r.o.Verbose && !r.o.NoFlush && !r.o.Test; i++ {
		args = append(args, "-v")
	}
	rest := s
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return args[:0], false, &lineError{"Bad line %d: need ]"}
		}
		inner := rest[1:end]
		pc, bc, found := strings.Cut(inner, ":")
		if !found || pc == "" {
			if pc == "" && !found {
				return args[:0], false, &lineError{"Bad line %d: need :"}
			}
			return args[:0], false, &lineError{"Bad line %d: need ]"}
		}
		if bc == "" {
			return args[:0], false, &lineError{"Bad line %d: need ]"}
		}
		if r.o.Counters {
			args = append(args, "--set-counters", pc, bc)
		}
		rest = rest[end+1:]
	}
	args, err := appendParams(args, rest)
	if err != nil {
		return args[:0], false, err
	}
	po := ParseOptions{Family: r.o.Family, Table: table, Restore: true, Names: r.o.Names, State: r.o.State, Objects: r.objects}
	if po.Table == "" {
		po.Table = "filter" // as Parse
	}
	err = p.parseInto(args, po, cmd)
	return args[:0], true, err
}

var argsPool = sync.Pool{New: func() any { s := make([]string, 0, 32); return &s }}

// appendParams appends the words of s to dst as add_param_to_argv splits
// a restore line: words split on blanks; double quotes group (a closing
// quote ends the word, so "" is an empty word) and a backslash inside
// quotes takes the next character literally. A word that is a plain slice
// of s costs no allocation.
func appendParams(dst []string, s string) ([]string, error) {
	// Words without quotes are cut here, a word with a quote by the
	// general splitter (which has no state between words).
	for k := 0; k < len(s); {
		if c := s[k]; c == ' ' || c == '\t' || c == '\n' {
			k++
			continue
		}
		e := k
		for e < len(s) && s[e] != ' ' && s[e] != '\t' && s[e] != '\n' && s[e] != '"' {
			e++
		}
		if e < len(s) && s[e] == '"' {
			var n int
			var err error
			if dst, n, err = appendQuotedWord(dst, s[k:]); err != nil {
				return dst, err
			}
			k += n
			continue
		}
		if e-k >= 1024 {
			return dst, xtables.Errorf("Parameter too long!")
		}
		dst = append(dst, s[k:e])
		k = e
	}
	return dst, nil
}

// appendQuotedWord appends the word s starts with (not a blank) and
// returns how much of s it took: up to the blank or the closing quote
// that ends it.
func appendQuotedWord(dst []string, s string) ([]string, int, error) {
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
					return dst, 0, err
				}
				escaped = false
				continue
			case ch == '\\':
				escaped = true
				continue
			case ch != '"':
				if err := add(k); err != nil {
					return dst, 0, err
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
				return dst, 0, err
			}
			continue
		}
		emit()
		return dst, k + 1, nil
	}
	if n > 0 {
		emit()
	}
	return dst, len(s), nil
}

// splitParams is appendParams into a new slice.
func splitParams(s string) ([]string, error) { return appendParams(nil, s) }

// SplitParams splits a rule line into words exactly as iptables-restore
// does (for readers of state files looking for the objects rules name).
func SplitParams(s string) ([]string, error) { return appendParams(nil, s) }

// batch is what the lines of the table being read make of it until its
// COMMIT, the nf_tables batch. Commands run on the working copy as they
// are read, while the workers parse the lines after them, rather than all
// at the COMMIT: the result is the same as long as no chain line follows a
// command (chain lines act when read, before any command of the batch).
// When one does, the working copy is made again from the table's chain
// lines, and at the COMMIT the table's rule lines are parsed again and run
// (deferred): rare, and it keeps the common case from queueing commands.
type batch struct {
	start    int  // offset of the table's first line after "*table"
	line     int  // the number of the "*table" line
	ran      int  // commands run
	deferred bool // the commands run at the COMMIT
	out      []byte
	errs     []byte // the kernel's refusals of single commands
	fail     error  // the error that ended the batch, of line failLine
	failLine int
}

// restoreAtCommit makes every batch deferred (for the tests).
var restoreAtCommit bool

// run runs one command of the batch on the working copy.
func (r *restorer) run(q *queuedCmd) {
	b := &r.batch
	b.ran++
	if b.fail != nil {
		return
	}
	cmd := q.cmd
	if cmd == nil {
		r.one = Command{Cmd: CmdAppend, Table: r.table, Chain: q.chain}
		r.one.rule1[0] = q.rule
		r.one.Rules = r.one.rule1[:1:1]
		cmd = &r.one
	}
	mark := len(b.out)
	if _, err := execute(r.work, cmd, r.o.Names, &b.out, &r.ctx); err != nil {
		b.out = b.out[:mark]
		// The kernel refuses single messages and goes on with the
		// batch; every refusal is reported with its line.
		if be, ok := err.(*BatchError); ok {
			b.errs = fmt.Appendf(b.errs, "line %d: %s\n", q.line, be)
			return
		}
		b.fail, b.failLine = err, q.line
	}
}

// deferBatch makes the working copy again from the table's chain lines
// before the line at offset at, for the commands to run at the COMMIT.
func (r *restorer) deferBatch(at int) {
	b := &r.batch
	r.beginTable(false)
	for off := b.start; off < at; {
		s := nextLine(r.text, off)
		off += len(s)
		if s = r.unquote(s); s[0] == ':' {
			r.chainLine(s, 0) // it did not fail when read
		}
	}
	b.deferred, b.ran, b.out, b.errs, b.fail = true, 0, b.out[:0], nil, nil
}

// runDeferred parses the table's rule lines again, up to the COMMIT at
// offset end, and runs them. They parsed when read, and parse the same.
func (r *restorer) runDeferred(end int) {
	line := r.batch.line
	for off := r.batch.start; off < end; {
		s := nextLine(r.text, off)
		off += len(s)
		line++
		if s == "" || s[0] == '\n' {
			continue
		}
		if s = r.unquote(s); s[0] == '#' || s[0] == ':' {
			continue
		}
		cmd, err := r.parseRule(s, r.table)
		if err != nil || cmd.Help || cmd.Version {
			continue // lines of the other family
		}
		r.run(&queuedCmd{line: line, cmd: cmd})
	}
}

// commit ends the batch: with every command run, the working copy
// becomes final unless one failed.
func (r *restorer) commit(line, at int) *RestoreError {
	b := &r.batch
	if b.deferred {
		r.runDeferred(at)
	}
	r.out = append(r.out, b.out...)
	if b.fail != nil {
		if ke, ok := b.fail.(*xtables.KernelError); ok {
			msg := ke.Errno + "."
			if ke.Dmesg {
				msg += " Run `dmesg' for more information."
			}
			return &RestoreError{Stderr: fmt.Sprintf("%s: line %d failed: %s\n", r.o.Program, b.failLine, msg), Code: 1}
		}
		return r.paramError(b.fail, line)
	}
	if b.errs != nil {
		return &RestoreError{Stderr: r.o.Family.Program() + "-restore v1.8.9 (nf_tables): \n" + string(b.errs), Code: 4}
	}
	r.committed = r.work
	return nil
}
