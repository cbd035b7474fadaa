package cli

import (
	"runtime/debug"
	"testing"
)

// TestPrepareHeap checks that the collector is off for a big input only,
// and that the returned function puts it and the memory limit back.
func TestPrepareHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 40))
	prepareHeap(bigRestore - 1)()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("small input: GC percent %d", got)
	}
	undo := prepareHeap(bigRestore)
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("big input: GC percent %d, want off", got)
	}
	if got := debug.SetMemoryLimit(-1); got >= 1<<40 {
		t.Errorf("big input: memory limit %d kept", got)
	}
	undo()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("after: GC percent %d, want 150 back", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("after: memory limit %d, want it back", got)
	}
}
