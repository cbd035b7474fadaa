package cli_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/internal/transcript"
)

// The ip xfrm transcripts:
//
//   - testdata/ip-xfrm/*.cmds were recorded from Linux 6.18 and iproute2
//     6.1 in network namespaces: policies, counts, defaults, larval states
//     (ip xfrm state allocspi with a one-SPI range: the only states a
//     kernel without ESP holds, which show the state listing's format,
//     order, get, delete, filters) and every error the kernel answers
//     before it needs an ESP implementation:
//     go test ./internal/cli -run TestIPXfrm -xfrm-record (as root,
//     namespaces iptw-xf-rec*). Without -short the test compares with
//     the live kernel too when it can.
//   - testdata/ip-xfrm-derived/*.cmds add states with algorithms, which
//     the recording kernel cannot hold (no ESP, AH or IPComp built:
//     "Requested type not found"). Their goldens follow iproute2's
//     printing code (ip/ipxfrm.c: xfrm_state_info_print, xfrm_xfrma_print)
//     over what the kernel dumps (xfrm_user.c: copy_to_user_state_extra:
//     auth as XFRMA_ALG_AUTH_TRUNC, the canonical algorithm names, the
//     replay state always), the kernel's checks after the type lookup
//     (esp_init_state's key lengths, xfrm_state_add/update); the lines
//     they share with the larval states are measured.
//     go test ./internal/cli -run TestIPXfrm -xfrm-bootstrap rewrites them
//     from iptwin's output, for review.

var (
	xfrmRecord    = flag.Bool("xfrm-record", false, "record testdata/ip-xfrm/*.golden from the kernel (root)")
	xfrmBootstrap = flag.Bool("xfrm-bootstrap", false, "rewrite testdata/ip-xfrm-derived/*.golden from iptwin's output")
)

// xfrmIptwin is transcript.Iptwin with "ip ... xfrm" routed to the xfrm
// command before ip's object table knows it.
func xfrmIptwin(dir, hosts, cwd string) func() (transcript.Runner, func(), error) {
	n := 0
	return func() (transcript.Runner, func(), error) {
		n++
		st := filepath.Join(dir, fmt.Sprintf("host%d", n))
		if err := os.MkdirAll(st, 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(st, "hosts"), []byte(hosts), 0o644); err != nil {
			return nil, nil, err
		}
		clock := int64(1700000000)
		restore := cli.SetXfrmNow(func() int64 { clock++; return clock })
		run := func(c transcript.Command, stdin []byte) ([]byte, []byte, int) {
			var out, errb bytes.Buffer
			env := &cli.Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, StatePath: st}
			var rc int
			if c.Argv[0] == "ip" {
				rc = cli.XfrmForTest(env, c.Argv[1:])
			} else {
				rc = cli.Main(append([]string{c.Argv[0], "--state", st}, c.Argv[1:]...), env.Stdin, &out, &errb)
			}
			return out.Bytes(), errb.Bytes(), rc
		}
		return run, func() { restore(); os.RemoveAll(st) }, nil
	}
}

func TestIPXfrmRecorded(t *testing.T) {
	files, _ := filepath.Glob("testdata/ip-xfrm/*.cmds")
	if len(files) == 0 {
		t.Fatal("no testdata/ip-xfrm/*.cmds")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".cmds"), func(t *testing.T) {
			s, err := transcript.Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			dir, _ := filepath.Abs(filepath.Dir(f))
			golden := strings.TrimSuffix(f, ".cmds") + ".golden"
			if *xfrmRecord {
				if why := transcript.KernelAvailable(); why != "" {
					t.Fatalf("cannot record: %s", why)
				}
				live, err := transcript.Render(s, transcript.Kernel(fmt.Sprintf("iptw-xf-rec%d", os.Getpid()), dir, s.Hosts))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, live, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := transcript.Render(s, xfrmIptwin(t.TempDir(), s.Hosts, dir))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (record it: go test ./internal/cli -run TestIPXfrm -xfrm-record, as root)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the kernel's recorded transcript:\n%s", f, transcript.Diff(string(want), string(got)))
			}
			if testing.Short() || *xfrmRecord {
				return
			}
			if why := transcript.KernelAvailable(); why != "" {
				t.Logf("live comparison with the kernel skipped: %s", why)
				return
			}
			live, err := transcript.Render(s, transcript.Kernel(fmt.Sprintf("iptw-xf-t%d", os.Getpid()), dir, s.Hosts))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, live) {
				t.Errorf("%s differs from the live kernel's transcript:\n%s", f, transcript.Diff(string(live), string(got)))
			}
		})
	}
}

func TestIPXfrmDerived(t *testing.T) {
	files, _ := filepath.Glob("testdata/ip-xfrm-derived/*.cmds")
	if len(files) == 0 {
		t.Fatal("no testdata/ip-xfrm-derived/*.cmds")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".cmds"), func(t *testing.T) {
			s, err := transcript.Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			dir, _ := filepath.Abs(filepath.Dir(f))
			got, err := transcript.Render(s, xfrmIptwin(t.TempDir(), s.Hosts, dir))
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".cmds") + ".golden"
			if *xfrmBootstrap {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its golden:\n%s", f, transcript.Diff(string(want), string(got)))
			}
		})
	}
}
