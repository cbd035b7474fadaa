package stack_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
		errb bytes.Buffer
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
				c.Stdout, c.Stderr = &out, &errb
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
	exited := !processAlive(c.Process.Pid)
	c.Process.Kill()
	c.Wait()
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	// A monitor that stopped by itself (it exits on a rule it cannot
	// read) has its error output and status recorded, as the transcript
	// goldens do.
	got := out.String()
	if errb.Len() > 0 || exited {
		if got != "" && !strings.HasSuffix(got, "\n") {
			got += "\n"
		}
		for _, l := range strings.SplitAfter(errb.String(), "\n") {
			if l != "" {
				got += "! " + l
			}
		}
		if exited {
			got += "[exit " + strconv.Itoa(c.ProcessState.ExitCode()) + "]\n"
		}
	}
	return got
}

func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

var recordMonitorFlag = flag.Bool("record-monitor", false, "record testdata/monitor/*.golden from the real xtables-monitor (root; see testdata/monitor/record.sh)")

func monitorScenarios(t *testing.T) []*kernelref.Scenario {
	t.Helper()
	files, err := filepath.Glob("testdata/monitor/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata/monitor: %v", err)
	}
	var out []*kernelref.Scenario
	for _, f := range files {
		s, err := kernelref.LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestMonitorRecord(t *testing.T) {
	if !*recordMonitorFlag {
		t.Skip("records only with -record-monitor")
	}
	if why := kernelref.KernelAvailable(); why != "" {
		t.Skip(why)
	}
	if _, err := exec.LookPath("xtables-monitor"); err != nil {
		t.Skip("no xtables-monitor")
	}
	for _, s := range monitorScenarios(t) {
		got := recordMonitor(t, s)
		if err := os.WriteFile(filepath.Join("testdata/monitor", s.Name+".golden"), []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
