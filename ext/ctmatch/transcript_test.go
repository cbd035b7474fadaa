package ctmatch_test

import (
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

// TestTranscripts replays testdata/*.cmds (recorded from the real iptables
// 1.8.9); testdata/pending holds cases that wait for core changes.
func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }
