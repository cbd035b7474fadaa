//go:build linux

package main

import (
	"time"

	"github.com/iptwin/iptwin/packet"
)

// defragCases are the reassembly cases (defrag/testdata/kernel). Their
// model line says what the defrag test does with the sent fragments:
//
//	local          reassemble for local delivery; H answers the datagram
//	               (to closed UDP port 81) with a port unreachable, or a
//	               broken IPv6 fragment with a parameter problem
//	forward mtu=N  reassemble in conntrack; forward the datagram to a
//	               link of MTU N: fragmented again, or refused (ICMP)
//	timeout        queue, let the queue expire: time exceeded (reassembly)
func defragCases() []tcase {
	var cs []tcase
	// Every case gets its own identification: a queue a case leaves
	// behind (a fragment arriving after its datagram was discarded) lives
	// on for ipfrag_time and would catch the next case's fragments.
	id := uint32(0x4000)
	add := func(c tcase) { c.pkg = "defrag"; cs = append(cs, c); id++ }
	frags := func(b []byte, spans ...span) [][]byte {
		if b[0]>>4 == 6 {
			return frag6(b, 0x50000+id, spans...)
		}
		b = append([]byte(nil), b...)
		b[4], b[5] = byte(id>>8), byte(id)
		return frag4(b, spans...)
	}
	order := func(fs [][]byte, idx ...int) [][]byte {
		var out [][]byte
		for _, i := range idx {
			out = append(out, fs[i])
		}
		return out
	}
	ct4 := "iptables -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT"
	ct6 := "ip6tables -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT"

	// Local delivery (no conntrack).
	for _, v := range []struct{ fam, src, dst string }{{"4", c4, h4}, {"6", c6, h6}} {
		d := udp(v.src, v.dst, 40000, 81, pattern(2000), ipid(0x4001))
		three := frags(d, span{0, 1000}, span{1000, 1600}, span{1600, 2008})
		add(tcase{name: "d" + v.fam + "-local", doc: "three fragments to a closed port: the port unreachable quotes the reassembled datagram",
			model: "local", send: c0(three...), capture: "c0"})
		add(tcase{name: "d" + v.fam + "-local-reverse", doc: "in reverse order",
			model: "local", send: c0(order(three, 2, 1, 0)...), capture: "c0"})
		add(tcase{name: "d" + v.fam + "-local-dup", doc: "an exact duplicate is dropped alone",
			model: "local", send: c0(order(three, 0, 1, 1, 2)...), capture: "c0"})
		dupRun := frags(d, span{0, 1000}, span{1000, 1600}, span{504, 1504}, span{1600, 2008})
		add(tcase{name: "d" + v.fam + "-local-dup-run", doc: "a fragment inside a run of fragments that came in order is a duplicate",
			model: "local", send: c0(dupRun...), capture: "c0"})
		add(tcase{name: "d" + v.fam + "-local-overlap-run", doc: "the same fragment after the two came out of order overlaps: the datagram is discarded",
			model: "local", send: c0(order(dupRun, 1, 0, 2, 3)...), capture: "c0"})
		add(tcase{name: "d" + v.fam + "-local-overlap", doc: "an overlap discards the datagram (RFC 5722; IPv4 too)",
			model: "local", send: c0(frags(d, span{0, 1000}, span{992, 1600}, span{1600, 2008})...), capture: "c0"})
		add(tcase{name: "d" + v.fam + "-local-beyond-end", doc: "data beyond the last fragment's end discards the datagram",
			model: "local", send: c0(frags(d, span{1600, 2008}, span{0, 1000})[0], frags(d, span{1000, 1608})[0], frags(d, span{1000, 1600})[0]), capture: "c0"})
		ecn := udp(v.src, v.dst, 40000, 81, pattern(1000), ipid(0x4002), tos(0x02))
		ecnCE := udp(v.src, v.dst, 40000, 81, pattern(1000), ipid(0x4002), tos(0x03))
		ecnNot := udp(v.src, v.dst, 40000, 81, pattern(1000), ipid(0x4002), tos(0x00))
		add(tcase{name: "d" + v.fam + "-local-ecn-ce", doc: "ECT(0) and CE fragments: the datagram carries CE",
			model: "local", send: c0(frags(ecn, span{0, 504})[0], frags(ecnCE, span{504, 1008})[0]), capture: "c0"})
		add(tcase{name: "d" + v.fam + "-local-ecn-mixed", doc: "not-ECT and ECT fragments: the datagram is dropped",
			model: "local", send: c0(frags(ecnNot, span{0, 504})[0], frags(ecn, span{504, 1008})[0]), capture: "c0"})
	}
	d4 := udp(c4, h4, 40000, 81, pattern(2000), ipid(0x4003))
	add(tcase{name: "d4-local-trim", doc: "a non-last fragment is cut to a multiple of 8 (here 1003 to 1000)",
		model: "local", send: c0(frags(d4, span{0, 1003}, span{1000, 2008})...), capture: "c0"})
	add(tcase{name: "d4-local-empty", doc: "a non-last fragment of less than 8 bytes is cut to nothing: the datagram is discarded",
		model: "local", send: c0(frags(d4, span{0, 1000}, span{1000, 1005}, span{1000, 2008})...), capture: "c0"})
	// ipfrag_max_dist: 63 fragments of other datagrams from the same
	// source between the two halves keep the datagram, 64 purge it.
	for _, n := range []int{63, 64} {
		halves := frags(udp(c4, h4, 40000, 81, pattern(1000)), span{0, 504}, span{504, 1008})
		ops := c0(halves[0])
		for i := 0; i < n; i++ {
			ops = append(ops, c0(frag4(udp(c4, h4, 40001, 81, pattern(16), ipid(uint16(0x6000+n*0x100+i))), span{8, 24})[0])...)
		}
		ops = append(ops, c0(halves[1])...)
		name := map[int]string{63: "d4-local-maxdist-63", 64: "d4-local-maxdist-64"}[n]
		add(tcase{name: name, doc: "fragments from the same source between two of a datagram's: more than ipfrag_max_dist (64) empty its queue",
			model: "local", send: ops, capture: "c0"})
	}
	d6 := udp(c6, h6, 40000, 81, pattern(2000))
	add(tcase{name: "d6-local-unaligned", doc: "a non-last fragment not a multiple of 8: parameter problem at the payload length",
		model: "local", send: c0(frags(d6, span{0, 1003})...), capture: "c0"})
	add(tcase{name: "d6-local-truncated", doc: "a first fragment without the transport header: parameter problem, code 3",
		model: "local", send: c0(frags(udp(c6, h6, 40000, 81, pattern(100), ext(packet.ProtoDstOpts)), span{0, 8}, span{8, 116})...), capture: "c0"})
	add(tcase{name: "d6-local-atomic", doc: "an atomic fragment (offset 0, M clear) is delivered in place",
		model: "local", send: c0(frags(udp(c6, h6, 40000, 81, pattern(100)), span{0, 108})...), capture: "c0"})

	// Timeouts.
	ft := []string{"sysctl -qw net.ipv4.ipfrag_time=1 net.ipv6.ip6frag_time=1"}
	add(tcase{name: "d4-local-timeout", doc: "the first fragment alone: time exceeded (reassembly) after ipfrag_time",
		setup: ft, model: "timeout local", send: c0(frags(d4, span{0, 1000})[0]), capture: "c0", wait: 3 * time.Second})
	add(tcase{name: "d4-local-timeout-trim", doc: "the quote holds the first fragment as queued: data cut to a multiple of 8, header unchanged",
		setup: ft, model: "timeout local", send: c0(frags(d4, span{0, 1003})[0]), capture: "c0", wait: 3 * time.Second})
	add(tcase{name: "d4-local-timeout-nofirst", doc: "no first fragment, no error",
		setup: ft, model: "timeout local", send: c0(frags(d4, span{1000, 2008})[0]), capture: "c0", wait: 3 * time.Second})
	add(tcase{name: "d6-local-timeout", doc: "the first fragment alone: time exceeded (reassembly) after ip6frag_time",
		setup: ft, model: "timeout local", send: c0(frags(d6, span{0, 1000})[0]), capture: "c0", wait: 3 * time.Second})
	f4 := udp(c4, s4, 40000, 9, pattern(2000), ipid(0x4004))
	f6 := udp(c6, s6, 40000, 9, pattern(2000))
	add(tcase{name: "d4-ct-timeout", doc: "conntrack's queue of a forwarded datagram expires without an error (ip_expire: only an end host answers)",
		setup: append([]string{ct4}, ft...), model: "timeout ct", send: c0(frags(f4, span{0, 1000})[0]), capture: "c0", wait: 3 * time.Second})
	add(tcase{name: "d6-ct-timeout", doc: "IPv6 conntrack's queue answers even for a forwarded datagram",
		setup: []string{ct6, "sysctl -qw net.netfilter.nf_conntrack_frag6_timeout=1"}, model: "timeout ct src=fd00:1::1",
		send: c0(frags(f6, span{0, 1000})[0]), capture: "c0", wait: 3 * time.Second})

	// Conntrack's reassembly and refragmentation on forwarding.
	for _, v := range []struct {
		fam, ct string
		d       []byte
	}{{"4", ct4, udp(c4, s4, 40000, 9, pattern(2500), ipid(0x4005))}, {"6", ct6, udp(c6, s6, 40000, 9, pattern(2500))}} {
		fs := frags(v.d, span{0, 1000}, span{1000, 2000}, span{2000, 2508})
		add(tcase{name: "d" + v.fam + "-ct-refrag", doc: "forwarded with conntrack: reassembled, then sent as the same fragments (frag_list fast path)",
			setup: []string{v.ct}, model: "forward mtu=1280", send: c0(fs...), capture: "s0"})
		add(tcase{name: "d" + v.fam + "-ct-refrag-reverse", doc: "arrival order does not matter",
			setup: []string{v.ct}, model: "forward mtu=1280", send: c0(order(fs, 2, 0, 1)...), capture: "s0"})
		add(tcase{name: "d" + v.fam + "-ct-overlap", doc: "overlapping fragments: nothing is forwarded",
			setup: []string{v.ct}, model: "forward mtu=1280", send: c0(frags(v.d, span{0, 1000}, span{992, 2000}, span{2000, 2508})...), capture: "s0"})
		add(tcase{name: "d" + v.fam + "-ct-small", doc: "fragments smaller than the link allows stay small",
			setup: []string{v.ct}, model: "forward mtu=1280", send: c0(frags(v.d, span{0, 600}, span{600, 1200}, span{1200, 1800}, span{1800, 2400}, span{2400, 2508})...), capture: "s0"})
	}
	big4 := udp(c4, s4, 40000, 9, pattern(2500), ipid(0x4006))
	add(tcase{name: "d4-ct-refrag-slow", doc: "fragments larger than the next link: cut again to its MTU (slow path)",
		setup: []string{ct4}, model: "forward mtu=1280", send: c0(frags(big4, span{0, 1480}, span{1480, 2508})...), capture: "s0"})
	big4df := udp(c4, s4, 40000, 9, pattern(2500), ipid(0x4007), df)
	add(tcase{name: "d4-ct-df-toobig", doc: "DF fragments larger than the next link: fragmentation needed, quoting the reassembled datagram",
		setup: []string{ct4}, model: "forward mtu=1280 src=10.0.1.1", send: c0(frags(big4df, span{0, 1480}, span{1480, 2508})...), capture: "c0"})
	add(tcase{name: "d4-ct-df-fits", doc: "DF fragments that fit: forwarded as the same fragments, without DF",
		setup: []string{ct4}, model: "forward mtu=1280", send: c0(frags(big4df, span{0, 1000}, span{1000, 2000}, span{2000, 2508})...), capture: "s0"})
	big6 := udp(c6, s6, 40000, 9, pattern(2500))
	add(tcase{name: "d6-ct-toobig", doc: "fragments larger than the next link: packet too big, quoting the reassembled datagram",
		setup: []string{ct6}, model: "forward mtu=1280 src=fd00:1::1", send: c0(frags(big6, span{0, 1400}, span{1400, 2508})...), capture: "c0"})
	add(tcase{name: "d6-ct-atomic", doc: "an atomic fragment is reassembled alone: forwarded without its fragment header",
		setup: []string{ct6}, model: "forward mtu=1280", send: c0(frags(udp(c6, s6, 40000, 9, pattern(100)), span{0, 108})...), capture: "s0"})
	add(tcase{name: "d6-ct-unaligned", doc: "a fragment conntrack cannot use goes on alone",
		setup: []string{ct6}, model: "forward mtu=1280", send: c0(frags(big6, span{0, 1003})[0]), capture: "s0"})
	return cs
}
