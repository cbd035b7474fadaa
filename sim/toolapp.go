package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/stack"
)

// A step running one of iptwin's tools on a host (iptables -A ...,
// ip route add ..., sysctl -w ...), as the seeds change a host between
// two tries: the host's rules are written to its state directory with
// their counters, the command runs on it, and the host takes the new
// state while keeping its clock, connections and neighbours
// (stack.Host.Replace).
type toolApp struct {
	n       *Network
	sh      *simHost
	spec    *appSpec
	res     string
	script  bool // "bash FILE"
	waiting bool // iptables-apply's unanswered question
	// the ipsec commands the script ran: the one running, the rest
	cur  Program
	then []Program
}

func (n *Network) newToolApp(sh *simHost, s *appSpec) app {
	return &toolApp{n: n, sh: sh, spec: s}
}

func (a *toolApp) start() {
	if a.script {
		a.runScript()
		return
	}
	n, sh := a.n, a.sh
	var stdin []byte
	if a.spec.stdin != "" {
		var err error
		if stdin, err = os.ReadFile(n.topo.Path(a.spec.stdin)); err != nil {
			n.out(fmt.Sprintf("bash: %s: No such file or directory", a.spec.stdin))
			a.res = "exit 1"
			return
		}
	}
	if err := sh.save(); err != nil {
		n.out("sim: saving the host's state: " + err.Error())
		a.res = "error"
		return
	}
	var out bytes.Buffer
	rc, err := n.runCommand(sh.dir, append([]string{a.spec.name}, a.spec.args...), stdin, &out, &out)
	if err != nil {
		n.out("sim: " + err.Error())
		a.res = "error"
		return
	}
	if s := strings.TrimRight(out.String(), "\n"); s != "" {
		for _, l := range strings.Split(s, "\n") {
			n.out(l)
		}
	}
	if err := sh.reload(); err != nil {
		n.out("sim: reloading the host: " + err.Error())
		a.res = "error"
		return
	}
	if rc == 255 && a.spec.stdin == "" && strings.Contains(out.String(), "Timeout! Something happened") {
		// iptables-apply asked and nobody answered: the step lasts its
		// timeout, as the script's read -t does.
		a.waiting = true
		n.after(int64(applyTimeout(a.spec.args))*1e9, &timer{}, func() { a.waiting = false })
	}
	if a.spec.name == "conntrack" {
		// conntrack -D and -F change the table in the state directory.
		if err := stack.LoadRuntime(sh.st, sh.h); err != nil {
			n.out("sim: reloading the connection table: " + err.Error())
			a.res = "error"
			return
		}
	}
	a.res = "ok"
	if rc != 0 {
		a.res = fmt.Sprintf("exit %d", rc)
	}
}

// newScriptApp runs "bash FILE" on a host between two steps: the script
// runs as a setup script does (iptwin's tools first on its PATH, acting
// on the host), then the host takes the new state.
func (n *Network) newScriptApp(sh *simHost, s *appSpec) app {
	a := &toolApp{n: n, sh: sh, spec: s}
	a.script = true
	return a
}

func (a *toolApp) runScript() {
	n, sh := a.n, a.sh
	if err := sh.save(); err != nil {
		n.out("sim: saving the host's state: " + err.Error())
		a.res = "error"
		return
	}
	var out bytes.Buffer
	err := n.runBash(sh.spec, sh.dir, a.spec.args[0], false, &out)
	if s := strings.TrimRight(out.String(), "\n"); s != "" {
		for _, l := range strings.Split(s, "\n") {
			n.out(l)
		}
	}
	a.res = "ok"
	var se *SetupError
	if errors.As(err, &se) {
		where := se.Where
		if dir, aerr := filepath.Abs(n.topo.Dir); aerr == nil {
			if rel, rerr := filepath.Rel(dir, where); rerr == nil && !strings.HasPrefix(rel, "..") {
				where = rel
			}
		}
		// bash goes on after a failing command; the step names the first.
		n.out(fmt.Sprintf("sim: %s: %s (exit %d)", where, se.Command, se.Status))
		if se.ScriptStatus != 0 {
			a.res = fmt.Sprintf("exit %d", se.ScriptStatus)
		}
	} else if err != nil {
		n.out("sim: " + err.Error())
		a.res = "error"
	}
	if err := sh.reload(); err != nil {
		n.out("sim: reloading the host: " + err.Error())
		a.res = "error"
	}
	// the script's ipsec commands, carried out in turn
	progs, err := sh.stepIPsecRequests()
	if err != nil {
		n.out(err.Error())
		a.res = "error"
	}
	a.then = progs
	a.next()
}

// next starts the script's next ipsec command.
func (a *toolApp) next() {
	a.cur = nil
	if len(a.then) > 0 {
		a.cur, a.then = a.then[0], a.then[1:]
		a.cur.Start()
	}
}

func (a *toolApp) done() bool {
	if a.waiting {
		return false
	}
	for a.cur != nil {
		if !a.cur.Done() {
			return false
		}
		a.cur.Finish()
		if o := a.cur.Outcome(); o != "ok" && a.res == "ok" {
			a.res = o
		}
		a.next()
	}
	return true
}

func (a *toolApp) finish()         {}
func (a *toolApp) outcome() string { return a.res }

// listen opens a listening socket on the host: listen tcp|udp [ADDR]
// PORT. TCP listeners complete handshakes; UDP datagrams to the port are
// shown.
func parseListen(args []string) (stack.Socket, error) {
	return stack.ParseSocket(strings.Join(args, " "))
}

func (n *Network) newListen(sh *simHost, args []string) app {
	sk, err := parseListen(args)
	if err != nil {
		return n.failApp("listen: "+err.Error(), 2)
	}
	sh.fileSockets = append(sh.fileSockets, sk)
	sh.syncSockets()
	if err := stack.SaveSockets(sh.st, sh.fileSockets); err != nil {
		return n.failApp("listen: "+err.Error(), 1)
	}
	return &doneApp{res: "ok"}
}

// applyTimeout is iptables-apply's -t/--timeout (10 s by default).
func applyTimeout(args []string) int {
	t := 10
	for i := 0; i < len(args); i++ {
		a := args[i]
		v, ok := "", false
		switch {
		case (a == "-t" || a == "--timeout") && i+1 < len(args):
			v, ok = args[i+1], true
			i++
		case strings.HasPrefix(a, "--timeout="):
			v, ok = strings.TrimPrefix(a, "--timeout="), true
		case strings.HasPrefix(a, "-t") && len(a) > 2:
			v, ok = a[2:], true
		}
		if ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				t = n
			}
		}
	}
	return t
}
