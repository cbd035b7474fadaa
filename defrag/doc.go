// Package defrag reassembles IPv4 and IPv6 fragments exactly where and as
// a Linux 6.x kernel does:
//
//   - IPv4 (net/ipv4/ip_fragment.c, inet_fragment.c): one reassembler per
//     host serves the IP layer's local delivery (ip_local_deliver, before
//     INPUT) and conntrack's defrag hook (nf_defrag_ipv4 at PREROUTING
//     and OUTPUT priority -400, only while conntrack is in use); queues
//     are keyed by addresses, protocol, identification and the user
//     (local delivery, or conntrack in/out plus the zone).
//   - IPv6 conntrack (net/ipv6/netfilter/nf_conntrack_reasm.c, at
//     PREROUTING and OUTPUT -400): queues keyed by addresses,
//     identification, user and input interface; fragments it cannot use
//     (not 8-aligned, first fragment without the transport header) pass
//     through unreassembled.
//   - IPv6 local delivery (net/ipv6/reassembly.c), which runs after
//     INPUT, so without conntrack INPUT sees each fragment; it answers
//     broken fragments with ICMPv6 parameter problems.
//
// # What is modelled
//
// Overlaps: a fragment overlapping data already queued (except one lying
// entirely inside a run of fragments that arrived in order, a duplicate,
// which is dropped alone) discards the whole datagram, in both families
// (RFC 5722 for IPv6; Linux does the same for IPv4 since 4.19). The
// runs follow inet_frag_queue_insert, so the outcome depends on arrival
// order as the kernel's does. A non-last IPv4 fragment is cut to a
// multiple of 8 bytes; the reassembled header is the first fragment's
// with the total length, the ECN bits of all fragments (RFC 3168 5.3,
// ip_frag_ecn_table: a mix of not-ECT and ECT discards the datagram) and
// DF only if the largest fragment had it. maxFrag is the largest
// fragment's size (IPCB(skb)->frag_max_size, IP6CB(skb)->frag_max_size):
// a forwarded datagram is fragmented again to it (Refragment4,
// Refragment6). Timeouts start with the queue and are not extended
// (ipfrag_time 30 s, ip6frag_time and nf_conntrack_frag6_timeout 60 s);
// Expire reports the first fragment of an expired queue when the kernel
// answers with an ICMP time exceeded (icmpgen.ReassemblyTimeout).
// ipfrag_max_dist (64) purges an IPv4 queue when more fragments from the
// same source arrived between two of its own. Memory
// (ipfrag_high_thresh, 4 MiB) is counted as the kernel charges it: a
// fixed cost per queue plus the socket buffer's truesize per fragment,
// which depends on how the frame was received (Config.Truesize; the
// default is what a veth charges, measured on 6.18); past the
// threshold fragments are dropped until queues expire.
//
// # Use
//
//	q := defrag.New(defrag.Config{Kind: defrag.IPv4})
//	whole, maxFrag, done, err := q.Add(frame, &p, now)
//
// done reports that a packet continues on the path: whole is then the
// reassembled datagram (or the fragment itself, where the kernel lets it
// through). Without done the fragment is held (err nil) or dropped (err
// says why; an *Error with ICMP set owes the sender a parameter
// problem). whole lives in the Queue's buffer until the next call;
// fragment data is copied into buffers the Queue recycles, so a steady
// stream of fragments allocates nothing once warm.
package defrag
