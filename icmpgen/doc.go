// Package icmpgen builds the packets a Linux 6.x kernel generates in
// answer to another packet, byte for byte: REJECT's replies (xt_REJECT,
// ip6t_REJECT over nf_reject_ipv4.c / nf_reject_ipv6.c), the stack's own
// answers (TCP RST for a closed port, ICMP port and protocol unreachable,
// time exceeded when forwarding, fragmentation needed / packet too big,
// echo replies) and the ICMP time exceeded of a fragment queue that timed
// out.
//
// # API
//
// Every builder appends one IP packet (no link header) to dst and
// reports whether the kernel sends anything at all:
//
//	reply, ok := icmpgen.Reject(buf[:0], &p, xtables.RejectPortUnreach, opts)
//
// The checks that make the kernel stay silent are part of the builders:
// no RST to a RST, no ICMP error about an ICMP error or a non-first
// fragment, none to a broadcast, multicast or unspecified source, none
// for a packet whose transport checksum is bad (REJECT verifies it, as
// nf_reject_verify_csum says, unless the checksum is already known good),
// none when the room left under the 576-byte rule is too small. Nothing
// allocates when dst has room (about 600 bytes for IPv4, 1300 for IPv6).
//
// # What the caller decides
//
// The kernel takes some fields from routing, sysctls and randomness.
// Options carries them, and SourceRule says which rule gives the source
// address in each case:
//
//   - Src: the reply's source where the kernel routes (icmp_route_lookup,
//     icmp6_send's prefsrc / input device / ip6_dst_lookup). Where the
//     kernel answers from the packet's own destination (TCP RSTs, ICMP for
//     a packet addressed to this host: Local) Src is ignored.
//   - TTL: the reply route's hop limit (ip4_dst_hoplimit: the route's
//     hoplimit metric or net.ipv4.ip_default_ttl; ip6_dst_hoplimit: the
//     metric or the output device's hop_limit). 0 means 64.
//   - ID: the IPv4 identification of ICMP messages. They leave without
//     DF, so __ip_select_ident draws it from a hash keyed with a per-boot
//     secret: the model cannot know it; a host passes its seeded random
//     source. RSTs carry DF and ID 0, which Options cannot change.
//   - FlowLabel: the IPv6 flow label of ICMPv6 messages and of the
//     stack's RST (auto flow labels, net.ipv6.auto_flowlabels=1: a hash of
//     the flow with a per-boot key; 0 when the sysctl is 0). REJECT's RST
//     always has flow label 0.
//   - MTU: the reply route's MTU, which shrinks the IPv4 quote below 576.
//
// Rate limits (icmp_global_allow, inet_peer_xrlim_allow with
// icmp_ratelimit / icmpv6 ratelimit and the rate masks) are a separate
// Limiter the caller consults before sending; see Limiter.
//
// # Proof
//
// testdata/kernel holds, per case, a trigger packet and what the kernel
// answered, recorded from network namespaces with the real iptables by
// internal/record (see record.sh). The test regenerates every reply from
// its trigger and compares bytes; only the IPv4 identification and the
// IPv6 flow label above are taken from the recording.
package icmpgen
