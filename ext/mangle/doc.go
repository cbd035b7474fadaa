// Package mangle holds the targets that rewrite packets or their metadata:
// MARK, CONNMARK, CT (and its NOTRACK alias), TOS, DSCP, TTL, HL, TCPMSS,
// TCPOPTSTRIP, CHECKSUM, CLASSIFY, HMARK, SECMARK, CONNSECMARK, ECN,
// SYNPROXY, TEE and TPROXY. Each file ports one libxt_/libipt_/libip6t_
// extension of iptables 1.8.9 (the revision the kernel picks), with the
// per-rule struct mirroring the kernel's xt_*_info and a Check for what the
// kernel's checkentry refuses when the rule is committed.
//
// TargetPacket rewrites headers in place with the kernel's checksum
// arithmetic (rewrite.go); what a target needs of the host beyond
// xtables.Env (route MTUs, packet copies, sockets, SYN cookies, the CT
// template, skb->priority) is asked through the interfaces in packet.go.
package mangle
