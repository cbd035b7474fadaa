package sim_test

import (
	"strings"
	"testing"
)

// TestInternetHost: a host with `internet: true` answers for any address
// (ping, a listener, a RST for a closed port; IPv4 and IPv6) and still
// forwards to the hosts it has routes for — what the same AnyIP routes do
// in the kernel.
func TestInternetHost(t *testing.T) {
	r := runFile(t, "testdata/internet.yaml", options(t, false))
	if f := failed(r); len(f) > 0 {
		t.Errorf("failed assertions:\n%s", strings.Join(f, "\n"))
	}
}

// TestBashStep: "bash FILE" runs a script on a host between two steps;
// its first failing command ends it with that command's error and line,
// and what it did before holds.
func TestBashStep(t *testing.T) {
	r := runFile(t, "testdata/step-script.yaml", options(t, true))
	if f := failed(r); len(f) > 0 {
		t.Errorf("failed assertions:\n%s", strings.Join(f, "\n"))
	}
}
