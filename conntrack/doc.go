// Package conntrack is Linux 6.x connection tracking for one twin host
// (one network namespace): net/netfilter/nf_conntrack_core.c (lookup,
// new entries, confirmation, early drop, expiry), the trackers of
// nf_conntrack_proto_tcp.c (the tcp_conntracks state table and
// tcp_in_window), _udp.c (UDP and UDP-Lite), _icmp.c and _icmpv6.c
// (echo and friends, errors RELATED to the connection they quote, ND and
// MLD untracked), _gre.c (without the PPTP keymap) and generic_packet for
// every other protocol (ESP included: Linux 6.x has no ESP tracker), the
// sysctls of nf_conntrack_standalone.c (Config, ConfigFromSysctls), and
// the `conntrack -L` listing of conntrack-tools 1.4.7 (AppendList).
//
// # Use
//
// The host's packet path calls, per packet:
//
//	c, info, v := t.InHook(p, hook, zone, now) // nf_conntrack_in at -200 (PREROUTING, OUTPUT)
//	... rules see c and info; NAT (package nat) sets up and applies mappings ...
//	ok := t.Confirm(c, now)                     // nf_conntrack_confirm (POSTROUTING, INPUT)
//	t.Discard(c)                                // the packet died before confirmation
//
// A new entry (info CtNew) is unconfirmed until Confirm: invisible to
// lookups, listed nowhere, counted in Count. c.Reply() is the direction of
// the packet In last gave c to; a path that holds several packets of one
// connection at once must remember its packet's direction itself.
//
// # Time and chance
//
// Time is the caller's clock in nanoseconds; timeouts count in jiffies of
// HZ=250 as the reference kernel's do (ext/ctmatch/kern), and listings
// print nf_ct_expires/HZ. Nothing here reads the wall clock or a global
// random source: New takes the hash seed. Expired entries are invisible
// at once; Expire collects them (the kernel's gc_worker, whose timing
// the twin does not imitate: call it from the host's clock, or let a
// full table call it before early_drop).
//
// # The table
//
// Entries hang in a chained hash, two nodes per entry (original and
// reply tuple), newest first in each chain as hlist_nulls_add_head
// leaves them. The bucket array grows with the entries, but early_drop
// works on the kernel's buckets (nf_conntrack_buckets of them, found by
// reciprocal_scale of the same hash), so a full table evicts exactly
// what the kernel would for the same hash: nothing, usually, when a few
// entries sit in 262144 buckets. The hash is the twin's own (the kernel's
// is keyed by a random boot-time secret), so which entries share a bucket
// differs from any one real boot, not in distribution. Looking up an
// existing entry allocates nothing; a new entry is one allocation.
//
// # Not modelled
//
// Helpers and expectations (no entry is ever EXPECTED), sequence
// adjustment, the SCTP and DCCP state machines (SCTP is tracked by ports
// with the generic timeout), timeout policies (CT --timeout), event
// delivery, conntrack zones per direction, the GC worker's own early
// drop at 95 % fill, and chain-length limits (a chain is never long with
// a good hash). Clashes at confirmation drop the packet: merging and the
// reply-only insertion of nf_ct_resolve_clash need two CPUs racing,
// which a single-threaded twin never has.
package conntrack
