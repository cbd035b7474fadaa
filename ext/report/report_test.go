package report_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/ext/report"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/xtables"
)

// parseTarget runs a command line through the real parser and returns the
// rule's target data.
func parseTarget(t *testing.T, f xtables.Family, state bool, args ...string) (xtables.TargetInfo, error) {
	t.Helper()
	cmd, err := iptables.Parse(append([]string{"-A", "INPUT"}, args...), iptables.ParseOptions{
		Family: f, Names: names.New(names.Files{}), State: state,
	})
	if err != nil {
		return nil, err
	}
	if len(cmd.Rules) != 1 || cmd.Rules[0].Target == nil || cmd.Rules[0].Target.Info == nil {
		t.Fatalf("%v: no target parsed", args)
	}
	return cmd.Rules[0].Target.Info, nil
}

func mustTarget(t *testing.T, f xtables.Family, args ...string) xtables.TargetInfo {
	t.Helper()
	info, err := parseTarget(t, f, false, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return info
}

func forms(info xtables.TargetInfo, numeric bool) (print, save string) {
	ctx := &xtables.Context{Family: xtables.IPv4, Numeric: numeric}
	return string(info.Print(nil, ctx)), string(info.Save(nil, ctx))
}

func errText(err error) string {
	var e *xtables.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestLOGPrefixAndLevel(t *testing.T) {
	info := mustTarget(t, xtables.IPv4, "-j", "LOG", "--log-prefix", strings.Repeat("p", 40), "--log-level", "error", "--log-uid")
	l := info.(*report.Log)
	if len(l.Prefix) != 29 || l.Level != 3 || l.LogFlags != report.LogUID {
		t.Fatalf("got %+v", l)
	}
	p, s := forms(info, false)
	if want := ` LOG level err uid prefix "` + strings.Repeat("p", 29) + `"`; p != want {
		t.Errorf("print %q, want %q", p, want)
	}
	if want := " --log-prefix " + strings.Repeat("p", 29) + " --log-level 3 --log-uid"; s != want {
		t.Errorf("save %q, want %q", s, want)
	}
	if p, _ := forms(info, true); p != ` LOG flags 8 level 3 prefix "`+strings.Repeat("p", 29)+`"` {
		t.Errorf("numeric print %q", p)
	}
	_, err := parseTarget(t, xtables.IPv4, false, "-j", "LOG", "--log-prefix", "a\nb")
	if errText(err) != "Newlines not allowed in --log-prefix" {
		t.Errorf("newline: %v", err)
	}
}

func TestNFLOGKeepsWhatNftKeeps(t *testing.T) {
	info := mustTarget(t, xtables.IPv4, "-j", "NFLOG", "--nflog-range", "5", "--nflog-group", "2")
	if n := info.(*report.NFLog); n.Len != 0 || n.Flags != 0 || n.Group != 2 {
		t.Errorf("--nflog-range kept: %+v", n)
	}
	info = mustTarget(t, xtables.IPv4, "-j", "NFLOG", "--nflog-size", "0", "--nflog-prefix", strings.Repeat("x", 200))
	n := info.(*report.NFLog)
	if len(n.Prefix) != 127 || n.Flags != 1 {
		t.Errorf("got %+v", n)
	}
	if _, s := forms(info, false); s != " --nflog-prefix "+strings.Repeat("x", 127)+" --nflog-size 0" {
		t.Errorf("save %q", s)
	}
	info = mustTarget(t, xtables.IPv4, "-j", "NFLOG", "--nflog-prefix", "a b", "--nflog-threshold", "0")
	if p, s := forms(info, false); p != ` nflog-prefix "a b"` || s != ` --nflog-prefix "a b"` {
		t.Errorf("print %q save %q", p, s)
	}
	_, err := parseTarget(t, xtables.IPv6, false, "-j", "NFLOG", "--nflog-prefix", "a\n")
	if errText(err) != "Newlines not allowed in --log-prefix" {
		t.Errorf("newline: %v", err)
	}
}

func TestREJECTTypes(t *testing.T) {
	for _, c := range []struct {
		f        xtables.Family
		arg, out string
	}{
		{xtables.IPv4, "", "icmp-net-unreachable"},
		{xtables.IPv4, "icmp-h", "icmp-host-unreachable"},
		{xtables.IPv4, "HOST-PROHIB", "icmp-host-prohibited"},
		{xtables.IPv4, "net-p", "icmp-net-prohibited"},
		{xtables.IPv4, "tcp", "tcp-reset"},
		{xtables.IPv4, "adm", "icmp-admin-prohibited"},
		{xtables.IPv6, "", "icmp6-no-route"},
		{xtables.IPv6, "adm", "icmp6-adm-prohibited"},
		{xtables.IPv6, "port", "icmp6-port-unreachable"},
		{xtables.IPv6, "reject", "icmp6-reject-route"},
	} {
		info := mustTarget(t, c.f, "-p", "tcp", "-j", "REJECT", "--reject-with", c.arg)
		if _, s := forms(info, false); s != " --reject-with "+c.out {
			t.Errorf("%v %q: %q, want %s", c.f, c.arg, s, c.out)
		}
	}
	if p, _ := forms(mustTarget(t, xtables.IPv4, "-j", "REJECT"), false); p != " reject-with icmp-port-unreachable" {
		t.Errorf("default: %q", p)
	}
	if p, _ := forms(mustTarget(t, xtables.IPv6, "-j", "REJECT"), false); p != " reject-with icmp6-port-unreachable" {
		t.Errorf("default v6: %q", p)
	}
	for _, c := range []struct {
		f   xtables.Family
		arg string
	}{{xtables.IPv4, "icmp6-no-route"}, {xtables.IPv4, "echo-reply"}, {xtables.IPv6, "tcp-rst"}, {xtables.IPv6, "icmp-port"}} {
		_, err := parseTarget(t, c.f, false, "-j", "REJECT", "--reject-with", c.arg)
		if want := `unknown reject type "` + c.arg + `"`; errText(err) != want {
			t.Errorf("%v %q: %v, want %s", c.f, c.arg, err, want)
		}
	}
}

func TestREJECTKernelCheck(t *testing.T) {
	tcp := &xtables.Header{Proto: 6}
	notTCP := &xtables.Header{Proto: 6, Inv: xtables.InvProto}
	udp := &xtables.Header{Proto: 17}
	for _, f := range []xtables.Family{xtables.IPv4, xtables.IPv6} {
		rst := mustTarget(t, f, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset").(xtables.Checker)
		icmp := mustTarget(t, f, "-j", "REJECT").(xtables.Checker)
		for _, c := range []struct {
			ck    xtables.Checker
			table string
			h     *xtables.Header
			ok    bool
		}{
			{rst, "filter", tcp, true},
			{rst, "filter", notTCP, false},
			{rst, "filter", udp, false},
			{rst, "filter", &xtables.Header{}, false},
			{rst, "mangle", tcp, false},
			{icmp, "filter", &xtables.Header{}, true},
			{icmp, "raw", &xtables.Header{}, false},
			{icmp, "nat", &xtables.Header{}, false},
		} {
			err := c.ck.Check(&xtables.Context{Family: f, Table: c.table, Header: c.h})
			if (err == nil) != c.ok {
				t.Errorf("%v %T in %s %+v: %v", f, c.ck, c.table, c.h, err)
			}
		}
	}
}

func TestNFQUEUE(t *testing.T) {
	q := mustTarget(t, xtables.IPv4, "-j", "NFQUEUE", "--queue-balance", "4:", "--queue-cpu-fanout")
	if p, s := forms(q, false); p != " NFQUEUE balance 4:65535 cpu-fanout" || s != " --queue-balance 4:65535 --queue-cpu-fanout" {
		t.Errorf("print %q save %q", p, s)
	}
	if err := q.(xtables.Checker).Check(&xtables.Context{}); err != nil {
		t.Errorf("4:65535 refused: %v", err)
	}
	// 0:65535 is 65536 queues, 0 in the u16 the kernel gets
	q = mustTarget(t, xtables.IPv4, "-j", "NFQUEUE", "--queue-balance", ":")
	if err := q.(xtables.Checker).Check(&xtables.Context{}); err != xtables.ErrInvalidArgument {
		t.Errorf("0:65535 not refused: %v", err)
	}
	q = mustTarget(t, xtables.IPv6, "-j", "NFQUEUE", "--queue-bypass")
	if p, s := forms(q, false); p != " NFQUEUE num 0 bypass" || s != " --queue-num 0 --queue-bypass" {
		t.Errorf("print %q save %q", p, s)
	}
	for args, want := range map[string]string{
		"--queue-balance 4":   `Bad range "4"`,
		"--queue-balance 4:4": "4 should be less than 4",
		"--queue-balance 5:1": "5 should be less than 1",
	} {
		_, err := parseTarget(t, xtables.IPv4, false, append([]string{"-j", "NFQUEUE"}, strings.Fields(args)...)...)
		if errText(err) != want {
			t.Errorf("%s: %v, want %s", args, err, want)
		}
	}
}

// LED has no transcript: the test kernel lacks xt_LED.
func TestLED(t *testing.T) {
	for _, c := range []struct {
		args        []string
		print, save string
	}{
		{[]string{"--led-trigger-id", "foo"}, ` led-trigger-id:"foo" led-delay:0ms`, ` --led-trigger-id "foo"`},
		{[]string{"--led-trigger-id", `a"b\c`, "--led-delay", "42", "--led-always-blink"},
			` led-trigger-id:"a\"b\\c" led-delay:42ms led-always-blink`, ` --led-trigger-id "a\"b\\c" --led-delay 42 --led-always-blink`},
		{[]string{"--led-trigger-id", "", "--led-delay", "INFinity"}, ` led-trigger-id:"" led-delay:inf`, ` --led-trigger-id "" --led-delay -1`},
		{[]string{"--led-trigger-id", "x", "--led-delay", "3000000000"}, ` led-trigger-id:"x" led-delay:-1294967296ms`, ` --led-trigger-id "x" --led-delay -1294967296`},
	} {
		info := mustTarget(t, xtables.IPv4, append([]string{"-j", "LED"}, c.args...)...)
		p, s := forms(info, false)
		if p != c.print || s != c.save {
			t.Errorf("%q: print %q save %q, want %q %q", c.args, p, s, c.print, c.save)
		}
		// The save form reads back from iptwin's state, not from the
		// real tool.
		words, _ := iptablesWords(s)
		back, err := parseTarget(t, xtables.IPv4, true, append([]string{"-j", "LED"}, words...)...)
		if err != nil {
			t.Errorf("%q: state read back: %v", s, err)
		} else if *back.(*report.LED) != *info.(*report.LED) {
			t.Errorf("%q: read back %+v, want %+v", s, back, info)
		}
	}
	for args, want := range map[string]string{
		"--led-trigger-id 12345678901234567":        "Argument must have a maximum length of 16 characters\n",
		"--led-trigger-id a --led-delay -1":         "Delay value must be within range 0..4294967295",
		"--led-trigger-id a --led-delay 4294967296": "Delay value must be within range 0..4294967295",
		"--led-delay 1": "LED: option \"--led-trigger-id\" must be specified\n",
	} {
		_, err := parseTarget(t, xtables.IPv4, false, append([]string{"-j", "LED"}, strings.Fields(args)...)...)
		if errText(err) != want {
			t.Errorf("%s: %q, want %q", args, errText(err), want)
		}
	}
}

// iptablesWords splits a save line the simple way iptables-restore does
// for these values: blanks separate, double quotes group, backslash
// escapes.
func iptablesWords(s string) ([]string, bool) {
	var out []string
	var w strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			in = true
		case ch == '"':
			quoted = !quoted
			in = true
		case ch == ' ' && !quoted:
			if in {
				out = append(out, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(ch)
			in = true
		}
	}
	if in {
		out = append(out, w.String())
	}
	return out, !quoted
}

func TestIDLETIMER(t *testing.T) {
	info := mustTarget(t, xtables.IPv4, "-j", "IDLETIMER", "--timeout", "7", "--label", strings.Repeat("l", 30), "--alarm")
	it := info.(*report.IdleTimer)
	if len(it.Label) != 27 || it.TimerType != 1 {
		t.Fatalf("got %+v", it)
	}
	if p, s := forms(info, false); p != " timeout:7 label:"+it.Label+" alarm" || s != " --timeout 7 --label "+it.Label+" --alarm" {
		t.Errorf("print %q save %q", p, s)
	}
	ctx := &xtables.Context{}
	for label, ok := range map[string]bool{"x": true, "a b": true, "power": false, "uevent": false, "a/b": false, "..": false, "": false} {
		err := (&report.IdleTimer{Timeout: 1, Label: label}).Check(ctx)
		if (err == nil) != ok {
			t.Errorf("label %q: %v", label, err)
		}
	}
	for timeout, ok := range map[uint32]bool{0: false, 1: true, 2147482: true, 2147483: false} {
		err := (&report.IdleTimer{Timeout: timeout, Label: "x"}).Check(ctx)
		if (err == nil) != ok {
			t.Errorf("timeout %d: %v", timeout, err)
		}
	}
	// A label with blanks is saved bare; iptwin's state reader joins it.
	back, err := parseTarget(t, xtables.IPv4, true, "-j", "IDLETIMER", "--timeout", "5", "--label", "two", "words", "--alarm")
	if err != nil || back.(*report.IdleTimer).Label != "two words" || back.(*report.IdleTimer).TimerType != 1 {
		t.Errorf("state read back: %+v %v", back, err)
	}
	if _, err := parseTarget(t, xtables.IPv4, false, "-j", "IDLETIMER", "--timeout", "5", "--label", "two", "words"); err == nil {
		t.Errorf("a user's extra word was taken into the label")
	}
}

func TestAUDITAndTRACE(t *testing.T) {
	a := mustTarget(t, xtables.IPv6, "-j", "AUDIT", "--type", "ReJeCt")
	if p, s := forms(a, false); p != " AUDIT reject" || s != " --type reject" {
		t.Errorf("print %q save %q", p, s)
	}
	tr := mustTarget(t, xtables.IPv4, "-j", "TRACE")
	if p, s := forms(tr, false); p != "" || s != "" {
		t.Errorf("TRACE print %q save %q", p, s)
	}
}
