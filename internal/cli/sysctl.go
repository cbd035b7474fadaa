package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iptwin/iptwin/host"
)

// sysctl(8) of procps-ng 4.0.2 on the twin host's sysctls (the keys the
// host model knows).
func init() { Register("sysctl", runSysctl) }

const sysctlUsage = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`

type sysctlRun struct {
	env                                       *Env
	net                                       *host.Net
	names, values, binary, ignore, quiet, dry bool
	dirty                                     bool
}

func runSysctl(env *Env, prog string, args []string) int {
	s := &sysctlRun{env: env}
	var write, all bool
	var load []string
	loadGiven := false
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			switch name {
			case "all":
				all = true
			case "binary":
				s.binary = true
			case "ignore":
				s.ignore = true
			case "names":
				s.names = true
			case "values":
				s.values = true
			case "quiet":
				s.quiet = true
			case "write":
				write = true
			case "dry-run":
				s.dry = true
			case "deprecated":
			case "load":
				loadGiven = true
				if hasVal {
					load = append(load, val)
				}
			case "help":
				fmt.Fprint(env.Stdout, sysctlUsage)
				return 0
			case "version":
				fmt.Fprintln(env.Stdout, "sysctl from procps-ng 4.0.2")
				return 0
			default:
				fmt.Fprintf(env.Stderr, "sysctl: unrecognized option '%s'\n", a)
				fmt.Fprint(env.Stderr, sysctlUsage)
				return 1
			}
			continue
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'a', 'A', 'X':
				all = true
			case 'b':
				s.binary = true
			case 'e':
				s.ignore = true
			case 'N':
				s.names = true
			case 'n':
				s.values = true
			case 'q':
				s.quiet = true
			case 'w':
				write = true
			case 'o', 'x':
			case 'p', 'f':
				loadGiven = true
				if j+1 < len(a) {
					load = append(load, a[j+1:])
					j = len(a)
				}
			case 'h', 'd':
				fmt.Fprint(env.Stdout, sysctlUsage)
				return 0
			case 'V':
				fmt.Fprintln(env.Stdout, "sysctl from procps-ng 4.0.2")
				return 0
			default:
				fmt.Fprintf(env.Stderr, "sysctl: invalid option -- '%c'\n", a[j])
				fmt.Fprint(env.Stderr, sysctlUsage)
				return 1
			}
		}
	}
	if loadGiven {
		// -p takes the following words as files
		load = append(load, rest...)
		rest = nil
		if len(load) == 0 {
			load = []string{"/etc/sysctl.conf"}
		}
	}
	if !all && !loadGiven && len(rest) == 0 {
		if len(args) == 0 {
			fmt.Fprint(env.Stderr, sysctlUsage)
		} else {
			fmt.Fprint(env.Stderr, "sysctl: no variables specified\nTry `sysctl --help' for more information.\n")
		}
		return 1
	}
	d, rc := openState(env, prog)
	if d == nil {
		return rc
	}
	defer d.Unlock()
	n, err := host.Load(d)
	if err != nil {
		fmt.Fprintf(env.Stderr, "sysctl: %v\n", err)
		return 4
	}
	s.net = n
	rc = 0
	switch {
	case loadGiven:
		for _, f := range load {
			if s.loadFile(f) != 0 {
				rc = 1
			}
		}
	case all:
		for _, k := range n.SysctlKeys() {
			s.show(k)
		}
	default:
		for _, a := range rest {
			if write || strings.Contains(a, "=") {
				if !strings.Contains(a, "=") {
					fmt.Fprint(env.Stderr, "sysctl: command line(0): invalid syntax, continuing...\n")
					rc = 1
					continue
				}
				k, v, _ := strings.Cut(a, "=")
				if s.write(k, v, false) != 0 {
					rc = 1
				}
				continue
			}
			if s.read(a) != 0 {
				rc = 1
			}
		}
	}
	if s.dirty {
		if err := n.Save(d); err != nil {
			fmt.Fprintf(env.Stderr, "sysctl: %v\n", err)
			return 4
		}
	}
	return rc
}

