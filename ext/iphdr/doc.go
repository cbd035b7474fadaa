// Package iphdr holds the matches on IPv4/IPv6 header fields, IPv6
// extension headers and packet payload: iprange, length, ttl, hl, tos,
// dscp, ecn, frag, rt, hbh, dst, ipv6header, srh, eui64, realm, u32,
// string, bpf and osf. Each file ports one libxt_/libipt_/libip6t_
// extension of iptables 1.8.9 (parse, -L and save forms) plus the checks
// its kernel module makes when a rule is committed, and its packet
// semantics (MatchPacket): the kernel's match function over the packet's
// bytes, IPv6 extension headers walked as ipv6_find_hdr walks them
// (ipv6find.go), the text search algorithms as lib/ts_*.c run them
// (string_search.go) and classic BPF as the kernel runs a socket filter
// (bpf_run.go).
package iphdr
