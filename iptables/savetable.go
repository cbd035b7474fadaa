package iptables

import (
	"io"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/iptwin/iptwin/xtables"
)

// WriteStateTable writes what AppendStateTable appends to w, through
// bounded buffers (state files of big rule sets are tens of megabytes).
func WriteStateTable(w io.Writer, t *xtables.Table, ctx *xtables.Context) error {
	return writeTable(w, t, t.Chains, ctx, true, true)
}

// WriteSaveTable writes what AppendSaveTable appends to w through bounded
// buffers.
func WriteSaveTable(w io.Writer, t *xtables.Table, ctx *xtables.Context, counters bool) error {
	return writeTable(w, t, t.Sorted(), ctx, counters, false)
}

// flushWriter lets a table's rendering hand over its buffer when it gets
// big.
type flushWriter struct {
	w   io.Writer
	b   []byte
	err error
}

func (f *flushWriter) flush() error {
	if f.err == nil && len(f.b) > 0 {
		_, f.err = f.w.Write(f.b)
	}
	f.b = f.b[:0]
	return f.err
}

// handOver writes b out when it is big and fw has a writer, and returns
// the buffer to go on with.
func (f *flushWriter) handOver(b []byte) []byte {
	if f.w != nil && len(b) > 1<<16-1024 {
		f.b = b
		f.flush()
		b = f.b
	}
	return b
}

func appendTable(b []byte, t *xtables.Table, chains []*xtables.Chain, ctx *xtables.Context, counters, state bool) []byte {
	fw := &flushWriter{b: b}
	b = appendTableHead(fw, t, chains, state)
	b = appendRules(fw, b, chains, 0, 0, -1, t.Name, ctx, counters, state)
	return append(b, "COMMIT\n"...)
}

func writeTable(w io.Writer, t *xtables.Table, chains []*xtables.Chain, ctx *xtables.Context, counters, state bool) error {
	fw := &flushWriter{w: w, b: make([]byte, 0, 1<<16)}
	b := appendTableHead(fw, t, chains, state)
	n := 0
	for _, c := range chains {
		n += len(c.Rules)
	}
	if n >= 2*segmentRules && runtime.GOMAXPROCS(0) > 1 {
		fw.b = b
		b = writeRulesParallel(fw, chains, n, t.Name, ctx, counters, state)
	} else {
		b = appendRules(fw, b, chains, 0, 0, -1, t.Name, ctx, counters, state)
	}
	fw.b = append(b, "COMMIT\n"...)
	return fw.flush()
}

// appendTableHead renders "*table" and the chain lines.
func appendTableHead(fw *flushWriter, t *xtables.Table, chains []*xtables.Chain, state bool) []byte {
	b := fw.b
	b = append(b, '*')
	b = append(b, t.Name...)
	b = append(b, '\n')
	for _, c := range chains {
		if state && c.Builtin && !c.Created {
			continue // not in the kernel yet: the state file keeps that
		}
		b = append(b, ':')
		b = append(b, c.Name...)
		b = append(b, ' ')
		if c.Builtin {
			b = append(b, c.Policy...)
		} else {
			b = append(b, '-')
		}
		b = append(b, " ["...)
		b = strconv.AppendUint(b, c.Counters.Packets, 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, c.Counters.Bytes, 10)
		b = append(b, "]\n"...)
		b = fw.handOver(b)
	}
	return b
}

// appendRules renders n rules (all when n < 0) from rule ri of chain ci
// on, across chains, handing the buffer over to fw as it grows.
func appendRules(fw *flushWriter, b []byte, chains []*xtables.Chain, ci, ri, n int, table string, ctx *xtables.Context, counters, state bool) []byte {
	// One context for every rule: a copy per chain or rule would escape
	// to the heap (see appendRuleSpec).
	cctx := *ctx
	cctx.Table = table
	for ; ci < len(chains) && n != 0; ci, ri = ci+1, 0 {
		c := chains[ci]
		cctx.Chain = c.Name
		for ; ri < len(c.Rules) && n != 0; ri++ {
			b = appendRule(b, c, c.Rules[ri], &cctx, ctx.State, counters, state)
			b = fw.handOver(b)
			n--
		}
	}
	return b
}

