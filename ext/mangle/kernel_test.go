package mangle_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/xtables"
)

// TestKernelHMARK computes the marks the real kernel gave the datagrams
// of testdata/kernel-hmark.txt (recorded by ext/rate/testdata/measure.sh).
func TestKernelHMARK(t *testing.T) {
	data, err := os.ReadFile("testdata/kernel-hmark.txt")
	if err != nil {
		t.Skipf("no recording: %v", err)
	}
	h4 := tg(t, v4, "-p", "udp", "-j", "HMARK", "--hmark-tuple", "src,dst,sport,dport,proto", "--hmark-mod", "16", "--hmark-rnd", "0xcafe", "--hmark-offset", "100")
	h6 := tg(t, v6, "-p", "udp", "-j", "HMARK", "--hmark-tuple", "src,dst,sport,dport", "--hmark-mod", "16", "--hmark-rnd", "7", "--hmark-offset", "100")
	var got, want []string
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		want = append(want, l)
		var kind, flow string
		var mark uint32
		fmt.Sscan(l, &kind, &flow, &mark)
		var sport uint16
		f, h, src, dst := v4, h4, "10.77.0.1", "10.77.0.2"
		if kind == "hmark6" {
			f, h, src, dst = v6, h6, "fd77::1", "fd77::2"
			fmt.Sscanf(flow, "[fd77::1]:%d>", &sport)
		} else {
			fmt.Sscanf(flow, "10.77.0.1:%d>", &sport)
		}
		pk := kt.Build(t, kt.Pkt{Src: src, Dst: dst, Proto: 17, Sport: sport, Dport: 53, Payload: 72})
		st := kt.State(f, xtables.HookPrerouting, pk, &kt.Env{})
		h.TargetPacket(st)
		got = append(got, fmt.Sprintf("%s %s %d", kind, flow, st.Mark))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("model:\n%s\nkernel:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
