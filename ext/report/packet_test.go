package report_test

import (
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/xtables"
)

func TestLOGAndREJECT(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 22})
	env := &kt.Env{}
	st := kt.State(xtables.IPv4, xtables.HookInput, pk, env)
	v := kt.Target(t, xtables.IPv4, "filter", "-j", "LOG", "--log-prefix", "IN: ", "--log-level", "info", "--log-tcp-options", "--log-uid").TargetPacket(st)
	want := xtables.LogRequest{Level: 6, Prefix: "IN: ", Flags: xtables.LogTCPOpt | xtables.LogUID}
	if v != xtables.VerdictCodeContinue || len(env.Logs) != 1 || env.Logs[0] != want {
		t.Errorf("LOG: verdict %v logs %+v", v, env.Logs)
	}
	for _, c := range []struct {
		f    xtables.Family
		args []string
		want xtables.RejectType
	}{
		{xtables.IPv4, []string{"-j", "REJECT"}, xtables.RejectPortUnreach},
		{xtables.IPv4, []string{"-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"}, xtables.RejectTCPReset},
		{xtables.IPv4, []string{"-j", "REJECT", "--reject-with", "icmp-admin-prohibited"}, xtables.RejectAdminProhibited},
		{xtables.IPv4, []string{"-j", "REJECT", "--reject-with", "icmp-net-unreachable"}, xtables.RejectNetUnreach},
		{xtables.IPv4, []string{"-j", "REJECT", "--reject-with", "icmp-host-prohibited"}, xtables.RejectHostProhibited},
		{xtables.IPv6, []string{"-j", "REJECT"}, xtables.RejectPortUnreach},
		{xtables.IPv6, []string{"-j", "REJECT", "--reject-with", "icmp6-adm-prohibited"}, xtables.RejectAdminProhibited},
		{xtables.IPv6, []string{"-j", "REJECT", "--reject-with", "icmp6-no-route"}, xtables.RejectNoRoute},
		{xtables.IPv6, []string{"-j", "REJECT", "--reject-with", "icmp6-addr-unreachable"}, xtables.RejectAddrUnreach},
		{xtables.IPv6, []string{"-j", "REJECT", "--reject-with", "icmp6-policy-fail"}, xtables.RejectPolicyFail},
		{xtables.IPv6, []string{"-j", "REJECT", "--reject-with", "icmp6-reject-route"}, xtables.RejectRejectRoute},
		{xtables.IPv6, []string{"-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"}, xtables.RejectTCPReset},
	} {
		env := &kt.Env{}
		v := kt.Target(t, c.f, "filter", c.args...).TargetPacket(kt.State(c.f, xtables.HookInput, pk, env))
		if v != xtables.VerdictCodeDrop || len(env.Rejects) != 1 || env.Rejects[0] != c.want {
			t.Errorf("%v: verdict %v rejects %v, want %v", c.args, v, env.Rejects, c.want)
		}
	}
}

func TestQueueTraceAndOthers(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17, Sport: 1, Dport: 2})
	for _, c := range []struct {
		table string
		args  []string
		want  xtables.VerdictCode
		trace bool
	}{
		{"filter", []string{"-j", "NFQUEUE", "--queue-num", "3"}, xtables.VerdictCodeDrop, false},
		{"filter", []string{"-j", "NFQUEUE", "--queue-balance", "0:3", "--queue-bypass"}, xtables.VerdictCodeAccept, false},
		{"raw", []string{"-j", "TRACE"}, xtables.VerdictCodeContinue, true},
		{"filter", []string{"-j", "NFLOG", "--nflog-group", "5"}, xtables.VerdictCodeContinue, false},
		{"filter", []string{"-j", "AUDIT", "--type", "drop"}, xtables.VerdictCodeContinue, false},
		{"filter", []string{"-j", "IDLETIMER", "--timeout", "10", "--label", "x"}, xtables.VerdictCodeContinue, false},
	} {
		st := kt.State(xtables.IPv4, xtables.HookInput, pk, &kt.Env{})
		if v := kt.Target(t, xtables.IPv4, c.table, c.args...).TargetPacket(st); v != c.want || st.Trace != c.trace {
			t.Errorf("%v: verdict %v trace %v, want %v %v", c.args, v, st.Trace, c.want, c.trace)
		}
	}
}

func TestReportAllocs(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 22})
	env := &kt.Env{Logs: make([]xtables.LogRequest, 0, 1000), Rejects: make([]xtables.RejectType, 0, 1000)}
	for _, args := range [][]string{
		{"-j", "LOG", "--log-prefix", "x"},
		{"-j", "REJECT"},
		{"-j", "NFQUEUE"},
		{"-j", "NFLOG"},
	} {
		tp := kt.Target(t, xtables.IPv4, "filter", args...)
		st := kt.State(xtables.IPv4, xtables.HookInput, pk, env)
		if n := testing.AllocsPerRun(100, func() { tp.TargetPacket(st) }); n != 0 {
			t.Errorf("%v: %v allocations", args, n)
		}
	}
}
