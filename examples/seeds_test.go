package examples_test

import (
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

// TestSeeds checks the rule commands and files of the five seed stories
// against transcripts recorded from the real tools.
func TestSeeds(t *testing.T) { transcript.CheckDir(t, "seeds") }
