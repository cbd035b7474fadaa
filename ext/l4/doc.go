// Package l4 holds the matches on transport and IPsec headers (tcp, udp,
// icmp, icmp6, multiport, sctp, dccp, esp, ah, ipcomp, tcpmss, ecn).
package l4
