package corpus

import (
	"fmt"
	"math/rand"
	"strings"
)

// RandomCommands returns n iptables/ip6tables command lines drawn from the
// seed: rules built from many extensions with random values (some of them
// invalid, so error paths are exercised too), chain commands and
// listings. The same seed gives the same lines.
func RandomCommands(seed int64, n int) []string {
	r := rand.New(rand.NewSource(seed))
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	port := func() string {
		switch r.Intn(6) {
		case 0:
			return fmt.Sprintf("%d:%d", r.Intn(2000), r.Intn(70000))
		case 1:
			return pick("ssh", "http", "domain", "auth", "https", "bogus")
		case 2:
			return fmt.Sprintf(":%d", r.Intn(1024))
		}
		return fmt.Sprint(r.Intn(66000))
	}
	addr4 := func() string {
		a := fmt.Sprintf("%d.%d.%d.%d", r.Intn(256), r.Intn(256), r.Intn(256), r.Intn(256))
		switch r.Intn(4) {
		case 0:
			return a + fmt.Sprintf("/%d", r.Intn(34))
		case 1:
			return a + "/255.255." + pick("0.0", "255.0", "0.255")
		}
		return a
	}
	addr6 := func() string {
		a := fmt.Sprintf("2001:db8:%x::%x", r.Intn(65536), r.Intn(65536))
		if r.Intn(2) == 0 {
			a += fmt.Sprintf("/%d", r.Intn(130))
		}
		return a
	}
	neg := func() string {
		if r.Intn(4) == 0 {
			return "! "
		}
		return ""
	}
	chains := []string{"INPUT", "FORWARD", "OUTPUT"}
	user := []string{"web", "ssh-in", "LOGDROP", "x"}
	var out []string
	for len(out) < n {
		v6 := r.Intn(4) == 0
		tool, addr, icmp := "iptables", addr4, "-p icmp -m icmp --icmp-type "+pick("echo-request", "3/4", "8", "any", "timestamp-reply", "bogus")
		if v6 {
			tool, addr, icmp = "ip6tables", addr6, "-p ipv6-icmp -m icmp6 --icmpv6-type "+pick("echo-request", "1/4", "128", "neighbour-solicitation", "bogus")
		}
		switch k := r.Intn(20); {
		case k == 0:
			out = append(out, tool+" -N "+pick(user...))
			continue
		case k == 1:
			out = append(out, tool+" -X "+pick(user...))
			continue
		case k == 2:
			out = append(out, tool+" -P "+pick(chains...)+" "+pick("ACCEPT", "DROP", "RETURN"))
			continue
		case k == 3:
			out = append(out, tool+" -F "+pick(append(user, chains...)...))
			continue
		case k == 4:
			out = append(out, tool+" -D "+pick(chains...)+fmt.Sprintf(" %d", 1+r.Intn(4)))
			continue
		case k == 5:
			out = append(out, tool+" -S", tool+" -L -n -v --line-numbers")
			continue
		}
		var parts []string
		parts = append(parts, pick("-A", "-A", "-A", "-I"), pick(append(chains, user[0])...))
		if r.Intn(3) == 0 {
			parts = append(parts, neg()+"-s "+addr())
		}
		if r.Intn(3) == 0 {
			parts = append(parts, neg()+"-d "+addr())
		}
		if r.Intn(4) == 0 {
			parts = append(parts, neg()+"-i "+pick("eth0", "eth+", "lo", "wlan0"))
		}
		switch r.Intn(12) {
		case 0, 1, 2:
			p := pick("tcp", "udp")
			parts = append(parts, "-p "+p)
			if r.Intn(3) > 0 {
				parts = append(parts, neg()+pick("--dport", "--sport")+" "+port())
			}
			if p == "tcp" && r.Intn(3) == 0 {
				parts = append(parts, neg()+pick("--syn", "--tcp-flags SYN,RST,ACK SYN", "--tcp-flags ALL NONE", "--tcp-option 2"))
			}
		case 3:
			parts = append(parts, "-p "+pick("tcp", "udp", "sctp")+" -m multiport "+neg()+pick("--dports", "--sports", "--ports")+" "+port()+","+port())
		case 4:
			parts = append(parts, icmp)
		case 5:
			parts = append(parts, "-m conntrack "+neg()+"--ctstate "+pick("NEW", "ESTABLISHED,RELATED", "INVALID", "DNAT,SNAT", "UNTRACKED", "BOGUS"))
		case 6:
			parts = append(parts, "-m state --state "+pick("NEW", "RELATED,ESTABLISHED", "INVALID"))
		case 7:
			parts = append(parts, "-m limit --limit "+fmt.Sprintf("%d/%s", 1+r.Intn(100), pick("s", "min", "hour", "day", "sec"))+fmt.Sprintf(" --limit-burst %d", r.Intn(20)))
		case 8:
			parts = append(parts, "-m comment --comment "+pick("web", "\"two words\"", "'single quoted'", "x\\\"y"))
		case 9:
			parts = append(parts, "-m mark "+neg()+"--mark "+fmt.Sprintf("0x%x/0x%x", r.Intn(1<<16), r.Intn(1<<16)))
		case 10:
			parts = append(parts, "-m iprange "+neg()+"--src-range "+addr()+"-"+addr())
		case 11:
			parts = append(parts, "-m length --length "+fmt.Sprintf("%d:%d", r.Intn(2000), r.Intn(70000)))
		}
		switch r.Intn(8) {
		case 0:
			parts = append(parts, "-j LOG --log-prefix "+pick("\"[drop] \"", "fw:", "x")+" --log-level "+pick("4", "info", "debug", "9"))
		case 1:
			parts = append(parts, "-j REJECT --reject-with "+pick("tcp-reset", "icmp-port-unreachable", "icmp6-adm-prohibited", "icmp-host-prohibited", "admin-prohib"))
		case 2:
			parts = append(parts, "-j "+pick(user...))
		case 3:
			parts = append(parts, "-g "+pick(user...))
		default:
			parts = append(parts, "-j "+pick("ACCEPT", "DROP", "RETURN"))
		}
		line := tool + " " + strings.Join(parts, " ")
		if parts[0] == "-I" && r.Intn(2) == 0 {
			line = strings.Replace(line, "-I "+parts[1], fmt.Sprintf("-I %s %d", parts[1], 1+r.Intn(3)), 1)
		}
		out = append(out, line)
	}
	return append(out, "iptables-save -c", "ip6tables-save -c", "iptables -L -v", "ip6tables -L -v -n -x")
}
