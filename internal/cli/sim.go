package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/sim"
)

// iptwin sim: a network of twin hosts from a topology file, its
// scenario run step by step on a virtual clock (docs/sim.md).
func init() { Register("sim", runSim) }

const simUsage = `Usage: iptwin sim [options] FILE.yaml

Runs the network a topology file describes (hosts, their interfaces,
setup scripts and rules, the links between them) and its steps (ping,
ssh, nc, udp, raw packets, commands, waits), deterministically on a
virtual clock, and prints per step what the application printed, every
host's LOG lines as syslog writes them and, per link, the frames that
crossed it as tcpdump -nn prints them. See docs/sim.md for the format.

Options:
  --json          the run as JSON
  --check GOLDEN  compare the output with the file GOLDEN; exit 1 with a
                  diff when they differ
  --update        with --check: write the output to GOLDEN instead
  --pcap DIR      write one pcap file per link into DIR
  --seed N        the seed of every random choice (default: the file's,
                  else 1)
  --date TIME     the wall clock at the start (RFC 3339, default: the
                  file's start, else 2026-01-01T00:00:00Z)
  --keep DIR      keep the hosts' state directories in DIR/HOST, so that
                  iptwin --state DIR/HOST ... can look at them afterwards
  --no-capture    leave the capture lines out of the output

Exit status: 0 when every assertion held (and the output matched
--check), 1 when one failed, 2 for a mistake in the file or the options,
3 when a host's setup failed.
`

func runSim(env *Env, prog string, args []string) int {
	var opts sim.Options
	var asJSON, update bool
	var check, file string
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, true
			}
			if i+1 >= len(args) {
				fmt.Fprintf(env.Stderr, "iptwin sim: %s needs an argument\n", a)
				return "", false
			}
			i++
			return args[i], true
		}
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "-h", "--help":
			fmt.Fprint(env.Stdout, simUsage)
			return 0
		case "--json":
			asJSON = true
		case "--update":
			update = true
		case "--no-capture":
			opts.NoCapture = true
		case "--check", "--pcap", "--seed", "--date", "--keep":
			v, ok := val()
			if !ok {
				return 2
			}
			switch name {
			case "--check":
				check = v
			case "--pcap":
				opts.PcapDir = v
			case "--keep":
				opts.StateDir = v
			case "--seed":
				s, err := strconv.ParseUint(v, 0, 64)
				if err != nil {
					fmt.Fprintf(env.Stderr, "iptwin sim: --seed %q: not a number\n", v)
					return 2
				}
				opts.Seed, opts.SeedSet = s, true
			case "--date":
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					fmt.Fprintf(env.Stderr, "iptwin sim: --date %q: not a time such as 2017-09-02T20:19:24Z\n", v)
					return 2
				}
				opts.Start = t
			}
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				fmt.Fprintf(env.Stderr, "iptwin sim: unknown option %s\n%s", a, simUsage)
				return 2
			}
			if file != "" {
				fmt.Fprintf(env.Stderr, "iptwin sim: one topology file at a time (%s and %s)\n", file, a)
				return 2
			}
			file = a
		}
	}
	if file == "" {
		fmt.Fprint(env.Stderr, "iptwin sim: no topology file given\n"+simUsage)
		return 2
	}
	if update && check == "" {
		fmt.Fprintln(env.Stderr, "iptwin sim: --update goes with --check GOLDEN")
		return 2
	}
	t, err := sim.ParseFile(file)
	if err != nil {
		fmt.Fprintf(env.Stderr, "iptwin sim: %v\n", err)
		return 2
	}
	opts.Run = func(state string, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
		return Main(append([]string{argv[0], "--state", state}, argv[1:]...), stdin, stdout, stderr)
	}
	if exe, err := os.Executable(); err == nil {
		opts.Exec = exe
	}
	res, err := sim.Run(t, opts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "iptwin sim: %v\n", err)
		if res == nil {
			var fe *sim.Error
			if errors.As(err, &fe) {
				return 2
			}
			return 3
		}
	}
	var out bytes.Buffer
	if asJSON {
		res.WriteJSON(&out)
	} else {
		res.WriteText(&out)
	}
	rc := 0
	if res.Failed > 0 {
		rc = 1
	}
	if check != "" {
		if update {
			if err := os.WriteFile(check, out.Bytes(), 0o644); err != nil {
				fmt.Fprintf(env.Stderr, "iptwin sim: %v\n", err)
				return 2
			}
			fmt.Fprintf(env.Stdout, "iptwin sim: wrote %s\n", check)
			return rc
		}
		want, err := os.ReadFile(check)
		if err != nil {
			fmt.Fprintf(env.Stderr, "iptwin sim: %v\n", err)
			return 2
		}
		if d := sim.Diff(string(want), out.String()); d != "" {
			fmt.Fprintf(env.Stdout, "iptwin sim: the output differs from %s (-want +got):\n%s", check, d)
			return 1
		}
		fmt.Fprintf(env.Stdout, "iptwin sim: %s: %d steps, output as in %s\n", file, len(res.Steps), check)
		return rc
	}
	env.Stdout.Write(out.Bytes())
	return rc
}
