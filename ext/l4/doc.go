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
package l4
