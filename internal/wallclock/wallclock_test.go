package wallclock

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	loc := time.FixedZone("", 9*3600)
	want := time.Date(2017, 9, 2, 8, 58, 57, 123456789, loc)
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	got, ok := Read(dir)
	if !ok || !got.Equal(want) || got.Format("15:04 -0700") != "08:58 +0900" {
		t.Errorf("Now = %v, want %v in its zone", got, want)
	}
}

func TestMissingOrDamaged(t *testing.T) {
	dir := t.TempDir()
	if _, ok := Read(dir); ok {
		t.Error("a clock without a file")
	}
	os.WriteFile(filepath.Join(dir, file), []byte("yesterday\n"), 0o644)
	if _, ok := Read(dir); ok {
		t.Error("a clock from a damaged file")
	}
}
