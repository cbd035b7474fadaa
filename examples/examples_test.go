package examples_test

import (
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

// TestSeed004 checks the demo's commands against the real tools' transcript.
func TestSeed004(t *testing.T) { transcript.Check(t, "seed004/demo.cmds") }
