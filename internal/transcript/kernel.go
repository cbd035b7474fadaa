package transcript

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// KernelAvailable says why the real tools cannot be asked, or "" when they
// can: root, ip netns and iptables 1.8.9 (nf_tables) are needed.
func KernelAvailable() string {
	if os.Geteuid() != 0 {
		return "not root: cannot create network namespaces"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no ip command (apt install iproute2)"
	}
	out, err := exec.Command("iptables", "-V").Output()
	if err != nil {
		return "no iptables command (apt install iptables)"
	}
	if !bytes.HasPrefix(out, []byte("iptables v1.8.9 (nf_tables)")) {
		return fmt.Sprintf("iptables is %q, not v1.8.9 (nf_tables)", bytes.TrimSpace(out))
	}
	return ""
}

// Kernel returns fresh hosts of the real kernel: a new network namespace
// named prefix-N (with the given hosts file under /etc/netns) per host,
// commands run there by sh in the directory dir. The namespace is deleted
// by name when the host is done.
func Kernel(prefix, dir, hosts string) func() (Runner, func(), error) {
	n := 0
	return func() (Runner, func(), error) {
		n++
		ns := fmt.Sprintf("%s-%d", prefix, n)
		exec.Command("ip", "netns", "del", ns).Run()
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
		}
		etc := filepath.Join("/etc/netns", ns)
		os.MkdirAll(etc, 0o755)
		os.WriteFile(filepath.Join(etc, "hosts"), []byte(hosts), 0o644)
		// no reachable resolver: lookups of unknown names fail at once
		os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644)
		done := func() {
			exec.Command("ip", "netns", "del", ns).Run()
			os.RemoveAll(etc)
		}
		run := func(c Command, stdin []byte) ([]byte, []byte, int) {
			cmd := exec.Command("ip", "netns", "exec", ns, "sh", "-c", c.Shell)
			cmd.Dir = dir
			cmd.Stdin = bytes.NewReader(stdin)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			rc := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				rc = ee.ExitCode()
			} else if err != nil {
				return nil, []byte(err.Error() + "\n"), 127
			}
			return out.Bytes(), errb.Bytes(), rc
		}
		return run, done, nil
	}
}
