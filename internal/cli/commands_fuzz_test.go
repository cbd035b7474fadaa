package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
)

// FuzzCommands runs the multi-call commands with arbitrary arguments,
// input and a damaged state file: never a panic, and a failure says
// something on stderr.
func FuzzCommands(f *testing.F) {
	seeds := []struct{ prog, args, stdin, file, content string }{
		{"ipset", "create s hash:ip timeout 5", "", "", ""},
		{"ipset", "restore", "create a hash:net\nadd a 10.0.0.0/8\n", "", ""},
		{"ipset", "list", "", "ipsets", "create x hash:ip\nadd x 1.2.3.4\n"},
		{"nfacct", "add c byte 100", "", "", ""},
		{"nfacct", "list", "", "nfacct", "{ pkts = 1, bytes = 2 } = c;\n"},
		{"sysctl", "-w net.ipv4.ip_forward=1", "", "", ""},
		{"sysctl", "-p -", "net.ipv4.ip_forward = 1\n", "", ""},
		{"iptables-save", "-c", "", "rules-ipv4", "*filter\n:INPUT ACCEPT [1:2]\n[3:4] -A INPUT -j ACCEPT\nCOMMIT\n"},
		{"iptables", "-S", "", "rules-ipv4", "*filter\n#q \"-A INPUT\"\nCOMMIT\n"},
		{"ip6tables", "-L -n -v", "", "rules-ipv6", "*nat\n:x - [0:0]\n"},
		{"ip", "addr show", "", "net", "{}"},
		{"iptables-restore", "--noflush", "*mangle\n-A PREROUTING -j MARK --set-mark 1\nCOMMIT\n", "", ""},
		{"trace", "tcp 10.0.0.2:1 > 10.0.0.1:22 syn in lo", "", "runtime.json", `{"clock_ns": 5}`},
		{"trace", "--json udp [::1]:5 > [::1]:6 out", "", "sockets", "udp 6\n"},
		{"socket", "add tcp 10.0.0.1 22 uid 1", "", "sockets", "tcp 22\n"},
		{"conntrack", "-L -p tcp", "", "conntrack", "iptwin-conntrack 1\ntable x\n"},
	}
	for _, s := range seeds {
		f.Add(s.prog, s.args, s.stdin, s.file, s.content)
	}
	progs := map[string]bool{"ipset": true, "nfacct": true, "sysctl": true, "ip": true, "iptables": true,
		"ip6tables": true, "iptables-save": true, "ip6tables-save": true, "iptables-restore": true, "ip6tables-restore": true,
		"trace": true, "socket": true, "conntrack": true}
	f.Fuzz(func(t *testing.T, prog, args, stdin, file, content string) {
		if !progs[prog] {
			return
		}
		dir := t.TempDir()
		switch file {
		case "ipsets", "nfacct", "rules-ipv4", "rules-ipv6", "net", "runtime.json", "sockets", "conntrack":
			os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600)
		}
		var out, errb bytes.Buffer
		argv := append([]string{prog, "--state", dir}, strings.Fields(args)...)
		rc := cli.Main(argv, strings.NewReader(stdin), &out, &errb)
		if rc != 0 && errb.Len() == 0 && out.Len() == 0 {
			t.Fatalf("%s %s: exit %d without a word", prog, args, rc)
		}
	})
}
