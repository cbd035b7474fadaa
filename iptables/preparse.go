package iptables

import (
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/iptwin/iptwin/xtables"
)

// A restore parses its rule lines ahead, in parallel, while the lines are
// read in order: parsing a rule depends only on its text and table, and it
// is most of a restore's work. The text is cut into chunks at line starts;
// workers take the chunks in order and parse every line that starts with
// "-" or "[", and the reader waits only for the chunk of the line at hand.

// preparseChunk is the size of the chunks of text the workers take (a
// variable for the tests).
var preparseChunk = 32 << 10

type preparser struct {
	chunks []prechunk
	k      int  // the reader's chunk
	i      int  // its next result
	ready  bool // chunk k is parsed
	taken  atomic.Int64
	quit   atomic.Bool
}

// prechunk is a piece of the text and what the workers made of it.
type prechunk struct {
	start, end int    // offsets in the text, at line starts
	table      string // the table in effect at start
	marks      []tableMark
	res        []parsedLine // one per line parsed, in order
	done       chan struct{}
}

// tableMark says that the results from at on belong to table (a "*table"
// line inside the chunk).
type tableMark struct {
	at    int
	table string
}

// parsedLine is a rule line parsed ahead: a plain append as its chain and
// rule, anything else (other commands, errors) as x.
type parsedLine struct {
	chain string
	rule  *xtables.Rule
	x     *lineExtra
}

type lineExtra struct {
	cmd *Command // nil when the line was refused before it was parsed
	err error
}

// restoreWorker is a worker's storage, reused from line to line.
type restoreWorker struct {
	p    parser
	cmd  Command
	args []string
}

// preparse starts the workers on text, or returns nil when it is short.
func (r *restorer) preparse(text string) *preparser {
	if len(text) < preparseChunk {
		return nil
	}
	// The tables: lines starting with "*" (as the reader takes them).
	var marks []tableMark
	for off := 0; off < len(text); {
		if text[off] == '*' {
			if f := strings.Fields(nextLine(text, off)[1:]); len(f) > 0 {
				marks = append(marks, tableMark{off, f[0]})
			}
		}
		i := strings.Index(text[off:], "\n*")
		if i < 0 {
			break
		}
		off += i + 1
	}
	pp := &preparser{}
	mi, table := 0, ""
	for start := 0; start < len(text); {
		end := start + preparseChunk
		if end >= len(text) {
			end = len(text)
		} else if j := strings.IndexByte(text[end:], '\n'); j >= 0 {
			end += j + 1
		} else {
			end = len(text)
		}
		for mi < len(marks) && marks[mi].at < start {
			table = marks[mi].table
			mi++
		}
		pp.chunks = append(pp.chunks, prechunk{start: start, end: end, table: table, done: make(chan struct{})})
		start = end
	}
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		go func() {
			w := new(restoreWorker)
			for !pp.quit.Load() {
				k := int(pp.taken.Add(1) - 1)
				if k >= len(pp.chunks) {
					return
				}
				r.parseChunk(w, &pp.chunks[k])
			}
		}()
	}
	return pp
}

// stop tells the workers to take no more chunks.
func (pp *preparser) stop() {
	if pp != nil {
		pp.quit.Store(true)
	}
}

// next returns the result of the rule line at offset at, and the table it
// was parsed in. The reader calls it for every line isRuleText accepts,
// in order.
func (pp *preparser) next(at int) (*parsedLine, string) {
	for at >= pp.chunks[pp.k].end {
		pp.k, pp.i, pp.ready = pp.k+1, 0, false
	}
	c := &pp.chunks[pp.k]
	if !pp.ready {
		<-c.done
		pp.ready = true
	}
	table := c.table
	for _, m := range c.marks {
		if m.at <= pp.i {
			table = m.table
		}
	}
	pl := &c.res[pp.i]
	pp.i++
	return pl, table
}

func (r *restorer) parseChunk(w *restoreWorker, c *prechunk) {
	text := r.text[c.start:c.end]
	table := c.table
	c.res = make([]parsedLine, 0, len(text)/100+8)
	for off := 0; off < len(text); {
		s := nextLine(text, off)
		off += len(s)
		switch {
		case s[0] == '*':
			if f := strings.Fields(s[1:]); len(f) > 0 {
				table = f[0]
				c.marks = append(c.marks, tableMark{len(c.res), table})
			}
		case isRuleText(s):
			c.res = append(c.res, r.parseAhead(w, s, table))
		}
	}
	close(c.done)
}

// parseAhead parses one rule line in a worker.
func (r *restorer) parseAhead(w *restoreWorker, s, table string) parsedLine {
	if len(w.p.slab) == 0 {
		w.p.slab = make([]ruleBlock, 128)
	}
	var parsed bool
	var err error
	w.args, parsed, err = r.parseRuleInto(&w.p, &w.cmd, w.args, s, table)
	cmd := &w.cmd
	if err == nil && cmd.Cmd == CmdAppend && len(cmd.Rules) == 1 && cmd.Options&OptVerbose == 0 &&
		len(cmd.Notices) == 0 && !cmd.Help && !cmd.Version {
		return parsedLine{chain: cmd.Chain, rule: cmd.Rules[0]}
	}
	x := &lineExtra{err: err}
	if parsed {
		c := new(Command)
		*c = *cmd
		if len(c.Rules) == 1 && &c.Rules[0] == &cmd.rule1[0] {
			c.rule1[0] = cmd.rule1[0]
			c.Rules = c.rule1[:1:1]
		}
		x.cmd = c
	}
	return parsedLine{x: x}
}
