package l4_test

import (
	"testing"

	_ "github.com/iptwin/iptwin/ext" // every extension, as the binary has them
	"github.com/iptwin/iptwin/internal/transcript"
)

// TestTranscripts compares iptwin with transcripts recorded from the real
// iptables 1.8.9 (testdata/*.golden).
func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }
