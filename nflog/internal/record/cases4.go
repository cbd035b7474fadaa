package main

import "github.com/iptwin/iptwin/nflog"

const (
	a4 = "10.0.0.200" // A's side (sources of injected packets)
	b4 = "10.0.0.201" // B's eth0
)

const (
	fSeq = nflog.FlagTCPSeq
	fTCP = nflog.FlagTCPOpt
	fIP  = nflog.FlagIPOpt
	fUID = nflog.FlagUID
	fMAC = nflog.FlagMACDecode
)

func allCases() []tcase { return append(cases4(), cases6()...) }

// Seed MAC addresses (B's interface, then the sender).
var (
	seed000B = mac("00:0c:29:e8:bf:d4")
	seed000A = mac("00:0c:29:35:1c:6d")
	seed002B = mac("0a:11:d1:09:77:ce")
	seed002A = mac("0a:a2:e8:49:27:a3")
)

// v4 is an IPv4 header from A to B's eth0.
func v4(proto uint8) ip4 { return ip4{id: 4242, fl: ipDF, proto: proto, src: a4, dst: b4} }

// quoted4 is a packet B would have sent to A, as an ICMP error from A
// quotes it.
func quoted4(proto uint8, l4 []byte) []byte {
	return ip4{id: 777, fl: ipDF, proto: proto, src: b4, dst: a4}.build(l4)
}

