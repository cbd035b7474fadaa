package stack_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptwin/iptwin/internal/kernelref"
)

// monitorPrefix names the kernel runner's namespaces while recording:
// iptw-mon-k-h is the host, iptw-mon-k-pN its peers.
const monitorPrefix = "iptw-mon-k"

// recordMonitor runs a scenario in the real kernel (internal/kernelref's
// runner) with xtables-monitor --trace listening in the host namespace,
// and returns what it printed.
func recordMonitor(t *testing.T, s *kernelref.Scenario) string {
	t.Helper()
	ns := monitorPrefix + "-h"
	dropNamespaces := func() {
		for _, n := range []string{ns, monitorPrefix + "-p0", monitorPrefix + "-p1", monitorPrefix + "-p2"} {
			exec.Command("ip", "netns", "del", n).Run()
		}
	}
	dropNamespaces()
	defer dropNamespaces()

	// The runner makes the host namespace, sets it up (at least 100 ms
	// until it is quiet) and only then sends the packets: the monitor is
	// started as soon as the namespace exists.
	var (
		mu   sync.Mutex
		cmd  *exec.Cmd
		out  bytes.Buffer
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := os.Stat("/run/netns/" + ns); err == nil {
				c := exec.Command("ip", "netns", "exec", ns, "xtables-monitor", "--trace")
				c.Stdout = &out
				if c.Start() == nil {
					time.Sleep(20 * time.Millisecond)
					if c.ProcessState == nil && processAlive(c.Process.Pid) {
						mu.Lock()
						cmd = c
						mu.Unlock()
						return
					}
					c.Wait()
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	k := &kernelref.Kernel{Prefix: monitorPrefix}
	_, err := k.Run(s)
	close(stop)
	<-done
	mu.Lock()
	c := cmd
	mu.Unlock()
	if c == nil {
		t.Fatalf("%s: xtables-monitor did not start (run error: %v)", s.Name, err)
	}
	time.Sleep(200 * time.Millisecond)
	c.Process.Kill()
	c.Wait()
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return out.String()
}

func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
