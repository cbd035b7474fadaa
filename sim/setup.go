package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/internal/wallclock"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/state"
)

// Runner runs one iptwin command on the host kept in the state directory
// state: argv[0] names the tool (iptables, ip6tables, iptables-save,
// iptables-restore, ip, sysctl, ...) as the multi-call binary takes it.
// It returns the exit status. The command line passes
// internal/cli.Main; a library user may run the binary instead.
type Runner func(state string, argv []string, stdin io.Reader, stdout, stderr io.Writer) int

// DefaultTools are the commands a setup script finds on its PATH, each a
// link to the iptwin binary acting on the script's host.
var DefaultTools = []string{
	"iptables", "ip6tables", "iptables-save", "ip6tables-save", "iptables-restore", "ip6tables-restore",
	"iptables-nft", "ip6tables-nft", "iptables-nft-save", "ip6tables-nft-save", "iptables-nft-restore",
	"ip6tables-nft-restore", "iptables-apply", "ip6tables-apply", "ip", "sysctl", "ipset", "conntrack",
}

// EtherKind is the link kind of a host's Ethernet interfaces (a NIC,
// listed as ip(8) lists one: BROADCAST,MULTICAST, link/ether).
const EtherKind = "ether"

// SetupError is a host whose setup failed: the command (or script line)
// and what it wrote to stderr.
type SetupError struct {
	Host    string
	Where   string // file:line of the command in the topology or script
	Command string
	Status  int
	Stderr  string
	// ScriptStatus is bash's own exit status when a script's command
	// failed (the script goes on after it, as bash does).
	ScriptStatus int
}

func (e *SetupError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %s: ", e.Host)
	if e.Where != "" {
		b.WriteString(e.Where + ": ")
	}
	fmt.Fprintf(&b, "%s", e.Command)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (exit %d)", e.Status)
	}
	if s := strings.TrimRight(e.Stderr, "\n"); s != "" {
		b.WriteString(":\n  ")
		b.WriteString(strings.ReplaceAll(s, "\n", "\n  "))
	}
	return b.String()
}

// setupHost builds a host's state directory from its spec and returns its
// setup's output (what its commands and script printed).
func (n *Network) setupHost(hs *HostSpec, dir string) (string, error) {
	d, err := state.Open(dir)
	if err != nil {
		return "", err
	}
	// The tools a setup runs print the time (iptables-save) as the
	// virtual clock has it.
	if err := wallclock.Write(dir, n.start); err != nil {
		return "", err
	}
	nt, err := host.Load(d)
	if err != nil {
		return "", err
	}
	// The interfaces as the kernel has them at boot, then the settings
	// the distribution's boot applies: sysctl.conf, lo up, the
	// interfaces' addresses and link state (ifupdown's "brd +").
	for _, ifc := range hs.Interfaces {
		if err := nt.AddLink(ifc.Name, host.Dummy, ""); err != nil {
			return "", ifc.at.errf("cannot create interface: %v", err)
		}
		l := nt.LinkByName(ifc.Name)
		l.Kind, l.MAC, l.MTU = EtherKind, ifc.MAC, ifc.MTU
	}
	for _, kv := range hs.Sysctls {
		key := strings.ReplaceAll(kv.Key, "/", ".")
		if err := nt.SetSysctl(key, kv.Value); err != nil {
			if errors.Is(err, host.ErrNoDevice) {
				return "", kv.at.errf("sysctl: cannot stat /proc/sys/%s: No such file or directory", strings.ReplaceAll(key, ".", "/"))
			}
			return "", kv.at.errf("sysctl: setting key \"%s\": %v", key, err)
		}
	}
	nt.SetLinkUp(nt.LinkByName("lo"), true)
	for _, ifc := range hs.Interfaces {
		l := nt.LinkByName(ifc.Name)
		if ifc.Up {
			nt.SetLinkUp(l, true)
		}
		for _, p := range ifc.Addresses {
			a := &host.Addr{Prefix: p, Dev: l.Index}
			if p.Addr().Is4() {
				a.Label = ifc.Name
				if p.Bits() < 31 {
					a.Broadcast = lastAddr(p)
				}
			} else if p.Addr().IsLinkLocalUnicast() {
				a.Scope = host.ScopeLink
			}
			if err := nt.AddAddr(a); err != nil {
				return "", ifc.at.errf("address %s: %v", p, err)
			}
		}
	}
	if err := nt.Save(d); err != nil {
		return "", err
	}
	if hs.Hosts != "" {
		text := hs.Hosts
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		if err := state.WriteAtomic(filepath.Join(dir, "hosts"), []byte(text)); err != nil {
			return "", err
		}
	}
	var out bytes.Buffer
	for _, r := range hs.Routes {
		words, err := splitWords(r.Text)
		if err != nil {
			return "", r.at.errf("%v", err)
		}
		c := Cmd{Text: "ip route add " + r.Text, at: r.at}
		if err := n.runSetup(hs, dir, c, append([]string{"ip", "route", "add"}, words...), nil, &out); err != nil {
			return "", err
		}
	}
	if hs.Internet {
		for _, r := range internetRoutes(hs) {
			c := Cmd{Text: "ip " + strings.Join(r, " "), at: hs.internetAt}
			if err := n.runSetup(hs, dir, c, append([]string{"ip"}, r...), nil, &out); err != nil {
				return "", err
			}
		}
	}
	for _, rf := range []struct{ tool, file string }{{"iptables-restore", hs.Rules}, {"ip6tables-restore", hs.Rules6}} {
		if rf.file == "" {
			continue
		}
		path := n.topo.Path(rf.file)
		data, err := os.ReadFile(path)
		if err != nil {
			return "", &SetupError{Host: hs.Name, Command: rf.tool + " < " + rf.file, Stderr: err.Error()}
		}
		c := Cmd{Text: rf.tool + " < " + rf.file, at: hs.at}
		if err := n.runSetup(hs, dir, c, []string{rf.tool}, data, &out); err != nil {
			return "", err
		}
	}
	for _, c := range hs.Commands {
		words, err := splitWords(c.Text)
		if err != nil {
			return "", c.at.errf("%v", err)
		}
		words, in, err := redirect(words)
		if err != nil {
			return "", c.at.errf("%v", err)
		}
		if len(words) == 0 {
			return "", c.at.errf("empty command")
		}
		var stdin []byte
		if in != "" {
			if stdin, err = os.ReadFile(n.topo.Path(in)); err != nil {
				return "", c.at.errf("%v", err)
			}
		}
		if err := n.runSetup(hs, dir, c, words, stdin, &out); err != nil {
			return "", err
		}
	}
	if hs.Script != "" {
		if err := n.runScript(hs, dir, &out); err != nil {
			return "", err
		}
	}
	if len(hs.Listen) > 0 {
		socks, err := stack.LoadSockets(d)
		if err != nil {
			return "", err
		}
		for _, l := range hs.Listen {
			sk, err := stack.ParseSocket(l.Text)
			if err != nil {
				return "", l.at.errf("%v", err)
			}
			socks = append(socks, sk)
		}
		if err := stack.SaveSockets(d, socks); err != nil {
			return "", err
		}
	}
	return out.String(), nil
}

// runSetup runs one command of a host's setup; a failure stops the
// setup unless the host allows failures.
func (n *Network) runSetup(hs *HostSpec, dir string, c Cmd, argv []string, stdin []byte, out *bytes.Buffer) error {
	var errb bytes.Buffer
	rc, err := n.runCommand(dir, argv, stdin, out, &errb)
	if err != nil {
		return &SetupError{Host: hs.Name, Where: c.Pos(), Command: strings.Join(argv, " "), Stderr: err.Error()}
	}
	out.Write(errb.Bytes())
	if rc != 0 && !hs.AllowFailures {
		return &SetupError{Host: hs.Name, Where: c.Pos(), Command: c.Text, Status: rc, Stderr: errb.String()}
	}
	return nil
}

