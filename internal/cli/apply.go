package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/xtables"
)

// iptables-apply and ip6tables-apply: the script iptables 1.8.9 ships
// (version 1.1) — save the rules, apply a file (or run a command), ask
// "Can you establish NEW connections to the machine? (y/N)" and roll back
// unless the answer, read from stdin within the timeout, is yes. Its
// messages, exit codes and quirks are the script's (testdata/apply.cmds,
// recorded from it).

const applyVersion = "1.1"

var applySpecs = []flagSpec{
	{'t', "timeout", 1}, {'w', "write", 1}, {'c', "command", 0},
	{'h', "help", 0}, {'V', "version", 0},
}

func init() {
	commands["iptables-apply"] = runApply(xtables.IPv4)
	commands["ip6tables-apply"] = runApply(xtables.IPv6)
}

func applyBlurb(prog string) string {
	return prog + " " + applyVersion + " -- a safer way to update iptables remotely\n"
}

func applyAbout(prog string) string {
	return applyBlurb(prog) + "\n" + prog + ` has been published under the terms of the Artistic Licence 2.0.

Original version - Copyright 2006 Martin F. Krafft <madduck@madduck.net>.
Version 1.1 - Copyright 2010 GW <gw.2010@tnode.com or http://gw.tnode.com/>.
`
}

func applyUsage(prog, rules, run string) string {
	return applyBlurb(prog) + "\n" + `Usage:
  ` + prog + ` [-hV] [-t timeout] [-w savefile] {[rulesfile]|-c [runcmd]}

The script will try to apply a new rulesfile (as output by iptables-save,
read by iptables-restore) or run a command to configure iptables and then
prompt the user whether the changes are okay. If the new iptables rules cut
the existing connection, the user will not be able to answer affirmatively.
In this case, the script rolls back to the previous working iptables rules
after the timeout expires.

Successfully applied rules can also be written to savefile and later used
to roll back to this state. This can be used to implement a store last good
configuration mechanism when experimenting with an iptables setup script:
  ` + prog + ` -w ` + rules + ` -c ` + run + `

When called as ip6tables-apply, the script will use ip6tables-save/-restore
and IPv6 default values instead. Default value for rulesfile is
'` + rules + `'.

Options:

-t seconds, --timeout seconds
  Specify the timeout in seconds (default: 10).
-w savefile, --write savefile
  Specify the savefile where successfully applied rules will be written to
  (default if empty string is given: ` + rules + `).
-c runcmd, --command runcmd
  Run command runcmd to configure iptables instead of applying a rulesfile
  (default: ` + run + `).
-h, --help
  Display this help text.
-V, --version
  Display version information.

`
}

