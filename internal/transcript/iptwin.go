package transcript

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/iptwin/iptwin/internal/cli"
)

// Iptwin returns fresh hosts of iptwin: a new state directory under dir
// with the given hosts file, commands run in process.
//
// Commands run with the working directory set to cwd (the script's
// directory, as the recorder runs them) when it is not "".
func Iptwin(dir, hosts, cwd string) func() (Runner, func(), error) {
	n := 0
	return func() (Runner, func(), error) {
		n++
		st := filepath.Join(dir, "host"+itoa(n))
		if err := os.MkdirAll(st, 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(st, "hosts"), []byte(hosts), 0o644); err != nil {
			return nil, nil, err
		}
		run := func(c Command, stdin []byte) ([]byte, []byte, int) {
			var out, errb bytes.Buffer
			argv := append([]string{c.Argv[0], "--state", st}, c.Argv[1:]...)
			if cwd != "" {
				if old, err := os.Getwd(); err == nil && os.Chdir(cwd) == nil {
					defer os.Chdir(old)
				}
			}
			rc := cli.Main(argv, bytes.NewReader(stdin), &out, &errb)
			return out.Bytes(), errb.Bytes(), rc
		}
		return run, func() { os.RemoveAll(st) }, nil
	}
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
