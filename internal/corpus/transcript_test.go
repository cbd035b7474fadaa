package corpus

import (
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

// TestOwnRulesets compares iptwin with the real tools on rulesets and
// command sequences as ufw, docker, libvirt, fail2ban and a random
// generator produce them (testdata/*.cmds, goldens recorded with
// scripts/record-transcripts.sh).
func TestOwnRulesets(t *testing.T) { transcript.CheckDir(t, "testdata") }