// appendRule renders one rule of chain c as iptables-save (or, with
// state, a state file) prints it; ctx's State is restored to ctxState.
func appendRule(b []byte, c *xtables.Chain, r *xtables.Rule, ctx *xtables.Context, ctxState, counters, state bool) []byte {
	if state && hasStateForm(r) {
		// The state form differs from what iptables-save prints: keep
		// the latter too, in a comment line that restore skips and fast
		// listings use (state.LoadRaw).
		mark := len(b)
		b = append(b, "#s -A "...)
		b = append(b, c.Name...)
		specAt := len(b)
		ctx.State = false
		b = appendRuleSpec(b, r, ctx, false)
		ctx.State = ctxState
		saveLen := len(b) - specAt
		b = appendRuleSpec(b, r, ctx, false)
		if string(b[specAt:specAt+saveLen]) == string(b[specAt+saveLen:]) {
			b = b[:mark]
		} else {
			b = append(quoteStateLine(b[:specAt+saveLen], mark), '\n')
		}
	}
	lineAt := len(b)
	if counters {
		b = append(b, '[')
		b = strconv.AppendUint(b, r.Counters.Packets, 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, r.Counters.Bytes, 10)
		b = append(b, "] "...)
	}
	b = append(b, "-A "...)
	b = append(b, c.Name...)
	b = appendRuleSpec(b, r, ctx, false)
	if state {
		b = quoteStateLine(b, lineAt)
	}
	return append(b, '\n')
}

// segmentRules is how many rules one goroutine renders at a time when a
// big table is written.
const segmentRules = 2048

// segment is a run of rules rendered by one goroutine: from rule ri of
// chain ci, n rules across chains.
type segment struct {
	ci, ri, n int
	buf       []byte
	notices   []string
	done      chan struct{}
}

// writeRulesParallel renders the rules of a big table with a goroutine
// per processor and writes them in order through fw; at most two buffers
// per goroutine exist at a time. Extensions' notices keep their order.
func writeRulesParallel(fw *flushWriter, chains []*xtables.Chain, total int, table string, ctx *xtables.Context, counters, state bool) []byte {
	segs := make([]segment, 0, total/segmentRules+1)
	for ci, ri := 0, 0; ci < len(chains); {
		s := segment{ci: ci, ri: ri, done: make(chan struct{})}
		for ci < len(chains) && s.n < segmentRules {
			take := min(len(chains[ci].Rules)-ri, segmentRules-s.n)
			s.n, ri = s.n+take, ri+take
			if ri == len(chains[ci].Rules) {
				ci, ri = ci+1, 0
			}
		}
		if s.n > 0 {
			segs = append(segs, s)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	bufs := make(chan []byte, 2*workers)
	for i := 0; i < cap(bufs); i++ {
		bufs <- make([]byte, 0, segmentRules*192)
	}
	var next atomic.Int64
	for w := 0; w < workers; w++ {
		go func() {
			for {
				// The buffer first: the goroutine with the segment the
				// writer waits for must not wait for one.
				buf := <-bufs
				k := int(next.Add(1) - 1)
				if k >= len(segs) {
					bufs <- buf
					return
				}
				s := &segs[k]
				sctx := *ctx
				if ctx.Notices != nil {
					sctx.Notices = &s.notices
				}
				s.buf = appendRules(&flushWriter{}, buf[:0], chains, s.ci, s.ri, s.n, table, &sctx, counters, state)
				close(s.done)
			}
		}()
	}
	b := fw.b
	for k := range segs {
		s := &segs[k]
		<-s.done
		fw.b = b
		fw.flush()
		b = fw.b
		if fw.err == nil {
			_, fw.err = fw.w.Write(s.buf)
		}
		if ctx.Notices != nil {
			*ctx.Notices = append(*ctx.Notices, s.notices...)
		}
		bufs <- s.buf
		s.buf = nil
	}
	return b
}
