// Package report holds the targets that report or hand packets elsewhere
// rather than change them: LOG, NFLOG, REJECT (IPv4 and IPv6), NFQUEUE,
// TRACE, AUDIT, LED and IDLETIMER, each ported from its libxt_*.c /
// libipt_*.c / libip6t_*.c of iptables 1.8.9 with the checks the kernel's
// checkentry makes when the rule is committed.
//
// Some of their behaviour comes from the nf_tables backend rather than
// the extension: NFLOG is stored as a native nft "log" expression, so what
// is listed back is what that expression keeps (the prefix up to 127
// characters, --nflog-range dropped).
//
// TargetPacket hands LOG and REJECT to the host (Env.Log, Env.Reject) and
// returns the kernel's verdict; with no NFQUEUE listener a queued packet
// is dropped, or accepted with --queue-bypass; TRACE sets nftrace.
package report