// normKey turns a key written with '/' into the dotted form (procps
// swaps the two separators when the key holds a '/').
func normKey(k string) string {
	k = strings.TrimSpace(k)
	if strings.Contains(k, "/") {
		k = strings.Map(func(r rune) rune {
			switch r {
			case '/':
				return '.'
			case '.':
				return '/'
			}
			return r
		}, k)
	}
	return k
}

func procPath(k string) string { return "/proc/sys/" + strings.ReplaceAll(k, ".", "/") }

func (s *sysctlRun) show(k string) {
	v := s.net.Sysctl[k]
	switch {
	case s.names:
		fmt.Fprintln(s.env.Stdout, k)
	case s.values && s.binary, s.binary:
		fmt.Fprint(s.env.Stdout, v)
	case s.values:
		fmt.Fprintln(s.env.Stdout, v)
	default:
		fmt.Fprintf(s.env.Stdout, "%s = %s\n", k, v)
	}
}

func (s *sysctlRun) read(arg string) int {
	k := normKey(arg)
	if _, ok := s.net.Sysctl[k]; ok {
		s.show(k)
		return 0
	}
	// a directory lists its subtree
	var sub []string
	for _, key := range s.net.SysctlKeys() {
		if strings.HasPrefix(key, k+".") {
			sub = append(sub, key)
		}
	}
	if len(sub) > 0 && k != "" {
		for _, key := range sub {
			s.show(key)
		}
		return 0
	}
	if s.ignore {
		return 0
	}
	fmt.Fprintf(s.env.Stderr, "sysctl: cannot stat %s: No such file or directory\n", procPath(k))
	return 1
}

func (s *sysctlRun) write(key, val string, ignoreFail bool) int {
	k := normKey(key)
	if _, ok := s.net.Sysctl[k]; !ok {
		if s.ignore {
			return 0
		}
		fmt.Fprintf(s.env.Stderr, "sysctl: cannot stat %s: No such file or directory\n", procPath(k))
		if ignoreFail {
			return 0
		}
		return 1
	}
	if s.dry {
		s.echo(k, val)
		return 0
	}
	if err := s.net.SetSysctl(k, val); err != nil {
		msg := "Invalid argument"
		if !errors.Is(err, host.ErrInval) {
			msg = err.Error()
		}
		fmt.Fprintf(s.env.Stderr, "sysctl: setting key \"%s\": %s\n", k, msg)
		if ignoreFail {
			return 0
		}
		return 1
	}
	s.dirty = true
	s.echo(k, val)
	return 0
}

func (s *sysctlRun) echo(k, val string) {
	if s.quiet {
		return
	}
	switch {
	case s.values:
		fmt.Fprintln(s.env.Stdout, val)
	case s.names:
		fmt.Fprintln(s.env.Stdout, k)
	default:
		fmt.Fprintf(s.env.Stdout, "%s = %s\n", k, val)
	}
}

func (s *sysctlRun) loadFile(path string) int {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(s.env.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil && path != "-" {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		fmt.Fprintf(s.env.Stderr, "sysctl: cannot open \"%s\": %s\n", path, msg)
		return 1
	}
	// procps reads the whole file, reporting syntax errors, then writes
	type setting struct {
		k, v       string
		ignoreFail bool
	}
	var sets []setting
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		ignoreFail := false
		if t[0] == '-' {
			ignoreFail = true
			t = t[1:]
		}
		k, v, ok := strings.Cut(t, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			fmt.Fprintf(s.env.Stderr, "sysctl: %s(%d): invalid syntax, continuing...\n", path, i+1)
			continue
		}
		sets = append(sets, setting{k, v, ignoreFail})
	}
	rc := 0
	for _, st := range sets {
		if s.write(st.k, st.v, st.ignoreFail) != 0 {
			rc = 1
		}
	}
	return rc
}
