package sim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/iptwin/iptwin/sim"
)

// The scale test: a generated network of 100 hosts (10 routers on a
// backbone, each with a LAN of 9 hosts behind it, a stateful filter on
// every router) exchanging 10,000 flows (TCP handshakes to open and to
// closed ports, UDP datagrams, pings), one flow per step.
//
//	go test ./sim -run Scale -v          (the figures; skipped with -short)
//	go test ./sim -run XXX -bench Scale -benchmem

const (
	scaleRouters = 10
	scaleHosts   = 9 // per router
)

// scaleRules is every router's filter: established traffic, then the
// services, then a LOG and DROP for the rest.
const scaleRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -p tcp -m multiport --dports 80,443 -j ACCEPT
-A FORWARD -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset
-A FORWARD -m limit --limit 10/sec -j LOG --log-prefix "[fwd drop] "
COMMIT
`

// genScale writes the topology with n flows and returns its path.
func genScale(t testing.TB, flows int) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "router.rules"), []byte(scaleRules), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("name: scale\nseed: 42\nhosts:\n")
	host := func(r, h int) string { return fmt.Sprintf("h%d-%d", r, h) }
	for r := 0; r < scaleRouters; r++ {
		fmt.Fprintf(&b, "  r%d:\n    interfaces:\n      eth0: 10.255.0.%d/24\n      eth1: 10.%d.0.1/24\n", r, r+1, r)
		b.WriteString("    sysctl: {net.ipv4.ip_forward: 1}\n    rules: router.rules\n    routes:\n")
		for o := 0; o < scaleRouters; o++ {
			if o != r {
				fmt.Fprintf(&b, "      - 10.%d.0.0/24 via 10.255.0.%d\n", o, o+1)
			}
		}
		for h := 0; h < scaleHosts; h++ {
			fmt.Fprintf(&b, "  %s:\n    interfaces: {eth0: 10.%d.0.%d/24}\n    routes: [default via 10.%d.0.1]\n    listen: [tcp 22, tcp 80, udp 53]\n",
				host(r, h), r, h+10, r)
		}
	}
	b.WriteString("links:\n  backbone: [")
	for r := 0; r < scaleRouters; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "r%d.eth0", r)
	}
	b.WriteString("]\n")
	for r := 0; r < scaleRouters; r++ {
		fmt.Fprintf(&b, "  lan%d: [r%d.eth1", r, r)
		for h := 0; h < scaleHosts; h++ {
			fmt.Fprintf(&b, ", %s.eth0", host(r, h))
		}
		b.WriteString("]\n")
	}
	b.WriteString("steps:\n")
	// A fixed pseudo-random choice of clients, servers and services.
	x := uint32(2463534242)
	next := func() uint32 { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x }
	for i := 0; i < flows; i++ {
		cr, ch := int(next()%scaleRouters), int(next()%scaleHosts)
		sr := int(next() % scaleRouters)
		if sr == cr {
			sr = (sr + 1) % scaleRouters
		}
		sh := int(next() % scaleHosts)
		dst := fmt.Sprintf("10.%d.0.%d", sr, sh+10)
		var cmd string
		switch k := next() % 20; {
		case k < 10:
			cmd = "nc -z " + dst + " 80"
		case k < 12:
			cmd = "nc -z " + dst + " 443" // refused by the server (no listener)
		case k < 13:
			cmd = "nc -z " + dst + " 8080" // reset by the router
		case k < 17:
			cmd = "udp " + dst + " 53"
		default:
			cmd = "ping -c 1 " + dst
		}
		fmt.Fprintf(&b, "  - %s: %s\n", host(cr, ch), cmd)
	}
	path := filepath.Join(dir, "scale.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestScale runs 100 hosts and 10,000 flows and reports the time and
// memory each phase takes.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("the scale run takes seconds")
	}
	path := genScale(t, 10000)
	topo, err := sim.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Hosts) != 100 || len(topo.Steps) != 10000 {
		t.Fatalf("%d hosts, %d steps", len(topo.Hosts), len(topo.Steps))
	}
	runtime.GC()
	var m0, m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	n, err := sim.New(topo, options(t, false))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	t1 := time.Now()
	runtime.ReadMemStats(&m1)
	res := n.Run()
	t2 := time.Now()
	runtime.ReadMemStats(&m2)
	outcomes := map[string]int{}
	frames, logs := 0, 0
	for _, s := range res.Steps {
		outcomes[s.Outcome]++
		frames += len(s.Frames)
		logs += len(s.Logs)
	}
	t.Logf("setup of 100 hosts: %v (%.1f MB allocated)", t1.Sub(t0).Round(time.Millisecond), float64(m1.TotalAlloc-m0.TotalAlloc)/1e6)
	t.Logf("10,000 flows: %v, %d frames on the links, %d LOG lines, outcomes %v", t2.Sub(t1).Round(time.Millisecond), frames, logs, outcomes)
	t.Logf("run: %.1f MB allocated, %d allocations; heap in use after the run %.1f MB",
		float64(m2.TotalAlloc-m1.TotalAlloc)/1e6, m2.Mallocs-m1.Mallocs, float64(m2.HeapInuse)/1e6)
	// Every flow has its expected fate: nothing is lost.
	if outcomes["connected"] == 0 || outcomes["refused"] == 0 || outcomes["ok"] == 0 || outcomes["sent"] == 0 ||
		outcomes["timeout"] != 0 || outcomes["lost"] != 0 || outcomes["error"] != 0 {
		t.Errorf("outcomes %v", outcomes)
	}
	if d := t2.Sub(t1); d > 60*time.Second {
		t.Errorf("10,000 flows took %v", d)
	}
}

// BenchmarkScaleFlows: the cost of one flow in the 100-host network (the
// setup is outside the timing).
func BenchmarkScaleFlows(b *testing.B) {
	path := genScale(b, 1000)
	topo, err := sim.ParseFile(path)
	if err != nil {
		b.Fatal(err)
	}
	n, err := sim.New(topo, options(b, false))
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.RunStep(topo.Steps[i%len(topo.Steps)])
	}
}
