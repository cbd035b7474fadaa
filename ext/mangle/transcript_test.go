package mangle_test

import (
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	"github.com/iptwin/iptwin/internal/transcript"
)

func TestTranscripts(t *testing.T) { transcript.CheckDir(t, "testdata") }