// runCommand runs an iptwin command on a host's state, in the
// topology's directory (so that "sysctl -p sysctl.conf" finds the file
// next to it): in process when the network has a Runner (the process
// changes its directory meanwhile), else with the binary.
func (n *Network) runCommand(dir string, argv []string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	if n.opts.Run != nil {
		if wd, err := os.Getwd(); err == nil && n.topo.Dir != "" && n.topo.Dir != "." {
			if err := os.Chdir(n.topo.Dir); err != nil {
				return 0, err
			}
			defer os.Chdir(wd)
		}
		return n.opts.Run(dir, argv, bytes.NewReader(stdin), stdout, stderr), nil
	}
	if n.opts.Exec == "" {
		return 0, errors.New("no way to run iptwin commands (neither Options.Run nor Options.Exec)")
	}
	cmd := exec.Command(n.opts.Exec, append([]string{argv[0], "--state", dir}, argv[1:]...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Dir = n.topo.Dir
	cmd.Env = append(os.Environ(), "IPTWIN_STATE="+dir)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// The ERR trap a setup script runs under (through BASH_ENV, so the
// script itself is run unchanged): every failing simple command is
// written down with its line, and the simulation stops before it starts.
// errtrace carries the trap into functions.
const errTrap = `set -o errtrace
trap '__iptwin_rc=$?; printf "%s:%s\t%s\t%s\n" "${BASH_SOURCE[0]:-$0}" "$LINENO" "$__iptwin_rc" "$BASH_COMMAND" >> "$IPTWIN_SIM_ERRLOG"' ERR
`

// toolDir makes (once) the directory of links to the iptwin binary that
// scripts find first on their PATH, with a sudo that runs its command.
func (n *Network) toolDir() (string, error) {
	if n.tools != "" {
		return n.tools, nil
	}
	if n.opts.Exec == "" {
		return "", errors.New("scripts need the iptwin binary (Options.Exec)")
	}
	exe, err := filepath.Abs(n.opts.Exec)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(n.work, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tools := n.opts.Tools
	if tools == nil {
		tools = DefaultTools
	}
	// ipsec hands its commands to the simulator (ipsec_script.go).
	for _, t := range append(tools[:len(tools):len(tools)], "ipsec") {
		if err := os.Symlink(exe, filepath.Join(dir, t)); err != nil {
			return "", err
		}
	}
	// sudo: the script's commands run as they would for root.
	sudo := "#!/bin/sh\nwhile [ $# -gt 0 ]; do case \"$1\" in -E|-H|-n|-S) shift;; -u) shift 2;; --) shift; break;; *) break;; esac; done\nexec \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(sudo), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(n.work, "errtrap.sh"), []byte(errTrap), 0o644); err != nil {
		return "", err
	}
	n.tools = dir
	return dir, nil
}

// runScript runs a host's setup script with bash, in the topology's
// directory, its iptwin tools acting on the host.
func (n *Network) runScript(hs *HostSpec, dir string, out *bytes.Buffer) error {
	return n.runBash(hs, dir, hs.Script, hs.AllowFailures, out)
}

// runBash runs a script of the topology's directory with bash on a host
// (its setup script, or a step's "bash FILE"); the first failing command
// is the error unless failures are allowed.
func (n *Network) runBash(hs *HostSpec, dir, name string, allowFailures bool, out *bytes.Buffer) error {
	script := n.topo.Path(name)
	if _, err := os.Stat(script); err != nil {
		return &SetupError{Host: hs.Name, Command: "bash " + name, Stderr: err.Error()}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		return &SetupError{Host: hs.Name, Command: "bash " + name, Stderr: "bash is not installed"}
	}
	tools, err := n.toolDir()
	if err != nil {
		return &SetupError{Host: hs.Name, Command: "bash " + name, Stderr: err.Error()}
	}
	errlog := filepath.Join(n.work, "errlog-"+hs.Name)
	os.Remove(errlog)
	abs, _ := filepath.Abs(script)
	cmd := exec.Command(bash, abs)
	cmd.Dir = n.topo.Dir
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errb
	cmd.Stdin = strings.NewReader("")
	env := []string{}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "PATH=") || strings.HasPrefix(e, "IPTWIN_STATE=") || strings.HasPrefix(e, "BASH_ENV=") {
			continue
		}
		env = append(env, e)
	}
	env = append(env, "PATH="+tools+string(os.PathListSeparator)+os.Getenv("PATH"),
		"IPTWIN_STATE="+dir, "IPTWIN_SIM=1", "IPTWIN_SIM_ERRLOG="+errlog,
		"BASH_ENV="+filepath.Join(n.work, "errtrap.sh"), "HOSTNAME="+hs.Hostname)
	cmd.Env = env
	runErr := cmd.Run()
	out.Write(errb.Bytes())
	if allowFailures {
		return nil
	}
	scriptRC := 0
	var ee *exec.ExitError
	if errors.As(runErr, &ee) {
		scriptRC = ee.ExitCode()
	} else if runErr != nil {
		scriptRC = 1
	}
	if log, _ := os.ReadFile(errlog); len(log) > 0 {
		first, _, _ := strings.Cut(string(log), "\n")
		f := strings.SplitN(first, "\t", 3)
		if len(f) == 3 {
			where := f[0]
			if rel, err := filepath.Rel(n.topo.Dir, where); err == nil && !strings.HasPrefix(rel, "..") {
				where = filepath.Join(n.topo.Dir, rel)
			}
			var rc int
			fmt.Sscan(f[1], &rc)
			return &SetupError{Host: hs.Name, Where: where, Command: f[2], Status: rc, Stderr: errb.String(), ScriptStatus: scriptRC}
		}
	}
	if runErr != nil {
		return &SetupError{Host: hs.Name, Where: script, Command: "bash " + name, Status: scriptRC, Stderr: errb.String(), ScriptStatus: scriptRC}
	}
	return nil
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}