func cases4() []tcase {
	synTCP := tcp{sp: 40000, dp: 22, seq: 0x01020304, flags: syn, win: 64240, opts: synOpts(1460, 0x11223344, 7)}
	dataTCP := tcp{sp: 40000, dp: 22, seq: 3000000000, ack: 123456789, flags: ack | psh, win: 501,
		opts: []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}}
	quotedSYN := quoted4(6, tcp{sp: 22, dp: 40000, seq: 77, ack: 0x01020305, flags: syn | ack, win: 65160, opts: synOpts(1460, 5, 7)}.build(nil))

	return []tcase{
		// Seeds.
		{name: "seed000-input-ike", prefix: "[INPUT] ", bMAC: seed000B, srcMAC: seed000A,
			inject: ip4{id: 8099, fl: ipDF, proto: 17, src: "10.0.0.200", dst: "10.0.0.201"}.build(udp(500, 500, fill(336)))},
		{name: "seed000-forward-ping", chain: "FORWARD", prefix: "[FORWARD] ", bMAC: seed000B, srcMAC: seed000A,
			inject: ip4{id: 21235, fl: ipDF, ttl: 63, proto: 1, src: "192.168.200.2", dst: "192.168.201.2"}.build(icmp(8, 0, echo(6401, 1), fill(56)))},
		{name: "seed002-input-ping", prefix: "[INPUT]", bMAC: seed002B, srcMAC: seed002A,
			inject: ip4{id: 10084, fl: ipDF, proto: 1, src: "10.1.77.146", dst: "10.1.51.165"}.build(icmp(8, 0, echo(1496, 1), fill(56)))},
		{name: "seed002-output-reject", chain: "OUTPUT", match: "-p icmp", prefix: "[OUTPUT] ", bMAC: seed002B, srcMAC: seed002A,
			before: []string{"-A INPUT -s 10.1.77.146/32 -p tcp -m tcp --dport 22 -j REJECT --reject-with icmp-port-unreachable"},
			inject: ip4{id: 40037, fl: ipDF, proto: 6, src: "10.1.77.146", dst: "10.1.51.165"}.build(
				tcp{sp: 55724, dp: 22, seq: 2857431616, flags: syn, win: 26883, opts: synOpts(8961, 2135502, 7)}.build(nil))},

		// TCP and the TCP options of LOG.
		{name: "tcp-syn", prefix: "tcp: ", inject: v4(6).build(synTCP.build(nil))},
		{name: "tcp-syn-seq", prefix: "tcp seq: ", flags: fSeq, inject: v4(6).build(synTCP.build(nil))},
		{name: "tcp-syn-options", prefix: "tcp opt: ", flags: fTCP, inject: v4(6).build(synTCP.build(nil))},
		{name: "tcp-data-all-options", prefix: "all: ", flags: fSeq | fTCP | fIP,
			inject: ip4{id: 1, tos: 0x10, proto: 6, src: a4, dst: b4, opts: []byte{0x94, 4, 0, 0}}.build(dataTCP.build(fill(100)))},
		{name: "tcp-every-flag", prefix: "flags: ",
			inject: v4(6).build(tcp{sp: 1, dp: 2, res: 0xf, flags: 0xff, win: 3, urg: 7}.build(nil))},
		{name: "tcp-reserved-bits", prefix: "res: ",
			inject: v4(6).build(tcp{sp: 1, dp: 2, res: 0xe, flags: ack | fin, win: 3}.build(nil))},
		{name: "tcp-ae", prefix: "ae: ",
			inject: v4(6).build(tcp{sp: 1, dp: 2, res: 0x1, flags: ack | ece | cwr, win: 3}.build(nil))},
		{name: "tcp-rst-seq", prefix: "rst: ", flags: fSeq,
			inject: v4(6).build(tcp{sp: 443, dp: 50000, seq: 4294967295, ack: 1, flags: rst | ack}.build(nil))},
		{name: "tcp-header-truncated", prefix: "tcp short: ", flags: fUID, mark: 0x1,
			inject: v4(6).build(fill(10))},
		{name: "tcp-options-truncated", prefix: "opt short: ", flags: fTCP, mark: 0x2,
			inject: v4(6).build(tcp{sp: 5, dp: 6, doff: 15, flags: syn, win: 1, opts: []byte{2, 4, 5, 0xb4}}.build(nil))},
		{name: "tcp-options-truncated-noflag", prefix: "opt short: ", mark: 0x2,
			inject: v4(6).build(tcp{sp: 5, dp: 6, doff: 15, flags: syn, win: 1, opts: []byte{2, 4, 5, 0xb4}}.build(nil))},
		{name: "tcp-doff-below-5", prefix: "doff: ", flags: fTCP,
			inject: v4(6).build(tcp{sp: 5, dp: 6, doff: 2, flags: ack, win: 1}.build(fill(4)))},

		// UDP, UDP-Lite.
		{name: "udp-mark-uid", prefix: "udp: ", flags: fUID, mark: 0x2a,
			inject: v4(17).build(udp(5353, 53, fill(30)))},
		{name: "udp-header-truncated", prefix: "udp short: ", mark: 0x3,
			inject: v4(17).build(fill(4))},
		{name: "udp-length-field", prefix: "udp len: ",
			inject: ip4{id: 9, proto: 17, src: a4, dst: b4, noL4Sum: true}.build([]byte{0x13, 0x88, 0x13, 0x89, 0, 200, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})},
		{name: "udplite", prefix: "udplite: ", inject: v4(136).build(udp(1000, 2000, fill(12)))},

		// ICMP, every type the logger treats specially.
		{name: "icmp-echo-reply", prefix: "icmp: ", inject: v4(1).build(icmp(0, 0, echo(0xffff, 0), fill(8)))},
		{name: "icmp-header-truncated", prefix: "icmp short: ", mark: 0x10, inject: v4(1).build(fill(4))},
		{name: "icmp-port-unreachable", prefix: "unreach: ",
			inject: v4(1).build(icmp(3, 3, 0, quoted4(17, udp(53, 5353, fill(20)))))},
		{name: "icmp-frag-needed", prefix: "mtu: ", flags: fSeq,
			inject: v4(1).build(icmp(3, 4, 1400, quotedSYN))},
		{name: "icmp-unreach-short-quote", prefix: "unreach short: ",
			inject: v4(1).build(icmp(3, 3, 0, fill(12)))},
		{name: "icmp-unreach-8-bytes", prefix: "unreach 8: ",
			inject: v4(1).build(icmp(3, 1, 0, quotedSYN[:28]))},
		{name: "icmp-redirect", prefix: "redirect: ",
			inject: v4(1).build(icmp(5, 1, 0x0a0000fe, ip4{id: 5, proto: 1, src: b4, dst: "10.9.9.9"}.build(icmp(8, 0, echo(1, 2), fill(8)))))},
		{name: "icmp-time-exceeded", prefix: "ttl: ",
			inject: v4(1).build(icmp(11, 0, 0, quoted4(17, udp(33434, 33435, fill(12)))))},
		{name: "icmp-source-quench-flags", prefix: "quench: ", flags: fSeq | fTCP,
			inject: v4(1).build(icmp(4, 0, 0, quotedSYN))},
		{name: "icmp-parameter-problem", prefix: "param: ",
			inject: v4(1).build(icmp(12, 0, 20<<24, quotedSYN))},
		{name: "icmp-parameter-problem-short", prefix: "param short: ",
			inject: v4(1).build(icmp(12, 1, 0, fill(10)))},
		{name: "icmp-timestamp", prefix: "ts: ", inject: v4(1).build(icmp(13, 0, echo(3, 4), fill(12)))},
		{name: "icmp-timestamp-short", prefix: "ts short: ", inject: v4(1).build(icmp(13, 0, echo(3, 4), nil))},
		{name: "icmp-address-mask", prefix: "mask: ", inject: v4(1).build(icmp(17, 0, echo(3, 4), fill(4)))},
		{name: "icmp-unknown-type", prefix: "icmp 42: ", inject: v4(1).build(icmp(42, 7, 0xdeadbeef, fill(4)))},
		{name: "icmp-error-quoting-error", prefix: "nested: ",
			inject: v4(1).build(icmp(11, 0, 0, quoted4(1, icmp(3, 4, 1280, quotedSYN[:28]))))},
		{name: "icmp-quote-with-ip-options", prefix: "inner opt: ", flags: fIP,
			inject: v4(1).build(icmp(3, 3, 0, ip4{id: 3, proto: 17, src: b4, dst: a4, opts: []byte{7, 7, 4, 0, 0, 0, 0, 1}}.build(udp(1, 2, nil))))},
		{name: "icmp-quote-options-truncated", prefix: "inner trunc: ", flags: fIP,
			inject: v4(1).build(icmp(3, 3, 0, ihl15(quoted4(6, fill(8)))))},
		{name: "icmp-quote-ihl-past-end", prefix: "inner wrap: ",
			inject: v4(1).build(icmp(3, 3, 0, ihl15(quoted4(6, fill(8)))))},
		{name: "icmp-quote-fragment", prefix: "inner frag: ",
			inject: v4(1).build(icmp(3, 3, 0, ip4{id: 8, frag: 100, proto: 17, src: b4, dst: a4}.build(fill(16))))},

		// IPv4 options (incoming options that the stack rewrites are logged
		// in PREROUTING, before ip_rcv_options fills them in).
		{name: "ipopt-router-alert", prefix: "ipopt: ", flags: fIP,
			inject: ip4{id: 2, proto: 17, src: a4, dst: b4, opts: []byte{0x94, 4, 0, 0, 0x5e, 4, 0xab, 0xcd}}.build(udp(1, 2, nil))},
		{name: "ipopt-not-asked", prefix: "ipopt off: ",
			inject: ip4{id: 2, proto: 17, src: a4, dst: b4, opts: []byte{0x94, 4, 0, 0, 0x5e, 4, 0xab, 0xcd}}.build(udp(1, 2, nil))},
		{name: "ipopt-record-route", chain: "PREROUTING", prefix: "rr: ", flags: fIP,
			inject: ip4{id: 2, proto: 1, src: a4, dst: b4, opts: []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}}.build(icmp(8, 0, echo(1, 1), nil))},
		{name: "ipopt-timestamp-max", chain: "PREROUTING", prefix: "ts opt: ", flags: fIP | fTCP | fSeq,
			inject: ip4{id: 2, proto: 6, src: a4, dst: b4, opts: append([]byte{68, 40, 5, 0}, make([]byte, 36)...)}.build(
				tcp{sp: 1, dp: 2, flags: syn, opts: append(synOpts(1460, 1, 7), []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}...)}.build(nil))},

		// Fragments: the kernel prints only what a non-first fragment has.
		{name: "frag-first-udp", chain: "PREROUTING", prefix: "frag: ",
			inject: ip4{id: 300, fl: ipMF, proto: 17, src: a4, dst: b4}.build(udp(4500, 4500, fill(1472))[:1480])},
		{name: "frag-middle-tcp", chain: "PREROUTING", prefix: "frag: ", flags: fSeq | fTCP,
			inject: ip4{id: 300, fl: ipMF, frag: 185, proto: 6, src: a4, dst: b4}.build(fill(64))},
		{name: "frag-last-udp-mark", chain: "PREROUTING", prefix: "frag: ", mark: 0x5,
			inject: ip4{id: 300, frag: 370, proto: 17, src: a4, dst: b4}.build(fill(64))},
		{name: "frag-icmp", chain: "PREROUTING", prefix: "frag: ",
			inject: ip4{id: 301, frag: 1, proto: 1, src: a4, dst: b4}.build(fill(16))},
		{name: "frag-ah-mark", chain: "PREROUTING", prefix: "frag: ", mark: 0x7,
			inject: ip4{id: 302, frag: 10, proto: 51, src: a4, dst: b4}.build(fill(16))},
		{name: "frag-esp", chain: "PREROUTING", prefix: "frag: ",
			inject: ip4{id: 303, frag: 10, proto: 50, src: a4, dst: b4}.build(fill(16))},
		{name: "frag-other-proto", chain: "PREROUTING", prefix: "frag: ",
			inject: ip4{id: 304, fl: ipMF, frag: 3, proto: 99, src: a4, dst: b4}.build(fill(16))},
		{name: "frag-ce-df-bits", chain: "PREROUTING", prefix: "bits: ",
			inject: ip4{id: 305, fl: ipCE | ipDF | ipMF, frag: 8191, proto: 17, src: a4, dst: b4}.build(fill(8))},
		{name: "frag-forward", chain: "FORWARD", prefix: "fwd frag: ",
			inject: ip4{id: 306, frag: 100, ttl: 10, proto: 6, src: "192.168.200.2", dst: "192.168.201.2"}.build(fill(40))},

		// IPsec and other protocols.
		{name: "ah", prefix: "ah: ", inject: v4(51).build(cat(ah(6, 0x1000, 1), synTCP.build(nil)))},
		{name: "ah-truncated", prefix: "ah short: ", inject: v4(51).build(fill(8))},
		{name: "esp", prefix: "esp: ", inject: v4(50).build(esp(0xc021c588, 1, 100))},
		{name: "esp-truncated", prefix: "esp short: ", inject: v4(50).build(fill(6))},
		{name: "gre", prefix: "gre: ", inject: v4(47).build(fill(24))},
		{name: "proto-253-ipopt", prefix: "253: ", flags: fIP, inject: v4(253).build(nil)},

		// TOS, MAC, levels, prefixes.
		{name: "tos-all-bits", prefix: "tos: ", inject: ip4{id: 1, tos: 0xff, proto: 17, src: a4, dst: b4}.build(udp(1, 2, nil))},
		{name: "tos-ecn-only", prefix: "ecn: ", inject: ip4{id: 1, tos: 0x03, proto: 17, src: a4, dst: b4}.build(udp(1, 2, nil))},
		{name: "tos-ef", prefix: "ef: ", inject: ip4{id: 1, tos: 0xb8, proto: 17, src: a4, dst: b4}.build(udp(1, 2, nil))},
		{name: "macdecode", prefix: "mac: ", flags: fMAC, inject: v4(17).build(udp(1, 2, nil))},
		{name: "broadcast", prefix: "bcast: ", dstMAC: mac("ff:ff:ff:ff:ff:ff"),
			inject: ip4{id: 11, proto: 17, src: a4, dst: "10.0.0.255"}.build(udp(137, 137, fill(50)))},
		{name: "level-debug", prefix: "debug: ", level: 7, inject: v4(17).build(udp(1, 2, nil))},
		{name: "level-err", prefix: "err: ", level: 3, inject: v4(17).build(udp(1, 2, nil))},
		{name: "prefix-none", inject: ip4{id: 4243, proto: 17, src: a4, dst: b4}.build(udp(1, 2, nil))},
		{name: "prefix-29-bytes", prefix: "abcdefghijklmnopqrstuvwxyz012", inject: v4(17).build(udp(1, 2, nil))},
		{name: "prefix-percent", prefix: "%s%d%% %n%x: ", inject: v4(17).build(udp(1, 2, nil))},
		{name: "prefix-utf8", prefix: "ログ: ", inject: v4(17).build(udp(1, 2, nil))},
		{name: "link-padding", prefix: "pad: ", inject: append(v4(17).build(udp(1, 2, fill(2))), make([]byte, 24)...)},

		// Locally generated packets: no MAC, the socket's owner, OUTPUT marks.
		{name: "output-uid-root", prefix: "out: ", flags: fUID,
			local: ip4{id: 500, fl: ipDF, proto: 17, src: b4, dst: a4}.build(udp(40000, 53, fill(20)))},
		{name: "output-uid-1000", prefix: "out: ", flags: fUID, cred: &[2]uint32{1000, 1001},
			local: ip4{id: 501, fl: ipDF, proto: 17, src: b4, dst: a4}.build(udp(40000, 53, fill(20)))},
		{name: "output-mark-uid", prefix: "out: ", flags: fUID, mark: 0xdeadbeef, cred: &[2]uint32{65534, 65534},
			local: ip4{id: 502, fl: ipDF, proto: 6, src: b4, dst: a4}.build(synTCP.build(nil))},
		{name: "output-uid-not-asked", prefix: "out: ", cred: &[2]uint32{1000, 1001},
			local: ip4{id: 503, proto: 1, src: b4, dst: a4}.build(icmp(8, 0, echo(9, 9), fill(16)))},
		{name: "output-all-flags", prefix: "out all: ", flags: fSeq | fTCP | fIP | fUID | fMAC,
			local: ip4{id: 504, proto: 6, src: b4, dst: a4, opts: []byte{0x94, 4, 0, 0}}.build(dataTCP.build(fill(10)))},
		{name: "output-fragment", prefix: "out frag: ", flags: fUID,
			local: ip4{id: 505, fl: ipMF, proto: 17, src: b4, dst: a4}.build(udp(1, 2, fill(100))[:96])},
		{name: "loopback-input", chain: "INPUT", in: "lo", match: "-i lo", prefix: "lo: ", flags: fUID, logged: "sent",
			local: ip4{id: 510, fl: ipDF, proto: 17, src: b4, dst: b4}.build(udp(40001, 9, fill(3)))},
		{name: "postrouting-local", chain: "POSTROUTING", prefix: "post: ", flags: fUID,
			local: ip4{id: 509, proto: 17, src: b4, dst: a4}.build(udp(1, 2, fill(5)))},
		{name: "postrouting-forwarded", chain: "POSTROUTING", prefix: "post: ",
			inject: ip4{id: 506, ttl: 20, proto: 17, src: "192.168.200.2", dst: "192.168.201.2"}.build(udp(1, 2, fill(5)))},

		// Packets B's kernel sends in reply, logged in OUTPUT.
		{name: "reply-tcp-reset", chain: "OUTPUT", match: "-p tcp", prefix: "rst out: ", flags: fSeq | fUID,
			before: []string{"-A INPUT -p tcp --dport 23 -j REJECT --reject-with tcp-reset"},
			inject: v4(6).build(tcp{sp: 41000, dp: 23, seq: 1000, flags: syn, win: 1024}.build(nil))},
		{name: "reply-closed-udp-port", chain: "OUTPUT", match: "-p icmp", prefix: "closed: ",
			inject: v4(17).build(udp(41000, 9, fill(12)))},
		{name: "reply-admin-prohibited", chain: "OUTPUT", match: "-p icmp", prefix: "prohib: ", flags: fIP,
			before: []string{"-A INPUT -p udp -j REJECT --reject-with icmp-admin-prohibited"},
			inject: ip4{id: 1, proto: 17, src: a4, dst: b4, opts: []byte{0x94, 4, 0, 0}}.build(udp(1, 2, fill(3)))},
		{name: "reply-ttl-exceeded", chain: "OUTPUT", match: "-p icmp", prefix: "ttl out: ",
			inject: ip4{id: 507, ttl: 1, proto: 17, src: a4, dst: "192.168.201.2"}.build(udp(33434, 33434, fill(20)))},
		{name: "reply-frag-needed", chain: "OUTPUT", match: "-p icmp", prefix: "mtu out: ",
			inject: ip4{id: 508, fl: ipDF, proto: 6, src: a4, dst: "192.168.201.2"}.build(dataTCP.build(fill(1360)))},
	}
}

// ihl15 claims 60 header bytes for an IPv4 packet that has 20.
func ihl15(pkt []byte) []byte {
	pkt = append([]byte(nil), pkt...)
	pkt[0] = 0x4f
	return pkt
}
