// Package rate holds the extensions that count, limit and schedule:
//
//   - limit (native nft limit round trip), hashlimit (revision 3, packets
//     or bytes, rate-match), recent (revision 1), quota, statistic (random
//     and nth), cpu, time, cgroup (revision 2: --path, --cgroup), devgroup
//     (names from /etc/iproute2/group);
//   - rateest match and the RATEEST target, whose estimators are host
//     objects found in the stored rules of both families;
//   - nfacct match, checked against the host's nfacct objects (package
//     nfacct keeps them).
//
// Each file mirrors one libxt_*.c: the option table, parse, final check,
// print (-L) and save (-S), and Check for what the kernel's checkentry
// refuses.
//
// The packet semantics (MatchPacket, RATEEST's TargetPacket) keep their
// state in the rule (the nft limit bucket, quota, the nth counter) or, for
// what the kernel shares by name (recent tables, hashlimit tables, rate
// estimators), in the host's Shared when its Env is a StateHost (else in
// the rule). Timers (hashlimit GC, estimator ticks) run lazily at the next
// packet. testdata/measure.sh records kernel behaviour the tests replay.
package rate
