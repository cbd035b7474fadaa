package sim

import (
	"path/filepath"
	"time"

	"github.com/iptwin/iptwin/nflog"
)

// Result is what a run printed and found, step by step.
type Result struct {
	Name   string        `json:"name"`
	Seed   uint64        `json:"seed"`
	Start  time.Time     `json:"start"`
	Hosts  []string      `json:"hosts"`
	Links  []LinkInfo    `json:"links"`
	Setup  []HostOutput  `json:"setup,omitempty"`
	Steps  []*StepResult `json:"steps"`
	Failed int           `json:"failed"` // assertions that did not hold
}

// LinkInfo names a link and its interfaces.
type LinkInfo struct {
	Name string   `json:"name"`
	Ends []string `json:"ends"`
}

// HostOutput is what a host's setup printed.
type HostOutput struct {
	Host   string `json:"host"`
	Output string `json:"output"`
}

// StepResult is one step: what ran, its output and outcome, the LOG
// lines every host wrote meanwhile, the frames that crossed each link,
// and the assertions.
type StepResult struct {
	N       int            `json:"n"`
	Line    int            `json:"line"`
	Host    string         `json:"host,omitempty"`
	Command string         `json:"command,omitempty"`
	Wait    string         `json:"wait,omitempty"`
	Note    string         `json:"note,omitempty"`
	Start   int64          `json:"start_ns"`
	End     int64          `json:"end_ns"`
	Output  []string       `json:"output"`
	Outcome string         `json:"outcome,omitempty"`
	Logs    []LogLine      `json:"logs"`
	Frames  []Frame        `json:"frames"`
	Expect  []ExpectResult `json:"expect,omitempty"`
}

// LogLine is a kernel LOG line of a host: the text dmesg shows and the
// line syslog writes.
type LogLine struct {
	Time     int64  `json:"time_ns"`
	Host     string `json:"host"`
	Hostname string `json:"-"`
	// Tag is the syslog tag of a daemon's line ("charon"); empty for the
	// kernel's LOG lines.
	Tag    string `json:"tag,omitempty"`
	Line   string `json:"line"`
	Syslog string `json:"syslog"`
}

// Frame is a frame that crossed a link, as tcpdump -nn prints it.
type Frame struct {
	Time    int64  `json:"time_ns"`
	Link    string `json:"link"`
	Summary string `json:"summary"`
}

// Run sets up the topology, runs its steps and returns what happened.
// It fails only when the network cannot be set up; failed assertions
// are counted in Result.Failed.
func Run(t *Topology, opts Options) (*Result, error) {
	n, err := New(t, opts)
	if err != nil {
		return nil, err
	}
	res := n.Run()
	if err := n.Close(); err != nil {
		return res, err
	}
	return res, nil
}

// Run runs every step of the topology's scenario.
func (n *Network) Run() *Result {
	name := n.topo.Name
	if name == "" {
		name = filepath.Base(n.topo.File)
	}
	res := &Result{Name: name, Seed: n.seed, Start: n.start, Setup: n.setupOut, Steps: []*StepResult{}}
	for _, h := range n.hosts {
		res.Hosts = append(res.Hosts, h.name)
	}
	for _, l := range n.links {
		li := LinkInfo{Name: l.name}
		for _, e := range l.ends {
			li.Ends = append(li.Ends, e.host.name+"."+e.name)
		}
		res.Links = append(res.Links, li)
	}
	for _, s := range n.topo.Steps {
		r := n.RunStep(s)
		for _, e := range r.Expect {
			if !e.OK {
				res.Failed++
			}
		}
		res.Steps = append(res.Steps, r)
	}
	if n.opts.StateDir != "" {
		// Kept state directories show the hosts as the run left them:
		// rules with their counters, connections, clock.
		for _, sh := range n.hosts {
			sh.save()
		}
	}
	return res
}

// RunStep runs one step and records what happened during it.
func (n *Network) RunStep(s *Step) *StepResult {
	r := &StepResult{N: s.N, Line: s.Line(), Host: s.Host, Command: s.Command, Note: s.Note, Start: n.now,
		Output: []string{}, Logs: []LogLine{}, Frames: []Frame{}}
	n.rec = r
	switch {
	case s.Wait > 0:
		r.Wait = s.Wait.String()
		n.advance(n.now + int64(s.Wait))
	case s.Host != "":
		spec, err := parseApp(s.Command)
		if err != nil {
			n.out(err.Error())
			r.Outcome = "error"
			break
		}
		a := n.newApp(n.byName[s.Host], spec)
		n.runApp(a)
		r.Outcome = a.outcome()
	}
	r.End = n.now
	for i := range r.Logs {
		l := &r.Logs[i]
		l.Syslog = string(nflog.AppendSyslog(nil, n.start.Add(time.Duration(l.Time)).UnixNano(), l.Hostname,
			[]byte(l.Line), nflog.SyslogOptions{Loc: n.start.Location(), Tag: l.Tag}))
	}
	for i := range s.Expect {
		r.Expect = append(r.Expect, n.check(&s.Expect[i], r))
	}
	n.rec = nil
	return r
}
