package report_test

import (
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

// TestTranscripts compares iptwin with the real iptables 1.8.9 transcripts
// of testdata/*.cmds (and with the live kernel when run as root).
func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }
