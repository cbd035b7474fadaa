// Package l4 holds the matches on transport and IPsec headers: tcp, udp,
// icmp (IPv4), icmp6 (IPv6), multiport (revision 1), sctp, dccp, esp, ah
// (the IPv4 and IPv6 variants differ), ipcomp, tcpmss and mh (IPv6
// mobility header).
//
// iptables-nft sends tcp and udp port and flag matches to the kernel as
// payload expressions and reads them back, which is not exact; the Check
// methods of TCP and UDP reproduce that (see nft_tcpudp.go). The other
// matches go to the kernel as they are, where the protocol registered
// with the match is checked (checkProto).
//
// Each match also evaluates packets (MatchPacket) as its kernel module
// does when nf_tables runs it through nft_compat: the transport offset
// and fragment offset are nf_tables' (pktinfo.go: the IPv4 header length;
// for IPv6 where ipv6_find_hdr stops, at an AH header, and 0 for a later
// fragment), read from the packet's bytes. The natively translated tcp
// and udp forms follow nf_tables' payload semantics instead (see
// packet_tcpudp.go). testdata/kernel holds the rules and packets the
// real kernel was given and what it made of them.
package l4
