package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/iptwin/iptwin/sim/ike"
)

// The "ipsec" command of a step (strongSwan 5.9's ipsec script, starter
// and stroke):
//
//	ipsec up NAME          initiate; prints charon's lines until the
//	                       IKE_SA is established (outcome ok) or fails
//	                       (failed), or charon.plugins.stroke.timeout
//	                       runs out (timeout)
//	ipsec status [NAME]    ipsec statusall [NAME]
//	ipsec start | stop | restart | reload
//
// Without charon on the host (no ipsec field, or stopped) the stroke
// commands fail as stroke does when its socket is missing.

var ipsecUsage = "Usage: ipsec {up NAME|status|statusall|start|stop|restart|reload}"

func newIPsecCmd(h *HostEnv, args []string) (Program, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s", ipsecUsage)
	}
	ih := ipsecOf(h.sh)
	c := &ipsecCmd{env: h, ih: ih, args: args}
	switch args[0] {
	case "up":
		if len(args) != 2 {
			return nil, fmt.Errorf("Usage: ipsec up <connectionname>")
		}
		return &ipsecUp{env: h, ih: ih, name: args[1]}, nil
	case "status", "statusall", "start", "stop", "restart", "reload":
		if len(args) > 2 || len(args) == 2 && !strings.HasPrefix(args[0], "status") {
			return nil, fmt.Errorf("%s", ipsecUsage)
		}
		return c, nil
	}
	return nil, fmt.Errorf("ipsec: unknown command %q (the twin has up, status, statusall, start, stop, restart, reload)", args[0])
}

// strokeMissing is what stroke says when charon does not run.
func strokeMissing(h *HostEnv) {
	h.Print("connecting to 'unix:///var/run/charon.ctl' failed: No such file or directory")
	h.Print("failed to connect to stroke socket 'unix:///var/run/charon.ctl'")
}

// ipsecCmd is one of the commands that end at once.
type ipsecCmd struct {
	env  *HostEnv
	ih   *ipsecd
	args []string
	res  string
}

func (c *ipsecCmd) Start() {
	h, ih := c.env, c.ih
	c.res = "ok"
	running := ih != nil && ih.running
	now := h.Now()
	switch c.args[0] {
	case "status", "statusall":
		if !running {
			strokeMissing(h)
			c.res = "error"
			return
		}
		name := ""
		if len(c.args) == 2 {
			name = c.args[1]
		}
		lines := ih.d.StatusOf(name, c.args[0] == "statusall", now)
		for _, l := range lines {
			h.Print(l)
		}
	case "start":
		if running {
			h.Print("Starting strongSwan 5.9.8 IPsec [starter]...")
			h.Print("starter is already running (/var/run/starter.charon.pid exists) -- no fork done")
			return
		}
		if ih == nil {
			h.Print("ipsec: no ipsec.conf on this host (give the host an ipsec field)")
			c.res = "error"
			return
		}
		h.Print("Starting strongSwan 5.9.8 IPsec [starter]...")
		if err := ih.start(); err != nil {
			h.Print(err.Error())
			c.res = "error"
		}
	case "stop":
		if !running {
			h.Print("Stopping strongSwan IPsec failed: starter is not running")
			c.res = "error"
			return
		}
		h.Print("Stopping strongSwan IPsec...")
		ih.stop()
	case "restart":
		if ih == nil {
			h.Print("ipsec: no ipsec.conf on this host (give the host an ipsec field)")
			c.res = "error"
			return
		}
		h.Print("Stopping strongSwan IPsec...")
		if running {
			ih.stop()
		}
		h.Print("Starting strongSwan 5.9.8 IPsec [starter]...")
		if err := ih.start(); err != nil {
			h.Print(err.Error())
			c.res = "error"
		}
	case "reload":
		if !running {
			h.Print("Reloading strongSwan IPsec failed: starter is not running")
			c.res = "error"
			return
		}
		// starter reads ipsec.conf again (the same text: a step cannot
		// change it) and charon keeps its SAs.
		h.Print("Reloading strongSwan IPsec configuration...")
	}
}

func (c *ipsecCmd) Done() bool      { return true }
func (c *ipsecCmd) Finish()         {}
func (c *ipsecCmd) Outcome() string { return c.res }

// ipsecUp is "ipsec up NAME": stroke prints the lines of charon's log at
// level 1 about the IKE_SA it initiated until it is established or
// destroyed (stroke_control.c charon_initiate).
type ipsecUp struct {
	env  *HostEnv
	ih   *ipsecd
	name string
	cmd  int
	done bool
	res  string
	// cancel stops the stroke timeout.
	cancel func()
}

func (u *ipsecUp) Start() {
	h, ih := u.env, u.ih
	if ih == nil || !ih.running {
		strokeMissing(h)
		u.done, u.res = true, "error"
		return
	}
	out := ih.d.Up(u.name, h.Now())
	if len(out) > 0 {
		u.cmd = out[0].Cmd
		ih.cmds[u.cmd] = u
	}
	ih.emit(out)
	ih.rearm()
	if u.done {
		return
	}
	if ms := ih.d.Settings().StrokeTimeout; ms > 0 {
		u.cancel = h.After(time.Duration(ms)*time.Millisecond, func() {
			u.cancel = nil
			if u.done {
				return
			}
			h.Print(fmt.Sprintf("connection '%s' not established after %dms, detaching", u.name, ms))
			u.detach()
			u.done, u.res = true, "timeout"
		})
	}
}

// output is a line of the IKE_SA this command initiated.
func (u *ipsecUp) output(o ike.Output) {
	if o.Line != "" {
		u.env.Print(o.Line)
	}
	if o.Done {
		u.done = true
		u.res = "failed"
		if o.OK {
			u.res = "ok"
		}
		u.detach()
	}
}

// detach stops printing: later lines of the IKE_SA go to syslog.
func (u *ipsecUp) detach() {
	if u.cancel != nil {
		u.cancel()
		u.cancel = nil
	}
	if u.ih != nil && u.ih.cmds[u.cmd] == u {
		delete(u.ih.cmds, u.cmd)
	}
}

func (u *ipsecUp) Done() bool { return u.done }

// Finish: a command the simulator stopped (its step ran out of time)
// detaches as stroke does when interrupted.
func (u *ipsecUp) Finish() {
	if !u.done {
		u.detach()
		u.done, u.res = true, "interrupted"
	}
}

func (u *ipsecUp) Outcome() string { return u.res }
