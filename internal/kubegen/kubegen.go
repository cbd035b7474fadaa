// Package kubegen writes kube-proxy-shaped rulesets (iptables mode, as
// kube-proxy's proxier writes them with iptables-restore) of a chosen size,
// for the restore benchmarks.
package kubegen

import (
	"bufio"
	"fmt"
	"io"
)

// chainID is a deterministic 16-character name in kube-proxy's base32
// alphabet.
func chainID(kind string, n int) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [16]byte
	x := uint64(n)*0x9E3779B97F4A7C15 ^ uint64(len(kind))*0xBF58476D1CE4E5B9
	for i := range b {
		x ^= x >> 29
		x *= 0x94D049BB133111EB
		b[i] = alpha[x>>59]
	}
	return string(b[:])
}

// Endpoints is the number of endpoints of every service.
const Endpoints = 2

// RulesPerService is how many rules one service adds.
const RulesPerService = 1 + 1 + Endpoints + 2*Endpoints

// Generate writes a filter and nat table with about rules rules in all.
func Generate(w io.Writer, rules int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	services := rules / RulesPerService
	if services < 1 {
		services = 1
	}
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	p(":KUBE-FORWARD - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-FIREWALL - [0:0]\n")
	p("-A INPUT -j KUBE-FIREWALL\n")
	p("-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n")
	p("-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n")
	p("-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n")
	p("-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n")
	p("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n")
	p("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n")
	p("COMMIT\n")
	p("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	p(":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n")
	for s := 0; s < services; s++ {
		p(":KUBE-SVC-%s - [0:0]\n", chainID("svc", s))
		for e := 0; e < Endpoints; e++ {
			p(":KUBE-SEP-%s - [0:0]\n", chainID("sep", s*Endpoints+e))
		}
	}
	p("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n")
	p("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n")
	p("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n")
	p("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n")
	p("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n")
	p("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n")
	p("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n")
	for s := 0; s < services; s++ {
		ns, vip := fmt.Sprintf("ns%d/svc%d:http", s/50, s), fmt.Sprintf("172.%d.%d.%d", 16+s>>16, s>>8&255, s&255)
		svc := chainID("svc", s)
		p("-A KUBE-SERVICES -m comment --comment \"%s cluster IP\" -m tcp -p tcp -d %s --dport 80 -j KUBE-SVC-%s\n", ns, vip, svc)
		p("-A KUBE-SVC-%s -m comment --comment \"%s cluster IP\" -m tcp -p tcp -d %s --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n", svc, ns, vip)
		for e := 0; e < Endpoints; e++ {
			sep := chainID("sep", s*Endpoints+e)
			pod := fmt.Sprintf("10.%d.%d.%d", 1+(s*Endpoints+e)>>16, (s*Endpoints+e)>>8&255, (s*Endpoints+e)&255)
			if e < Endpoints-1 {
				p("-A KUBE-SVC-%s -m comment --comment \"%s -> %s:8080\" -m statistic --mode random --probability %.10f -j KUBE-SEP-%s\n",
					svc, ns, pod, 1/float64(Endpoints-e), sep)
			} else {
				p("-A KUBE-SVC-%s -m comment --comment \"%s -> %s:8080\" -j KUBE-SEP-%s\n", svc, ns, pod, sep)
			}
			p("-A KUBE-SEP-%s -m comment --comment %s -s %s -j KUBE-MARK-MASQ\n", sep, ns, pod)
			p("-A KUBE-SEP-%s -m comment --comment %s -m tcp -p tcp -j DNAT --to-destination %s:8080\n", sep, ns, pod)
		}
	}
	p("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n")
	p("COMMIT\n")
	return bw.Flush()
}
