package cli

import (
	"embed"
	"fmt"
	"io"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

const version = "1.8.9 (nf_tables)"

// printError prints an error the way the real tool does and returns the
// exit status.
func printError(w io.Writer, prog string, err error) int {
	if arg, ok := iptables.BadArgument(err); ok {
		fmt.Fprintf(w, "Bad argument `%s'\n", arg)
		fmt.Fprintf(w, "Try `%s -h' or '%s --help' for more information.\n", prog, prog)
		return 2
	}
	switch e := err.(type) {
	case *xtables.KernelError:
		fmt.Fprintf(w, "%s: %s.", prog, e.Errno)
		if e.Dmesg {
			fmt.Fprint(w, " Run `dmesg' for more information.")
		}
		fmt.Fprintln(w)
		return 1
	case *xtables.Error:
		if !iptables.IsTryHelp(err) {
			fmt.Fprintf(w, "%s v%s: %s\n", prog, version, e.Msg)
		}
		switch e.Code {
		case xtables.ParameterProblem:
			fmt.Fprintf(w, "Try `%s -h' or '%s --help' for more information.\n", prog, prog)
		case xtables.VersionProblem:
			fmt.Fprintf(w, "Perhaps %s or your kernel needs to be upgraded.\n", prog)
		}
		return int(e.Code)
	}
	fmt.Fprintf(w, "%s: %v\n", prog, err)
	return 1
}

func runIptables(f xtables.Family) command {
	return func(env *Env, prog string, args []string) int {
		d, code := openState(env, prog)
		if d == nil {
			return code
		}
		defer d.Unlock()
		// a big ruleset is read and rewritten: the restore's heap setting
		defer prepareHeap(d.RulesSize(f))()
		names := d.Names()
		cmd, err := iptables.Parse(args, iptables.ParseOptions{Family: f, Names: names, Objects: d.Objects()})
		if cmd != nil {
			for _, n := range cmd.Notices {
				fmt.Fprintln(env.Stderr, n)
			}
		}
		if err != nil {
			return printError(env.Stderr, prog, err)
		}
		if cmd.Version {
			if cmd.VersionInv {
				fmt.Fprintf(env.Stdout, "Not %s ;-)\n", version)
			} else {
				fmt.Fprintf(env.Stdout, "%s v%s\n", prog, version)
			}
			return 0
		}
		if cmd.Help {
			printHelp(env.Stdout, f, cmd)
			return 0
		}
		if cmd.Cmd == iptables.CmdListRules && cmd.Options&iptables.OptVerbose == 0 && cmd.RuleNum == 0 {
			if out, ok := listRulesRaw(d, f, cmd); ok {
				env.Stdout.Write(out)
				return 0
			}
		}
		rs, err := d.Load(f, names)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", prog, err)
			return 4
		}
		work := rs.Clone()
		var out []byte
		if cmd.Cmd&(iptables.CmdList|iptables.CmdListRules) != 0 {
			// Listings of big rule sets: one buffer of about the right
			// size rather than a growing one.
			if t := work.Table(cmd.Table); t != nil {
				n := 0
				for _, c := range t.Chains {
					n += len(c.Rules)
				}
				out = make([]byte, 0, 4096+n*200)
			}
		}
		seen := len(cmd.Notices)
		changed, err := iptables.Execute(work, cmd, names, &out)
		env.Stdout.Write(out)
		for _, n := range cmd.Notices[seen:] {
			fmt.Fprintln(env.Stderr, n) // warnings of extensions while listing
		}
		if be, ok := err.(*iptables.BatchError); ok {
			err = xtables.Problem(xtables.ResourceProblem, " %s", be)
		}
		if err != nil {
			return printError(env.Stderr, prog, err)
		}
		if changed {
			if err := d.Store(work, names); err != nil {
				fmt.Fprintf(env.Stderr, "%s: %v\n", prog, err)
				return 4
			}
		}
		return 0
	}
}

// helpText holds what iptables -h and ip6tables -h print, recorded from
// the real tools.
//
//go:embed help/iptables.txt help/ip6tables.txt help/ext
var helpText embed.FS

// extHelp is an extension's help text: as the real tool printed it
// (help/ext, recorded by scripts/record-help.sh), else the extension's
// own, else the line libxtables prints for extensions without help.
func extHelp(f xtables.Family, kind, name, own string) string {
	tool := "iptables"
	if f == xtables.IPv6 {
		tool = "ip6tables"
	}
	if b, err := helpText.ReadFile("help/ext/" + tool + "-" + kind + "-" + name + ".txt"); err == nil {
		return string(b)
	}
	if own != "" {
		return own
	}
	return name + " does not take any options\n"
}

// printHelp is exit_printhelp: the tool's help, then the help of the
// target and the matches loaded when -h came.
func printHelp(w io.Writer, f xtables.Family, cmd *iptables.Command) {
	name := "help/iptables.txt"
	if f == xtables.IPv6 {
		name = "help/ip6tables.txt"
	}
	b, _ := helpText.ReadFile(name)
	w.Write(b)
	if t := cmd.HelpTarget; t != nil {
		fmt.Fprint(w, "\n"+extHelp(f, "target", t.Name, t.Help))
	}
	for _, m := range cmd.HelpMatches {
		fmt.Fprint(w, "\n"+extHelp(f, "match", m.Name, m.Help))
	}
}

// listRulesRaw prints -S from the state file's text without parsing a rule
// (see state.LoadRaw) when the table and chain are there.
func listRulesRaw(d *state.Dir, f xtables.Family, cmd *iptables.Command) ([]byte, bool) {
	raw, ok := d.LoadRaw(f)
	if !ok {
		return nil, false
	}
	for _, t := range raw {
		if t.Name == cmd.Table {
			return iptables.AppendListRulesRaw(nil, t, cmd.Chain)
		}
	}
	return nil, false
}
