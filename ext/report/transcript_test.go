package report_test

import (
	"flag"
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

var pending = flag.Bool("pending", false, "also check testdata/pending (transcripts that need core changes)")

// TestTranscripts compares iptwin with the real iptables 1.8.9 transcripts
// of testdata/*.cmds (and with the live kernel when run as root).
func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }

// TestPendingTranscripts holds real transcripts iptwin cannot produce until
// the core can: kernel refusals reported as "RULE_APPEND failed (...)" with
// exit 4, warnings extensions print while parsing, and save lines that do
// not read back (the state is kept as save text).
func TestPendingTranscripts(t *testing.T) {
	if !*pending {
		t.Skip("needs core changes; run with -pending")
	}
	transcript.CheckDir(t, "testdata/pending")
}
