package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText prints a run for a person: per step a header with the
// step's wall-clock time, the application's own lines and its outcome,
// every LOG line as syslog writes it, per link the frames that crossed
// it as tcpdump -nn prints them (led by the link's name and tcpdump's
// time stamp), and the assertions.
func (r *Result) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# iptwin sim %s (seed %d): hosts %s", r.Name, r.Seed, strings.Join(r.Hosts, " "))
	if len(r.Links) > 0 {
		var ls []string
		for _, l := range r.Links {
			ls = append(ls, l.Name+" ("+strings.Join(l.Ends, " ")+")")
		}
		fmt.Fprintf(bw, "; links %s", strings.Join(ls, ", "))
	}
	bw.WriteString("\n")
	for _, s := range r.Setup {
		fmt.Fprintf(bw, "\n=== setup %s\n", s.Host)
		bw.WriteString(s.Output)
		if !strings.HasSuffix(s.Output, "\n") {
			bw.WriteString("\n")
		}
	}
	for _, s := range r.Steps {
		r.writeStep(bw, s)
	}
	if r.Failed > 0 {
		fmt.Fprintf(bw, "\n%d assertion(s) failed\n", r.Failed)
	}
	return bw.Flush()
}

func (r *Result) clock(ns int64) string {
	return r.Start.Add(time.Duration(ns)).Format("15:04:05.000000")
}

func (r *Result) writeStep(w *bufio.Writer, s *StepResult) {
	fmt.Fprintf(w, "\n=== %d [%s] ", s.N, r.clock(s.Start))
	switch {
	case s.Host != "":
		fmt.Fprintf(w, "%s: %s\n", s.Host, s.Command)
	case s.Wait != "":
		fmt.Fprintf(w, "wait %s\n", s.Wait)
	default:
		w.WriteString("note\n")
	}
	if s.Note != "" {
		for _, l := range strings.Split(strings.TrimRight(s.Note, "\n"), "\n") {
			fmt.Fprintf(w, "# %s\n", l)
		}
	}
	for _, l := range s.Output {
		w.WriteString(l)
		w.WriteString("\n")
	}
	if s.Outcome != "" {
		fmt.Fprintf(w, "-> %s\n", s.Outcome)
	}
	if len(s.Logs) > 0 {
		w.WriteString("--- syslog\n")
		for _, l := range s.Logs {
			w.WriteString(l.Syslog)
			w.WriteString("\n")
		}
	}
	if len(s.Frames) > 0 {
		// Per link, in time order, each line led by the link's name
		// (padded to the longest) and tcpdump's time stamp, so that
		// grep '^LINK ' is that link's capture.
		width := 0
		for _, l := range r.Links {
			width = max(width, len(l.Name))
		}
		w.WriteString("--- captures\n")
		for _, l := range r.Links {
			for _, f := range s.Frames {
				if f.Link == l.Name {
					fmt.Fprintf(w, "%-*s %s %s\n", width, l.Name, r.clock(f.Time), f.Summary)
				}
			}
		}
	}
	if len(s.Expect) > 0 {
		w.WriteString("--- expect\n")
		for _, e := range s.Expect {
			if e.OK {
				fmt.Fprintf(w, "ok   %s\n", e.Expect)
			} else {
				fmt.Fprintf(w, "FAIL %s: %s\n", e.Expect, e.Detail)
			}
		}
	}
}

// WriteJSON prints the run as one JSON document (see docs/sim.md).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
