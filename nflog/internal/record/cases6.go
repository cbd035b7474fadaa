package main

const (
	a6 = "2001:db8:1::2" // A's side
	b6 = "2001:db8:1::1" // B's eth0
)

// v6 is an IPv6 header from A to B's eth0.
func v6(next uint8) ip6 { return ip6{next: next, src: a6, dst: b6} }

// quoted6 is a packet B would have sent to A, as an ICMPv6 error quotes it.
func quoted6(next uint8, payload []byte) []byte {
	return ip6{next: next, src: b6, dst: a6}.build(payload)
}

// Seed 001's addresses and fragment identification.
const (
	seed001Src = "2001:db8::be6b:d879"
	seed001Dst = "2001:db8:f:608::2"
	seed001ID  = 0x5efa507c
)

func cases6() []tcase {
	syn6 := tcp{sp: 40000, dp: 443, seq: 0xa0b0c0d0, flags: syn, win: 64800, opts: synOpts(1440, 0x55667788, 7)}
	quotedUDP := quoted6(17, udp(53, 5353, fill(16)))
	quotedTCP := quoted6(6, tcp{sp: 443, dp: 40000, seq: 99, ack: 0xa0b0c0d1, flags: syn | ack, win: 65160, opts: synOpts(1440, 1, 7)}.build(nil))
	noSum := func(h ip6) ip6 { h.noL4Sum = true; return h }

	// Seed 001: an IKE_AUTH message fragmented over two packets.
	ike := udp(4500, 4500, fill(1600)) // 1608 bytes: 1232 + 376
	seedFrag1 := ip6{hlim: 51, next: 44, src: seed001Src, dst: seed001Dst, noL4Sum: true}.build(cat(frag6(17, 0, true, seed001ID), ike[:1232]))
	seedFrag2 := ip6{hlim: 51, next: 44, src: seed001Src, dst: seed001Dst, noL4Sum: true}.build(cat(frag6(17, 1232, false, seed001ID), ike[1232:]))

	return []tcase{
		// Seed 001.
		{name: "seed001-second-fragment", prefix: "iptables: REJECT ", flags: fIP, inject: seedFrag2},
		{name: "seed001-first-fragment", prefix: "iptables: REJECT ", flags: fIP, inject: seedFrag1},
		{name: "seed001-second-fragment-noopt", prefix: "iptables: REJECT ", inject: seedFrag2},

		// TCP, UDP, flow label, traffic class.
		{name: "tcp6-syn-seq-options", prefix: "tcp6: ", flags: fSeq | fTCP, inject: v6(6).build(syn6.build(nil))},
		{name: "tcp6-header-truncated", prefix: "tcp6 short: ", mark: 0x9, inject: noSum(v6(6)).build(fill(12))},
		{name: "udp6-class-flow", prefix: "udp6: ",
			inject: ip6{tc: 0xb8, flow: 0xabcde, hlim: 255, next: 17, src: a6, dst: b6}.build(udp(546, 547, fill(40)))},
		{name: "udp6-header-truncated", prefix: "udp6 short: ", inject: noSum(v6(17)).build(fill(6))},
		{name: "udplite6", prefix: "udplite6: ", inject: v6(136).build(udp(7, 8, fill(4)))},
		{name: "udp6-mark-uid", prefix: "udp6: ", flags: fUID, mark: 0x7fffffff, inject: v6(17).build(udp(1, 2, nil))},

		// ICMPv6.
		{name: "icmp6-echo-request", prefix: "ping6: ", inject: v6(58).build(icmp(128, 0, echo(4321, 17), fill(56)))},
		{name: "icmp6-echo-reply", prefix: "pong6: ", inject: v6(58).build(icmp(129, 0, echo(4321, 17), fill(56)))},
		{name: "icmp6-mld-query", prefix: "mld: ", inject: ip6{hlim: 1, next: 58, src: "fe80::1", dst: b6}.build(icmp(130, 0, 0, make([]byte, 16)))},
		{name: "icmp6-neighbour-solicitation", prefix: "ns: ",
			inject: ip6{hlim: 255, next: 58, src: a6, dst: b6}.build(icmp(135, 0, 0, append(addr16(b6), 1, 1, 2, 0, 0x5e, 0x10, 0, 0xa0)))},
		{name: "icmp6-port-unreachable", prefix: "unreach6: ", inject: v6(58).build(icmp(1, 4, 0, quotedUDP))},
		{name: "icmp6-packet-too-big", prefix: "ptb: ", inject: v6(58).build(icmp(2, 0, 1280, quotedTCP))},
		{name: "icmp6-time-exceeded-seq", prefix: "hlim: ", flags: fSeq, inject: v6(58).build(icmp(3, 0, 0, quotedTCP))},
		{name: "icmp6-parameter-problem", prefix: "param6: ", inject: v6(58).build(icmp(4, 1, 40, quotedUDP))},
		{name: "icmp6-error-short-quote", prefix: "short quote: ", inject: v6(58).build(icmp(1, 3, 0, quotedUDP[:30]))},
		{name: "icmp6-error-no-quote", prefix: "no quote: ", mark: 0x11, inject: v6(58).build(icmp(1, 0, 0, nil))},
		{name: "icmp6-error-quoting-fragment", prefix: "inner frag6: ", flags: fIP,
			inject: v6(58).build(icmp(1, 4, 0, quoted6(44, cat(frag6(17, 1232, false, 0x01020304), fill(16)))))},
		{name: "icmp6-error-quoting-error", prefix: "nested6: ",
			inject: v6(58).build(icmp(3, 0, 0, quoted6(58, icmp(1, 4, 0, quotedUDP))))},
		{name: "icmp6-header-truncated", prefix: "icmp6 short: ", mark: 0x12, inject: noSum(v6(58)).build(fill(4))},
		{name: "icmp6-unknown-type", prefix: "icmp6 200: ", inject: v6(58).build(icmp(200, 9, 0x01020304, nil))},

		// Extension headers.
		{name: "hbh-udp-ipopt", prefix: "hbh: ", flags: fIP,
			inject: ip6{next: 0, src: a6, dst: b6, l4off: 8}.build(cat(ext6(17, 0, []byte{5, 2, 0, 0, 1, 0}), udp(1, 2, fill(4))))},
		{name: "hbh-udp", prefix: "hbh: ",
			inject: ip6{next: 0, src: a6, dst: b6, l4off: 8}.build(cat(ext6(17, 0, []byte{5, 2, 0, 0, 1, 0}), udp(1, 2, fill(4))))},
		{name: "ext-chain-ipopt", prefix: "chain: ", flags: fIP | fSeq,
			inject: ip6{next: 0, src: a6, dst: b6, l4off: 56}.build(cat(
				ext6(60, 0, []byte{1, 4, 0, 0, 0, 0}),
				ext6(43, 1, []byte{1, 12}),
				ext6(44, 0, nil), // routing type 0, no segments left
				frag6(60, 0, true, 0xcafe),
				ext6(6, 1, []byte{1, 12}),
				syn6.build(nil)))},
		{name: "ext-chain", prefix: "chain: ",
			inject: ip6{next: 0, src: a6, dst: b6, l4off: 56}.build(cat(
				ext6(60, 0, []byte{1, 4, 0, 0, 0, 0}),
				ext6(43, 1, []byte{1, 12}),
				ext6(44, 0, nil), // routing type 0, no segments left
				frag6(60, 0, true, 0xcafe),
				ext6(6, 1, []byte{1, 12}),
				syn6.build(nil)))},
		{name: "frag-then-dstopts-ipopt", prefix: "frag dst: ", flags: fIP, mark: 0x13,
			inject: noSum(v6(44)).build(cat(frag6(60, 8, true, 1), ext6(17, 0, nil), fill(8)))},
		{name: "frag-then-dstopts", prefix: "frag dst: ", mark: 0x13,
			inject: noSum(v6(44)).build(cat(frag6(60, 8, true, 1), ext6(17, 0, nil), fill(8)))},
		{name: "frag6-nonfirst-tcp-mark", prefix: "frag6: ", flags: fSeq, mark: 0x14,
			inject: noSum(v6(44)).build(cat(frag6(6, 2048, false, 0xffffffff), fill(24)))},
		{name: "frag6-nonfirst-icmp6", prefix: "frag6: ",
			inject: noSum(v6(44)).build(cat(frag6(58, 16, true, 7), fill(24)))},
		{name: "ah6-ipopt", prefix: "ah6: ", flags: fIP, inject: ip6{next: 51, src: a6, dst: b6, l4off: 24}.build(cat(ah(6, 0x100, 1), syn6.build(nil)))},
		{name: "ah6", prefix: "ah6: ", inject: ip6{next: 51, src: a6, dst: b6, l4off: 24}.build(cat(ah(6, 0x100, 1), syn6.build(nil)))},
		{name: "ah6-after-nonfirst-fragment", prefix: "ah6 frag: ", flags: fIP,
			inject: noSum(v6(44)).build(cat(frag6(51, 16, false, 2), ah(6, 0x100, 1)))},
		{name: "ah6-truncated", prefix: "ah6 short: ", flags: fIP, inject: noSum(v6(51)).build(fill(6))},
		{name: "esp6-ipopt-mark", prefix: "esp6: ", flags: fIP, mark: 0x15, inject: v6(50).build(esp(0xc021c588, 7, 64))},
		{name: "esp6-mark", prefix: "esp6: ", mark: 0x15, inject: v6(50).build(esp(0xc021c588, 7, 64))},
		{name: "esp6-truncated", prefix: "esp6 short: ", flags: fIP, inject: v6(50).build(fill(5))},
		{name: "esp6-after-nonfirst-fragment", prefix: "esp6 frag: ", flags: fIP,
			inject: noSum(v6(44)).build(cat(frag6(50, 1024, true, 3), esp(1, 1, 8)))},
		{name: "no-next-header", prefix: "none: ", flags: fIP, inject: v6(59).build(fill(8))},
		{name: "unknown-next-header", prefix: "proto6: ", inject: v6(253).build(fill(8))},
		{name: "dstopts-longer-than-packet", prefix: "dst long: ", flags: fIP,
			inject: noSum(v6(60)).build(ext6(6, 1, []byte{1, 4})[:8])}, // claims 16 bytes
		{name: "ext-header-truncated", prefix: "ext short: ", flags: fIP,
			inject: noSum(v6(60)).build(ext6(60, 0, []byte{1, 4}))},
		{name: "frag-header-truncated", prefix: "frag short: ", flags: fIP,
			inject: noSum(v6(44)).build(fill(4))},
		{name: "line-cut-at-1016", prefix: "long: ", flags: fIP,
			inject: v6(60).build(manyDstOpts(140, 17))},

		// MAC decoding, forwarding, local packets.
		{name: "macdecode6", prefix: "mac6: ", flags: fMAC, inject: v6(17).build(udp(1, 2, nil))},
		{name: "forward6", chain: "FORWARD", prefix: "fwd6: ",
			inject: ip6{hlim: 9, next: 17, src: a6, dst: "2001:db8:2::2"}.build(udp(1000, 2000, fill(10)))},
		{name: "postrouting6-forwarded", chain: "POSTROUTING", prefix: "post6: ",
			inject: ip6{hlim: 9, next: 17, src: a6, dst: "2001:db8:2::2"}.build(udp(1000, 2000, fill(10)))},
		{name: "loopback6-input", chain: "INPUT", in: "lo", match: "-i lo", prefix: "lo6: ", flags: fUID, logged: "sent",
			local: ip6{flow: 318385, next: 17, src: b6, dst: b6}.build(udp(40001, 9, fill(3)))},
		{name: "postrouting6-local", chain: "POSTROUTING", prefix: "post6: ", flags: fUID,
			local: ip6{next: 17, src: b6, dst: a6}.build(udp(40000, 53, fill(20)))},
		{name: "output6-uid", prefix: "out6: ", flags: fUID, cred: &[2]uint32{1000, 1001},
			local: ip6{next: 17, src: b6, dst: a6}.build(udp(40000, 53, fill(20)))},
		{name: "output6-mark-all-flags", prefix: "out6 all: ", flags: fSeq | fTCP | fIP | fUID | fMAC, mark: 0xabc,
			local: ip6{next: 0, src: b6, dst: a6, l4off: 8}.build(cat(ext6(6, 0, []byte{1, 4}), syn6.build(nil)))},

		// Replies from B's kernel, logged in OUTPUT.
		// Linux 6.x REJECTs no fragment but the first (reject6_csum_ok), and
		// only when the transport checksum verifies over that fragment alone.
		{name: "seed001-reject-first-fragment", chain: "OUTPUT", match: "-p ipv6-icmp", prefix: "out6: ", flags: fIP,
			before: []string{"-A INPUT -s " + seed001Src + " -j REJECT --reject-with icmp6-port-unreachable"},
			inject: ip6{hlim: 51, next: 44, src: seed001Src, dst: seed001Dst, l4off: 8}.build(cat(frag6(17, 0, true, seed001ID), ike[:1232]))},
		{name: "reply6-tcp-reset", chain: "OUTPUT", match: "-p tcp", prefix: "rst6: ", flags: fSeq,
			before: []string{"-A INPUT -p tcp -j REJECT --reject-with tcp-reset"},
			inject: v6(6).build(syn6.build(nil))},
		{name: "reply6-port-unreachable", chain: "OUTPUT", match: "-p ipv6-icmp", prefix: "unreach6 out: ",
			before: []string{"-A INPUT -p udp -j REJECT"},
			inject: v6(17).build(udp(41000, 9, fill(12)))},
		{name: "reply6-packet-too-big", chain: "OUTPUT", match: "-p ipv6-icmp", prefix: "ptb out: ",
			inject: ip6{next: 17, src: a6, dst: "2001:db8:2::2"}.build(udp(1, 2, fill(1300)))},
		{name: "reply6-hop-limit", chain: "OUTPUT", match: "-p ipv6-icmp", prefix: "hlim out: ",
			inject: ip6{hlim: 1, next: 17, src: a6, dst: "2001:db8:2::2"}.build(udp(1, 2, fill(10)))},
	}
}

func addr16(s string) []byte {
	a := ip6{src: s, dst: s}.build(nil)
	return a[8:24]
}

// manyDstOpts is n empty destination options headers, then next.
func manyDstOpts(n int, next uint8) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		nh := uint8(60)
		if i == n-1 {
			nh = next
		}
		b = append(b, ext6(nh, 0, []byte{1, 4})...)
	}
	return append(b, udp(1, 2, nil)...)
}
