package l4_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/xtables"
)

// noNames knows no services or protocols beyond the built-in ones.
var noNames = names.New(names.Files{})

func parseRule(t *testing.T, f xtables.Family, spec string, state bool) *xtables.Rule {
	t.Helper()
	cmd, err := iptables.Parse(append([]string{"-A", "INPUT"}, strings.Fields(spec)...), iptables.ParseOptions{Family: f, Names: noNames, State: state})
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	if len(cmd.Rules) != 1 {
		t.Fatalf("%s: %d rules", spec, len(cmd.Rules))
	}
	return cmd.Rules[0]
}

// TestStateRoundTrip checks that what the state file gets (Save with
// Context.State) parses back to the same match data, where the save form
// proper drops some of it.
func TestStateRoundTrip(t *testing.T) {
	cases := []struct {
		f    xtables.Family
		spec string
	}{
		{xtables.IPv4, "-p icmp --icmp-type 3/4:6"},
		{xtables.IPv4, "-p icmp ! --icmp-type 255/255"},
		{xtables.IPv4, "-p icmp --icmp-type any"},
		{xtables.IPv4, "-p icmp --icmp-type echo-request"},
		{xtables.IPv4, "-p esp -m esp ! --espspi :"},
		{xtables.IPv4, "-p esp -m esp --espspi 4:3"},
		{xtables.IPv4, "-p ah -m ah ! --ahspi 0:4294967295"},
		{xtables.IPv4, "-p 108 -m ipcomp ! --ipcompspi : --compres"},
		{xtables.IPv4, "-p 108 -m ipcomp --ipcompspi :"},
		{xtables.IPv4, "-p 108 -m ipcomp"},
		{xtables.IPv4, "-p sctp -m sctp --dport 0:65535 ! --chunk-types only DATA:IuBe,ABORT:T"},
		{xtables.IPv4, "-p 33 -m dccp --sport 0:65535 --dccp-types INVALID,ACK ! --dccp-option 3"},
		{xtables.IPv4, "-p tcp -m multiport ! --ports 1,2:3,80"},
		{xtables.IPv4, "-p tcp -m tcpmss ! --mss 5:6"},
		{xtables.IPv6, "-p ipv6-icmp --icmpv6-type 1/3:5"},
		{xtables.IPv6, "-p ipv6-icmp ! --icmpv6-type packet-too-big"},
		{xtables.IPv6, "-m ah ! --ahspi : ! --ahlen 0 --ahres"},
		{xtables.IPv6, "-p mh -m mh ! --mh-type :"},
		{xtables.IPv6, "-p mh -m mh --mh-type bu:7"},
	}
	for _, c := range cases {
		r := parseRule(t, c.f, c.spec, false)
		ctx := &xtables.Context{Family: c.f, Names: noNames, State: true}
		saved := string(iptables.AppendRuleSpec(nil, r, ctx, false))
		back := parseRule(t, c.f, saved, true)
		if len(back.Matches) != len(r.Matches) {
			t.Errorf("%s: state form %q has %d matches, want %d", c.spec, saved, len(back.Matches), len(r.Matches))
			continue
		}
		for i := range r.Matches {
			if !reflect.DeepEqual(r.Matches[i].Info, back.Matches[i].Info) {
				t.Errorf("%s: state form %q reads back as %+v, want %+v", c.spec, saved, back.Matches[i].Info, r.Matches[i].Info)
			}
		}
	}
}

// TestSaveDropsInKernelOnlyData pins the real tool's lossy save forms that
// the state file must not use.
func TestSaveDropsInKernelOnlyData(t *testing.T) {
	cases := []struct {
		f          xtables.Family
		spec, want string
	}{
		{xtables.IPv4, "-p icmp --icmp-type 3/4:6", " -p icmp -m icmp --icmp-type 3/4"},
		{xtables.IPv4, "-p icmp --icmp-type 255/255", " -p icmp -m icmp --icmp-type any"},
		{xtables.IPv4, "-p esp -m esp ! --espspi :", " -p esp -m esp"},
		{xtables.IPv4, "-p 108 -m ipcomp", " -p 108 -m ipcomp --ipcompspi 0"},
		{xtables.IPv6, "-p mh -m mh ! --mh-type :", " -p mobility-header -m mh"},
	}
	for _, c := range cases {
		r := parseRule(t, c.f, c.spec, false)
		got := string(iptables.AppendRuleSpec(nil, r, &xtables.Context{Family: c.f, Names: noNames}, false))
		if got != c.want {
			t.Errorf("%s: saved as %q, want %q", c.spec, got, c.want)
		}
	}
}