func runApply(f xtables.Family) command {
	return func(env *Env, prog string, args []string) int {
		save, restore, rulesDef, runDef := "iptables-save", "iptables-restore", "/etc/network/iptables.up.rules", "/etc/network/iptables.up.run"
		if f == xtables.IPv6 {
			save, restore, rulesDef, runDef = "ip6tables-save", "ip6tables-restore", "/etc/network/ip6tables.up.rules", "/etc/network/ip6tables.up.run"
		}
		flags, operands := getopts(prog, args, applySpecs)
		timeout, saveFile, cmdMode := "10", "", false
		words := 0 // the words getopt(1) prints before "--"
		for _, fl := range flags {
			switch fl.c {
			case '?':
				fmt.Fprintln(env.Stderr, fl.arg)
				return 1
			case 't':
				timeout, words = fl.arg, words+2
			case 'w':
				saveFile, words = fl.arg, words+2
				if saveFile == "" {
					saveFile = rulesDef
				}
			case 'c':
				cmdMode, words = true, words+1
			case 'h':
				io.WriteString(env.Stderr, applyUsage(prog, rulesDef, runDef))
				return 0
			case 'V':
				io.WriteString(env.Stderr, applyAbout(prog))
				return 0
			}
		}
		// The script loops over getopt's output but shifts its own
		// arguments, once per word: the operand is whatever is left after
		// as many words as getopt printed (so "-t5 FILE" loses FILE and
		// "FILE -t 5" reads "5").
		rest := operands
		if len(flags) > 0 {
			rest = args[min(words, len(args)):]
		}
		secs, err := strconv.Atoi(timeout)
		if err != nil || secs < 0 {
			fmt.Fprintln(env.Stderr, "Error: timeout must be a positive number")
			return 1
		}
		if saveFile != "" {
			if _, err := os.Stat(saveFile); err == nil && !writable(saveFile) {
				fmt.Fprintf(env.Stderr, "Error: savefile not writable: %s\n", saveFile)
				return 8
			}
		}
		target := rulesDef
		if cmdMode {
			target = runDef
		}
		if len(rest) > 0 && rest[0] != "" {
			target = rest[0]
		}
		var rules []byte
		if cmdMode {
			if fi, err := os.Stat(target); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				fmt.Fprintf(env.Stderr, "Error: runcmd not executable: %s\n", target)
				return 6
			}
		} else if rules, err = os.ReadFile(target); err != nil {
			fmt.Fprintf(env.Stderr, "Error: rulesfile not readable: %s\n", target)
			return 2
		}

		sub := func(name string, stdin io.Reader, stdout io.Writer) int {
			e := *env
			e.Stdin, e.Stdout = stdin, stdout
			return commands[name](&e, name, nil)
		}
		var old bytes.Buffer
		if sub(save, strings.NewReader(""), &old) != 0 {
			fmt.Fprintf(env.Stderr, "Error: unknown error saving old iptables rules: %s\n", "/tmp/"+prog+"-XXXXXXXX")
			return 4
		}
		revert := func() {
			io.WriteString(env.Stdout, "Reverting to old iptables rules... ")
			sub(restore, bytes.NewReader(old.Bytes()), env.Stdout)
			io.WriteString(env.Stdout, "done.\n")
		}
		if cmdMode {
			fmt.Fprintf(env.Stdout, "Running command '%s'... ", target)
			if !runApplyCommand(env, target, time.Duration(secs)*time.Second) {
				io.WriteString(env.Stdout, "failed.\n")
				fmt.Fprintf(env.Stderr, "Error: unknown error running command: %s\n", target)
				revert()
				return 7
			}
			io.WriteString(env.Stdout, "done.\n")
		} else {
			fmt.Fprintf(env.Stdout, "Applying new iptables rules from '%s'... ", target)
			if sub(restore, bytes.NewReader(rules), env.Stdout) != 0 {
				io.WriteString(env.Stdout, "failed.\n")
				fmt.Fprintf(env.Stderr, "Error: unknown error applying new iptables rules: %s\n", target)
				revert()
				return 5
			}
			io.WriteString(env.Stdout, "done.\n")
		}

		io.WriteString(env.Stdout, "Can you establish NEW connections to the machine? (y/N) ")
		answer := readAnswer(env.Stdin, time.Duration(secs)*time.Second)
		io.WriteString(env.Stdout, "\n")
		if answer != 'y' && answer != 'Y' {
			if answer == 0 {
				io.WriteString(env.Stdout, "Timeout! Something happened (or did not). Better play it safe...\n")
			} else {
				io.WriteString(env.Stdout, "No affirmative response! Better play it safe...\n")
			}
			revert()
			return 255
		}
		if saveFile != "" {
			fmt.Fprintf(env.Stdout, "Writing successfully applied rules to '%s'...\n", saveFile)
			// "$SAVE" >"$SAVEFILE": the shell truncates and writes in place.
			out, err := os.OpenFile(saveFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err == nil {
				bw := bufio.NewWriter(out)
				rc := sub(save, strings.NewReader(""), bw)
				if ferr := bw.Flush(); rc != 0 || ferr != nil {
					err = fmt.Errorf("write failed")
				}
				if cerr := out.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(env.Stderr, "Error: unknown error writing successfully applied rules: %s\n", saveFile)
				return 9
			}
		}
		io.WriteString(env.Stdout, "... then my job is done. See you next time.\n")
		return 0
	}
}

// writable is test -w for the invoking user.
func writable(path string) bool {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// readAnswer is `read -n1 -t TIMEOUT`: the first character typed within
// the timeout, 0 for none (end of input, a bare newline, or the timeout).
func readAnswer(r io.Reader, timeout time.Duration) byte {
	if r == nil || timeout == 0 {
		return 0
	}
	got := make(chan byte, 1)
	go func() {
		var b [1]byte
		if n, _ := r.Read(b[:]); n == 1 && b[0] != '\n' {
			got <- b[0]
			return
		}
		got <- 0
	}()
	select {
	case c := <-got:
		return c
	case <-time.After(timeout):
		return 0
	}
}

// runApplyCommand runs the -c command with the twin host's state in its
// environment, killed after the timeout as the script's sleeper does.
func runApplyCommand(env *Env, path string, timeout time.Duration) bool {
	cmd := exec.Command(path)
	cmd.Stdout, cmd.Stderr = env.Stdout, env.Stderr
	cmd.Env = append(os.Environ(), "IPTWIN_STATE="+env.StatePath)
	if err := cmd.Start(); err != nil {
		return false
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err == nil
	case <-time.After(timeout):
		cmd.Process.Kill()
		return <-done == nil
	}
}
