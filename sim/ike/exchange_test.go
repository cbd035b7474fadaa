package ike

import (
	"strings"
	"testing"
	"time"
)

func TestSeedOK(t *testing.T) {
	n, a, b := seedPair(t, "", "", "")
	lines, done, ok := up(n, a, "debian3", time.Minute)
	t.Log("\n" + strings.Join(lines, "\n"))
	t.Log("\n" + strings.Join(daemonLog(b), "\n"))
	if !done || !ok {
		t.Fatal("not established")
	}
	t.Logf("%+v\n%+v\n%+v", a.sas, a.pols, a.routes)
	t.Log("\n" + strings.Join(a.d.StatusAll(n.now+int64(time.Second)), "\n"))
}
