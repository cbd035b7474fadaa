// Package packet is iptwin's representation of packets on the Linux
// packet path: decoding from wire bytes, building and rewriting packets
// (REJECT replies, ICMP errors, NAT, forwarding), fragmentation, and a
// tcpdump-style one-line summary for tests and tracing.
//
// # Design
//
// A Packet is a plain value the caller owns and reuses:
//
//	var p packet.Packet
//	for _, buf := range bufs {
//		if err := p.Decode(buf); err != nil { ... }
//		... p.IPv4.TTL, p.TCP.DstPort, p.Payload ...
//	}
//
// Decode fills fixed-size fields (addresses are netip.Addr values, which
// for IPv4 and IPv6 need no allocation) and slices that point into buf:
// Net (IP header and extension headers), Transport, Payload, raw IPv4 and
// TCP options, extension headers. Nothing is copied and nothing is
// allocated: a simulated packet path handles millions of packets, and a
// garbage-free decoder keeps that cost at tens of nanoseconds per packet
// (see the benchmarks, which run gopacket as a baseline). The price is
// that a Packet is only valid while buf is unchanged, and the IPv6
// extension header chain is bounded (MaxExt headers, an error beyond).
//
// Layers says which headers are present. An ICMP or ICMPv6 error's quoted
// packet is decoded into Inner (same Headers type, without a further
// inner level) as far as the quote goes; Inner.Truncated marks a quote
// shorter than its length fields, the normal case. Decode errors are
// *Error values naming the layer and field ("ipv4: header length 4 < 5");
// the one returned is stored inside the Packet so that failing does not
// allocate either, and errors.Is(err, ErrTruncated) tells short input
// from bad values. Decoding follows the checks the kernel makes before a
// packet reaches netfilter (IPv4 header and total length, IPv6 payload
// length, TCP data offset, UDP length) and no more: bad checksums and
// unknown options decode (ChecksumsOK verifies, OptMalformed flags TCP
// options the kernel would stop parsing at). First fragments whose
// transport header does not fit decode without it; later fragments have
// no transport layer, and FragKey, FragOffset, MoreFragments and FragData
// give reassembly what it needs.
//
// Append serialises a Headers value into a caller-provided slice (no
// allocation when it has room). Without Fix flags every field is copied
// as is, so a decoded packet re-encodes to exactly its bytes (the fuzz
// test checks this for every input that decodes); with FixLengths and
// FixChecksums it computes lengths, next-header chains, padding and
// checksums (with the IPv4/IPv6 pseudo-header, honouring an IPv6 routing
// header's final destination) for packets built from fields.
// AppendICMPError builds an error quoting a packet as Linux's icmp_send
// and icmp6_send do, TCP.AppendOptions lays out options as Linux writes
// them, and FragmentIPv4 / FragmentIPv6 split packets as ip_do_fragment
// and ip6_fragment do. SetSrc, SetDst, SetSrcPort, SetDstPort and SetTTL
// rewrite the buffer in place with incremental checksum updates (RFC
// 1624, Update16/Update32/UpdateAddr), the way NAT mangles packets.
//
// AppendSummary (String) prints what tcpdump 4.99 prints with -nn -S -t;
// testdata/*.tcpdump hold the real tcpdump's output for the kernel
// capture and the built packets in testdata/*.pcap, and the tests compare
// line by line. See testdata/capture.sh and testdata/record.sh for
// re-recording them.
package packet
