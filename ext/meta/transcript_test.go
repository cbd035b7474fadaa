package meta_test

import (
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }
