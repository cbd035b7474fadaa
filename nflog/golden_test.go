package nflog

import (
	"os"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/nflog/internal/golden"
	"github.com/iptwin/iptwin/packet"
)

// loadGolden reads the lines the kernel wrote (see record.sh).
func loadGolden(t testing.TB) []golden.Case {
	t.Helper()
	f, err := os.Open("testdata/kernel.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := golden.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func metaOf(c *golden.Case) *Meta {
	return &Meta{Prefix: c.Prefix, Level: c.Level, Flags: c.Flags, In: c.In, Out: c.Out,
		MAC: c.MAC, Mark: c.Mark, HasSock: c.HasSock, UID: c.UID, GID: c.GID}
}

// TestKernelGolden renders every recorded packet and compares the line
// with the one the kernel wrote, byte for byte.
func TestKernelGolden(t *testing.T) {
	cases := loadGolden(t)
	if len(cases) < 60 {
		t.Fatalf("only %d recorded cases", len(cases))
	}
	var v4, v6 int
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			var p packet.Packet
			// Some packets the kernel logs do not decode (a TCP header cut
			// short): the line is about the bytes all the same.
			err := p.Decode(c.Packet)
			if len(p.Data) == 0 {
				t.Fatalf("packet does not decode far enough to have an IP header: %v", err)
			}
			if p.IsIPv6() {
				v6++
			} else {
				v4++
			}
			got := string(AppendLine(nil, &p, metaOf(c)))
			if got != c.Line {
				t.Errorf("line differs from the kernel's (re-record with sh nflog/record.sh if the kernel changed)\n%s", diffLine(c.Line, got))
			}
		})
	}
	if v4 < 20 || v6 < 20 {
		t.Errorf("recorded cases: %d IPv4, %d IPv6; want both families covered", v4, v6)
	}
}

// diffLine shows where two lines part.
func diffLine(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-40)
	return "kernel: ..." + want[from:] + "\n" +
		"nflog:  ..." + got[from:] + "\n" +
		"         " + strings.Repeat(" ", i-from) + "^ byte " + itoa(i)
}

func itoa(i int) string { return string(appendUint(nil, uint32(i))) }

// TestGoldenCoverage checks that the recording exercises what it claims
// to: every LOG option, both families, every hook, the seed lines.
func TestGoldenCoverage(t *testing.T) {
	cases := loadGolden(t)
	var flags uint8
	hooks := map[string]bool{}
	names := map[string]bool{}
	for _, c := range cases {
		flags |= c.Flags
		hooks[c.Hook] = true
		names[c.Name] = true
	}
	if want := uint8(FlagTCPSeq | FlagTCPOpt | FlagIPOpt | FlagUID | FlagMACDecode); flags != want {
		t.Errorf("flags used: %#x, want %#x", flags, want)
	}
	for _, h := range []string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"} {
		if !hooks[h] {
			t.Errorf("no case in %s", h)
		}
	}
	for _, n := range []string{"seed000-input-ike", "seed000-forward-ping", "seed001-second-fragment",
		"seed002-input-ping", "seed002-output-reject", "line-cut-at-1016"} {
		if !names[n] {
			t.Errorf("no case %s", n)
		}
	}
}
