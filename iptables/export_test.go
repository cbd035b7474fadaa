package iptables

import (
	"io"

	"github.com/iptwin/iptwin/xtables"
)

// AppendParamsForTest exposes the restore line splitter to the external
// tests.
var AppendParamsForTest = appendParams

// RestoreAtCommitForTest restores as the real tool orders the work: each
// table's commands run at its COMMIT, after all its chain lines (the
// deferred path of batch), with the text parsed ahead in chunks of
// chunkLen bytes (0: not parsed ahead).
func RestoreAtCommitForTest(rs *xtables.Ruleset, in io.Reader, o RestoreOptions, atCommit bool, chunkLen int) (*xtables.Ruleset, []byte, *RestoreError) {
	defer func(n int) { preparseChunk = n }(preparseChunk)
	preparseChunk = chunkLen
	if chunkLen == 0 {
		preparseChunk = 1 << 40
	}
	restoreAtCommit = atCommit
	defer func() { restoreAtCommit = false }()
	return Restore(rs, in, o)
}
