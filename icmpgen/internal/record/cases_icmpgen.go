//go:build linux

package main

import (
	"github.com/iptwin/iptwin/packet"
)

// icmpgenCases are the REJECT and stack cases (icmpgen/testdata/kernel).
func icmpgenCases() []tcase {
	var cs []tcase
	add := func(c tcase) { c.pkg = "icmpgen"; cs = append(cs, c) }
	p32 := pattern(32)

	// IPv4 REJECT in INPUT, every ICMP type.
	for _, t := range []string{"icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable",
		"icmp-port-unreachable", "icmp-net-prohibited", "icmp-host-prohibited", "icmp-admin-prohibited"} {
		add(tcase{name: "r4-in-" + t, doc: "REJECT --reject-with " + t + " of a UDP datagram in INPUT",
			setup: []string{"iptables -A INPUT -s 10.0.1.2 -p udp --dport 9 -j REJECT --reject-with " + t},
			model: "reject type=" + t + " local", send: c0(udp(c4, h4, 40000, 9, p32)), capture: "c0"})
	}
	udpRule := "iptables -A INPUT -s 10.0.1.2 -p udp --dport 9 -j REJECT"
	add(tcase{name: "r4-in-default", doc: "REJECT without --reject-with: port unreachable",
		setup: []string{udpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(udp(c4, h4, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r4-in-tos", doc: "the error's TOS: the packet's TOS bits (not DSCP class, not ECN) with precedence internet control",
		setup: []string{udpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(udp(c4, h4, 40000, 9, p32, tos(0xb9))), capture: "c0"})
	add(tcase{name: "r4-in-large", doc: "the quote stops at 576 bytes of error",
		setup: []string{udpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(udp(c4, h4, 40000, 9, pattern(1000))), capture: "c0"})
	add(tcase{name: "r4-in-badsum", doc: "no error for a bad UDP checksum",
		setup: []string{udpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(badsum(udp(c4, h4, 40000, 9, p32), 6)), capture: "c0"})
	add(tcase{name: "r4-in-nocsum", doc: "a UDP datagram without checksum is answered whatever its payload",
		setup: []string{udpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(zerosum(udp(c4, h4, 40000, 9, p32))), capture: "c0"})
	icmpRule := "iptables -A INPUT -s 10.0.1.2 -p icmp -j REJECT"
	inner := udp(h4, c4, 9, 40000, pattern(8))
	add(tcase{name: "r4-in-icmp-error", doc: "no error about an ICMP error",
		setup: []string{icmpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(icmp(c4, h4, 3, 3, 0, inner)), capture: "c0"})
	add(tcase{name: "r4-in-echo", doc: "an echo request is answered with the error",
		setup: []string{icmpRule}, model: "reject type=icmp-host-prohibited local",
		send: c0(icmp(c4, h4, 8, 0, 0x12340001, pattern(40))), capture: "c0"})
	cs[len(cs)-1].setup = []string{icmpRule + " --reject-with icmp-host-prohibited"}
	add(tcase{name: "r4-in-echo-badsum", doc: "REJECT verifies ICMP checksums too",
		setup: []string{icmpRule}, model: "reject type=icmp-port-unreachable local",
		send: c0(badsum(icmp(c4, h4, 8, 0, 0x12340001, pattern(40)), 2)), capture: "c0"})
	add(tcase{name: "r4-in-proto253-zero", doc: "an unknown protocol verifies when its payload sums to zero",
		setup: []string{"iptables -A INPUT -s 10.0.1.2 -p 253 -j REJECT --reject-with icmp-proto-unreachable"},
		model: "reject type=icmp-proto-unreachable local", send: c0(raw(253, c4, h4, make([]byte, 24))), capture: "c0"})
	add(tcase{name: "r4-in-proto253-data", doc: "and is not answered otherwise (nf_ip_checksum over the payload)",
		setup: []string{"iptables -A INPUT -s 10.0.1.2 -p 253 -j REJECT --reject-with icmp-proto-unreachable"},
		model: "reject type=icmp-proto-unreachable local", send: c0(raw(253, c4, h4, p32)), capture: "c0"})
	add(tcase{name: "r4-in-gre", doc: "GRE's checksum is not verified",
		setup: []string{"iptables -A INPUT -s 10.0.1.2 -p gre -j REJECT --reject-with icmp-proto-unreachable"},
		model: "reject type=icmp-proto-unreachable local", send: c0(raw(47, c4, h4, p32)), capture: "c0"})
	add(tcase{name: "r4-in-broadcast", doc: "no error for a packet to a broadcast address",
		setup: []string{"iptables -A INPUT -s 10.0.1.2 -p udp -j REJECT"},
		model: "reject type=icmp-port-unreachable rt=broadcast", send: c0(udp(c4, bc4, 40000, 9, p32)), capture: "c0"})

	add(tcase{name: "r4-in-rst-broadcast", doc: "no RST for a segment to a broadcast address",
		setup: []string{"iptables -A INPUT -s 10.0.1.2 -p tcp -j REJECT --reject-with tcp-reset"},
		model: "reject type=tcp-reset rt=broadcast", send: c0(tcp(c4, bc4, 40000, 9, packet.TCPSyn, 1, 0, nil)), capture: "c0"})

	// IPv4 tcp-reset.
	rstRule := "iptables -A INPUT -s 10.0.1.2 -p tcp --dport 9 -j REJECT --reject-with tcp-reset"
	add(tcase{name: "r4-in-rst-syn", doc: "tcp-reset answers a SYN with RST/ACK for seq+1",
		setup: []string{rstRule}, model: "reject type=tcp-reset",
		send: c0(tcp(c4, h4, 40000, 9, packet.TCPSyn, 1000, 0, nil)), capture: "c0"})
	add(tcase{name: "r4-in-rst-ack", doc: "a segment with ACK gets a RST with its acknowledgment as sequence",
		setup: []string{rstRule}, model: "reject type=tcp-reset",
		send: c0(tcp(c4, h4, 40000, 9, packet.TCPAck|packet.TCPPsh, 5000, 7000, pattern(10))), capture: "c0"})
	add(tcase{name: "r4-in-rst-fin", doc: "FIN and payload count in the acknowledgment",
		setup: []string{rstRule}, model: "reject type=tcp-reset",
		send: c0(tcp(c4, h4, 40000, 9, packet.TCPFin|packet.TCPPsh, 300, 0, pattern(5))), capture: "c0"})
	add(tcase{name: "r4-in-rst-rst", doc: "no RST for a RST",
		setup: []string{rstRule}, model: "reject type=tcp-reset",
		send: c0(tcp(c4, h4, 40000, 9, packet.TCPRst, 300, 0, nil)), capture: "c0"})
	add(tcase{name: "r4-in-rst-badsum", doc: "no RST for a bad checksum",
		setup: []string{rstRule}, model: "reject type=tcp-reset",
		send: c0(badsum(tcp(c4, h4, 40000, 9, packet.TCPSyn, 1000, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r4-in-rst-tos", doc: "REJECT's RST has TOS 0 whatever the segment's",
		setup: []string{rstRule}, model: "reject type=tcp-reset",
		send: c0(tcp(c4, h4, 40000, 9, packet.TCPSyn, 1000, 0, nil, tos(0x2e))), capture: "c0"})

	// IPv4 FORWARD and OUTPUT.
	add(tcase{name: "r4-fwd-port-unreach", doc: "REJECT in FORWARD: the error comes from the route back's source and quotes the decremented TTL",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -p udp -j REJECT"}, model: "reject fwd type=icmp-port-unreachable src=10.0.1.1",
		send: c0(udp(c4, s4, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r4-fwd-net-prohibited", doc: "REJECT in FORWARD, net prohibited",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -j REJECT --reject-with icmp-net-prohibited"}, model: "reject fwd type=icmp-net-prohibited src=10.0.1.1",
		send: c0(tcp(c4, s4, 40000, 80, packet.TCPSyn, 1, 0, nil)), capture: "c0"})
	add(tcase{name: "r4-fwd-rst", doc: "tcp-reset in FORWARD: the RST comes from the packet's destination",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject fwd type=tcp-reset",
		send: c0(tcp(c4, s4, 40000, 80, packet.TCPSyn, 77, 0, nil)), capture: "c0"})
	big := udp(c4, s4, 40000, 9, pattern(200), ipid(0x2222))
	add(tcase{name: "r4-fwd-nonfirst-frag", doc: "no error for a non-first fragment",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -j REJECT"}, model: "reject fwd type=icmp-port-unreachable src=10.0.1.1",
		send: c0(frag4(big, span{104, 208})[0]), capture: "c0"})
	add(tcase{name: "r4-fwd-first-frag-udp", doc: "a first fragment fails the checksum (it covers the whole datagram)",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -j REJECT"}, model: "reject fwd type=icmp-port-unreachable src=10.0.1.1",
		send: c0(frag4(big, span{0, 104})[0]), capture: "c0"})
	esp := raw(packet.ProtoESP, c4, s4, pattern(200), ipid(0x3333))
	add(tcase{name: "r4-fwd-first-frag-esp", doc: "a first fragment of an unverified protocol is answered",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -j REJECT --reject-with icmp-host-unreachable"}, model: "reject fwd type=icmp-host-unreachable src=10.0.1.1",
		send: c0(frag4(esp, span{0, 104})[0]), capture: "c0"})
	add(tcase{name: "r4-fwd-route-src", doc: "the source is the preferred source of the route back",
		setup: []string{"ip route add 10.0.1.2/32 dev h0 src 10.0.2.1", "iptables -A FORWARD -s 10.0.1.2 -p udp -j REJECT"},
		model: "reject fwd type=icmp-port-unreachable src=10.0.2.1", send: c0(udp(c4, s4, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r4-fwd-inbound-ifaddr", doc: "icmp_errors_use_inbound_ifaddr=1 prefers the input device's address",
		setup: []string{"ip route add 10.0.1.2/32 dev h0 src 10.0.2.1", "sysctl -qw net.ipv4.icmp_errors_use_inbound_ifaddr=1", "iptables -A FORWARD -s 10.0.1.2 -p udp -j REJECT"},
		model: "reject fwd type=icmp-port-unreachable src=10.0.1.1", send: c0(udp(c4, s4, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r4-out-port-unreach", doc: "REJECT in OUTPUT: the error goes to the host itself over lo",
		setup: []string{"iptables -A OUTPUT -d 10.0.1.2 -p udp -j REJECT"}, model: "reject type=icmp-port-unreachable src=10.0.1.1",
		send: hraw(udp(h4, c4, 40001, 9, p32)), capture: "lo"})
	add(tcase{name: "r4-out-rst", doc: "tcp-reset in OUTPUT: a RST from the peer's address to the host over lo",
		setup: []string{"iptables -A OUTPUT -d 10.0.1.2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject type=tcp-reset",
		send: hraw(tcp(h4, c4, 40001, 80, packet.TCPSyn, 4242, 0, nil)), capture: "lo"})

	// IPv6 REJECT in INPUT.
	for _, t := range []string{"icmp6-no-route", "icmp6-adm-prohibited", "icmp6-addr-unreachable",
		"icmp6-port-unreachable", "icmp6-policy-fail", "icmp6-reject-route"} {
		add(tcase{name: "r6-in-" + t, doc: "REJECT --reject-with " + t + " of a UDP datagram in INPUT",
			setup: []string{"ip6tables -A INPUT -s fd00:1::2 -p udp --dport 9 -j REJECT --reject-with " + t},
			model: "reject type=" + t + " local", send: c0(udp(c6, h6, 40000, 9, p32)), capture: "c0"})
	}
	udp6Rule := "ip6tables -A INPUT -s fd00:1::2 -p udp --dport 9 -j REJECT"
	add(tcase{name: "r6-in-default", doc: "REJECT without --reject-with: port unreachable",
		setup: []string{udp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(udp(c6, h6, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r6-in-tclass", doc: "the error's traffic class is 0",
		setup: []string{udp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(udp(c6, h6, 40000, 9, p32, tos(0xb9))), capture: "c0"})
	add(tcase{name: "r6-in-large", doc: "the quote stops at 1280 bytes of error",
		setup: []string{udp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(udp(c6, h6, 40000, 9, pattern(1300))), capture: "c0"})
	add(tcase{name: "r6-in-badsum", doc: "no error for a bad checksum",
		setup: []string{udp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(badsum(udp(c6, h6, 40000, 9, p32), 6)), capture: "c0"})
	add(tcase{name: "r6-in-nocsum", doc: "nor is a UDP checksum of 0 verified over IPv6",
		setup: []string{udp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(zerosum(udp(c6, h6, 40000, 9, p32))), capture: "c0"})
	add(tcase{name: "r6-in-exthdr", doc: "extension headers are skipped to the transport header and quoted",
		setup: []string{udp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(udp(c6, h6, 40000, 9, p32, ext(packet.ProtoHopByHop, packet.ProtoDstOpts))), capture: "c0"})
	icmp6Rule := "ip6tables -A INPUT -s fd00:1::2 -p icmpv6 -j REJECT"
	add(tcase{name: "r6-in-icmp6-error", doc: "no error about an ICMPv6 error",
		setup: []string{icmp6Rule}, model: "reject type=icmp6-port-unreachable local",
		send: c0(icmp(c6, h6, 1, 4, 0, udp(h6, c6, 9, 40000, pattern(8)))), capture: "c0"})
	add(tcase{name: "r6-in-echo", doc: "an echo request is answered with the error",
		setup: []string{icmp6Rule + " --reject-with icmp6-adm-prohibited"}, model: "reject type=icmp6-adm-prohibited local",
		send: c0(icmp(c6, h6, 128, 0, 0x56780002, pattern(40))), capture: "c0"})
	add(tcase{name: "r6-in-proto253", doc: "an unknown protocol is verified with its own pseudo-header: a random payload fails",
		setup: []string{"ip6tables -A INPUT -s fd00:1::2 -p 253 -j REJECT"}, model: "reject type=icmp6-port-unreachable local",
		send: c0(raw(253, c6, h6, p32)), capture: "c0"})
	all6 := "ip6tables -A INPUT -s fd00:1::2 -j REJECT"
	big6 := udp(c6, h6, 40000, 9, pattern(200))
	add(tcase{name: "r6-in-nonfirst-frag", doc: "without conntrack INPUT sees fragments; a non-first one is not answered",
		setup: []string{all6}, model: "reject type=icmp6-port-unreachable local",
		send: c0(frag6(big6, 0xabcd, span{104, 208})[0]), capture: "c0"})
	add(tcase{name: "r6-in-first-frag", doc: "a first fragment fails the checksum",
		setup: []string{all6}, model: "reject type=icmp6-port-unreachable local",
		send: c0(frag6(big6, 0xabce, span{0, 104})[0]), capture: "c0"})
	add(tcase{name: "r6-in-first-frag-nocsum", doc: "a first fragment of a datagram without checksum is answered, fragment header quoted",
		setup: []string{all6}, model: "reject type=icmp6-port-unreachable local",
		send: c0(frag6(zerosum(udp(c6, h6, 40000, 9, pattern(200))), 0xabcf, span{0, 104})[0]), capture: "c0"})
	add(tcase{name: "r6-in-multicast", doc: "no error for a packet to a multicast address",
		setup: []string{"ip6tables -A INPUT -s fd00:1::2 -p udp -j REJECT"}, model: "reject type=icmp6-port-unreachable",
		send: c0(udp(c6, "ff02::1", 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r6-in-unspec-src", doc: "no error to the unspecified address",
		setup: []string{"ip6tables -A INPUT -p udp --dport 9 -j REJECT"}, model: "reject type=icmp6-port-unreachable local",
		send: c0(udp("::", h6, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r6-in-rst-unspec-src", doc: "nor a RST",
		setup: []string{"ip6tables -A INPUT -p tcp --dport 9 -j REJECT --reject-with tcp-reset"}, model: "reject type=tcp-reset",
		send: c0(tcp("::", h6, 40000, 9, packet.TCPSyn, 1, 0, nil)), capture: "c0"})
	rst6Rule := "ip6tables -A INPUT -s fd00:1::2 -p tcp --dport 9 -j REJECT --reject-with tcp-reset"
	add(tcase{name: "r6-in-rst-syn", doc: "tcp-reset answers a SYN with RST/ACK",
		setup: []string{rst6Rule}, model: "reject type=tcp-reset",
		send: c0(tcp(c6, h6, 40000, 9, packet.TCPSyn, 1000, 0, nil)), capture: "c0"})
	add(tcase{name: "r6-in-rst-ack", doc: "a segment with ACK gets a RST with its acknowledgment as sequence",
		setup: []string{rst6Rule}, model: "reject type=tcp-reset",
		send: c0(tcp(c6, h6, 40000, 9, packet.TCPAck|packet.TCPPsh, 5000, 7000, pattern(10))), capture: "c0"})
	add(tcase{name: "r6-in-rst-rst", doc: "no RST for a RST",
		setup: []string{rst6Rule}, model: "reject type=tcp-reset",
		send: c0(tcp(c6, h6, 40000, 9, packet.TCPRst|packet.TCPAck, 300, 9, nil)), capture: "c0"})
	add(tcase{name: "r6-in-rst-badsum", doc: "no RST for a bad checksum",
		setup: []string{rst6Rule}, model: "reject type=tcp-reset",
		send: c0(badsum(tcp(c6, h6, 40000, 9, packet.TCPSyn, 1000, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r6-in-rst-tclass", doc: "REJECT's RST has traffic class 0 and flow label 0",
		setup: []string{rst6Rule}, model: "reject type=tcp-reset",
		send: c0(tcp(c6, h6, 40000, 9, packet.TCPSyn, 1000, 0, nil, tos(0x2e))), capture: "c0"})
	add(tcase{name: "r6-fwd-port-unreach", doc: "REJECT in FORWARD: the source is selected for the input device",
		setup: []string{"ip6tables -A FORWARD -s fd00:1::2 -p udp -j REJECT"}, model: "reject fwd type=icmp6-port-unreachable src=fd00:1::1",
		send: c0(udp(c6, s6, 40000, 9, p32)), capture: "c0"})
	add(tcase{name: "r6-fwd-rst", doc: "tcp-reset in FORWARD",
		setup: []string{"ip6tables -A FORWARD -s fd00:1::2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject fwd type=tcp-reset",
		send: c0(tcp(c6, s6, 40000, 80, packet.TCPSyn, 77, 0, nil)), capture: "c0"})
	add(tcase{name: "r6-out-port-unreach", doc: "REJECT in OUTPUT: the error goes to the host itself",
		setup: []string{"ip6tables -A OUTPUT -d fd00:1::2 -p udp -j REJECT"}, model: "reject type=icmp6-port-unreachable src=fd00:1::1",
		send: hraw(udp(h6, c6, 40001, 9, p32)), capture: "lo"})
	add(tcase{name: "r6-out-rst", doc: "tcp-reset in OUTPUT",
		setup: []string{"ip6tables -A OUTPUT -d fd00:1::2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject type=tcp-reset",
		send: hraw(tcp(h6, c6, 40001, 80, packet.TCPSyn, 4242, 0, nil)), capture: "lo"})

	// The IPv4 stack.
	add(tcase{name: "s4-tcp-syn", doc: "closed TCP port: tcp_v4_send_reset",
		model: "stack-reset", send: c0(tcp(c4, h4, 40000, 81, packet.TCPSyn, 1000, 0, nil)), capture: "c0"})
	add(tcase{name: "s4-tcp-ack-tos", doc: "the stack's RST copies the TOS without ECN",
		model: "stack-reset", send: c0(tcp(c4, h4, 40000, 81, packet.TCPAck, 5000, 7000, pattern(10), tos(0x2b))), capture: "c0"})
	add(tcase{name: "s4-tcp-fin", doc: "FIN|ACK to a closed port",
		model: "stack-reset", send: c0(tcp(c4, h4, 40000, 81, packet.TCPFin|packet.TCPAck, 5000, 7000, nil)), capture: "c0"})
	add(tcase{name: "s4-tcp-badsum", doc: "no RST for a bad checksum",
		model: "stack-reset", send: c0(badsum(tcp(c4, h4, 40000, 81, packet.TCPSyn, 1000, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "s4-udp", doc: "closed UDP port: ICMP port unreachable",
		model: "port-unreach", send: c0(udp(c4, h4, 40000, 81, p32, tos(0x10))), capture: "c0"})
	add(tcase{name: "s4-udp-trailing", doc: "bytes beyond the UDP length are not quoted",
		model: "port-unreach", send: c0(shortUDP(udp(c4, h4, 40000, 81, p32), 12)), capture: "c0"})
	add(tcase{name: "s4-udp-nocsum", doc: "a datagram without checksum is answered",
		model: "port-unreach", send: c0(zerosum(udp(c4, h4, 40000, 81, p32))), capture: "c0"})
	add(tcase{name: "s4-udp-badsum", doc: "a bad checksum is not",
		model: "port-unreach", send: c0(badsum(udp(c4, h4, 40000, 81, p32), 6)), capture: "c0"})
	add(tcase{name: "s4-udp-large", doc: "576-byte limit",
		model: "port-unreach", send: c0(udp(c4, h4, 40000, 81, pattern(1200))), capture: "c0"})
	add(tcase{name: "s4-proto253", doc: "unknown protocol: ICMP protocol unreachable",
		model: "proto-unreach", send: c0(raw(253, c4, h4, p32)), capture: "c0"})
	add(tcase{name: "s4-echo", doc: "echo reply: header words and payload copied, TOS kept",
		model: "echo local", send: c0(icmp(c4, h4, 8, 0, 0x12340007, pattern(56), tos(0x12))), capture: "c0"})
	add(tcase{name: "s4-echo-code", doc: "echo reply keeps a nonzero code",
		model: "echo local", send: c0(icmp(c4, h4, 8, 5, 0x12340008, pattern(8))), capture: "c0"})
	add(tcase{name: "s4-ttl-exceeded", doc: "forwarding with TTL 1: time exceeded, TTL not decremented in the quote",
		model: "time-exceeded src=10.0.1.1", send: c0(udp(c4, s4, 40000, 9, p32, ttl(1))), capture: "c0"})
	add(tcase{name: "s4-ttl-exceeded-tcp", doc: "time exceeded for a TCP segment",
		model: "time-exceeded src=10.0.1.1", send: c0(tcp(c4, s4, 40000, 80, packet.TCPSyn, 9, 0, nil, ttl(1), tos(0x04))), capture: "c0"})
	add(tcase{name: "s4-frag-needed", doc: "DF packet larger than the next hop's MTU: fragmentation needed",
		model: "too-big mtu=1280 src=10.0.1.1", send: c0(udp(c4, s4, 40000, 9, pattern(1300), df)), capture: "c0"})

	// The IPv6 stack.
	add(tcase{name: "s6-tcp-syn", doc: "closed TCP port: tcp_v6_send_reset",
		model: "stack-reset", send: c0(tcp(c6, h6, 40000, 81, packet.TCPSyn, 1000, 0, nil)), capture: "c0"})
	add(tcase{name: "s6-tcp-ack-tclass", doc: "the stack's RST copies the traffic class without ECN",
		model: "stack-reset", send: c0(tcp(c6, h6, 40000, 81, packet.TCPAck, 5000, 7000, pattern(10), tos(0x2b))), capture: "c0"})
	add(tcase{name: "s6-tcp-badsum", doc: "no RST for a bad checksum",
		model: "stack-reset", send: c0(badsum(tcp(c6, h6, 40000, 81, packet.TCPSyn, 1000, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "s6-udp", doc: "closed UDP port: ICMPv6 port unreachable",
		model: "port-unreach", send: c0(udp(c6, h6, 40000, 81, p32, tos(0x10))), capture: "c0"})
	add(tcase{name: "s6-udp-trailing", doc: "bytes beyond the UDP length are not quoted",
		model: "port-unreach", send: c0(shortUDP(udp(c6, h6, 40000, 81, p32), 12)), capture: "c0"})
	add(tcase{name: "s6-udp-nocsum", doc: "no answer for a datagram without checksum",
		model: "port-unreach", send: c0(zerosum(udp(c6, h6, 40000, 81, p32))), capture: "c0"})
	add(tcase{name: "s6-proto253", doc: "unknown next header: parameter problem pointing at it",
		model: "proto-unreach", send: c0(raw(253, c6, h6, p32)), capture: "c0"})
	add(tcase{name: "s6-proto253-ext", doc: "the pointer names the extension header's next-header byte",
		model: "proto-unreach", send: c0(raw(253, c6, h6, p32, ext(packet.ProtoDstOpts))), capture: "c0"})
	add(tcase{name: "s6-echo", doc: "echo reply: traffic class kept",
		model: "echo local", send: c0(icmp(c6, h6, 128, 0, 0x12340007, pattern(56), tos(0x12))), capture: "c0"})
	add(tcase{name: "s6-hop-exceeded", doc: "forwarding with hop limit 1",
		model: "time-exceeded src=fd00:1::1", send: c0(udp(c6, s6, 40000, 9, p32, ttl(1))), capture: "c0"})
	add(tcase{name: "s6-too-big", doc: "packet too big for the next hop",
		model: "too-big mtu=1280 src=fd00:1::1", send: c0(udp(c6, s6, 40000, 9, pattern(1300))), capture: "c0"})

	// The checksum state conntrack leaves: it verifies TCP and UDP
	// checksums at PREROUTING (nf_conntrack_checksum=1) and marks a bad
	// one CHECKSUM_COMPLETE, which nf_ip_checksum re-verifies at INPUT but
	// takes as good at FORWARD.
	// The raw rule only loads conntrack; the REJECT rules match whatever
	// state conntrack gives the packet.
	ctLoad4 := "iptables -t raw -A PREROUTING -m conntrack --ctstate INVALID -j ACCEPT"
	ctLoad6 := "ip6tables -t raw -A PREROUTING -m conntrack --ctstate INVALID -j ACCEPT"
	add(tcase{name: "r4-fwd-rst-badsum", doc: "without conntrack a bad checksum gets no RST in FORWARD",
		setup: []string{"iptables -A FORWARD -s 10.0.1.2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject fwd type=tcp-reset",
		send: c0(badsum(tcp(c4, s4, 40000, 80, packet.TCPSyn, 77, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r4-fwd-rst-badsum-ct", doc: "nor with conntrack, which verified it at PREROUTING: forwarding drops the stored sum (skb_forward_csum) and REJECT verifies again",
		setup: []string{ctLoad4, "iptables -A FORWARD -s 10.0.1.2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject fwd type=tcp-reset",
		send: c0(badsum(tcp(c4, s4, 40000, 80, packet.TCPSyn, 77, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r4-fwd-unreach-badsum-ct", doc: "the same for a UDP datagram",
		setup: []string{ctLoad4, "iptables -A FORWARD -s 10.0.1.2 -p udp -j REJECT"}, model: "reject fwd type=icmp-port-unreachable src=10.0.1.1",
		send: c0(badsum(udp(c4, s4, 40000, 9, p32), 6)), capture: "c0"})
	add(tcase{name: "r4-in-rst-badsum-ct", doc: "in INPUT the bad checksum is verified again: no RST",
		setup: []string{ctLoad4, "iptables -A INPUT -s 10.0.1.2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject type=tcp-reset",
		send: c0(badsum(tcp(c4, h4, 40000, 9, packet.TCPSyn, 77, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r6-fwd-rst-badsum", doc: "IPv6 without conntrack: no RST",
		setup: []string{"ip6tables -A FORWARD -s fd00:1::2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject fwd type=tcp-reset",
		send: c0(badsum(tcp(c6, s6, 40000, 80, packet.TCPSyn, 77, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r6-fwd-rst-badsum-ct", doc: "IPv6 with conntrack: no RST either",
		setup: []string{ctLoad6, "ip6tables -A FORWARD -s fd00:1::2 -p tcp -j REJECT --reject-with tcp-reset"}, model: "reject fwd type=tcp-reset",
		send: c0(badsum(tcp(c6, s6, 40000, 80, packet.TCPSyn, 77, 0, nil), 16)), capture: "c0"})
	add(tcase{name: "r6-fwd-unreach-badsum-ct", doc: "IPv6 UDP with a bad checksum and conntrack: no error",
		setup: []string{ctLoad6, "ip6tables -A FORWARD -s fd00:1::2 -p udp -j REJECT"}, model: "reject fwd type=icmp6-port-unreachable src=fd00:1::1",
		send: c0(badsum(udp(c6, s6, 40000, 9, p32), 6)), capture: "c0"})

	// Rate limits, last: the peers 10.0.1.3 and fd00:1::3 are used by no
	// other case, so their buckets start full (a peer answered with
	// ratelimit 0 keeps an empty bucket).
	var burst4, burst6 [][]byte
	for i := 0; i < 10; i++ {
		burst4 = append(burst4, udp("10.0.1.3", h4, uint16(41000+i), 81, p32))
		burst6 = append(burst6, udp("fd00:1::3", h6, uint16(41000+i), 81, p32))
	}
	add(tcase{name: "rl4-burst", doc: "ten port unreachables within 40 ms: the peer's bucket lets 6 through (icmp_ratelimit 1 s, burst factor 6)",
		setup: []string{"sysctl -qw net.ipv4.icmp_ratelimit=1000"}, model: "port-unreach limit=1000",
		send: c0(burst4...), capture: "c0"})
	add(tcase{name: "rl6-burst", doc: "the same over IPv6 (ratelimit 1 s, shortened to 248 ms for the /64 route back)",
		setup: []string{"sysctl -qw net.ipv6.icmp.ratelimit=1000"}, model: "port-unreach limit=1000",
		send: c0(burst6...), capture: "c0"})
	return cs
}

// shortUDP sets the UDP length of b to n (less than its payload) and
// recomputes the checksum over those n bytes, leaving trailing bytes.
func shortUDP(b []byte, n int) []byte {
	var p packet.Packet
	if err := p.Decode(b); err != nil {
		panic(err)
	}
	o := l4off(b)
	b[o+4], b[o+5] = byte(n>>8), byte(n)
	b[o+6], b[o+7] = 0, 0
	cs := packet.Checksum(b[o:o+n], packet.PseudoSum(p.Src(), p.Dst(), packet.ProtoUDP, n))
	b[o+6], b[o+7] = byte(cs>>8), byte(cs)
	return b
}
