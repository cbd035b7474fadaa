// Package meta holds the extensions that look at packet metadata and host
// objects rather than protocol headers: set and SET (ipsets), owner,
// physdev, addrtype, pkttype, mac, rpfilter and comment. Each file mirrors
// one extensions/libxt_*.c of iptables 1.8.9; the per-rule structs mirror
// the kernel's xt_*_info structs of the revision iptables-nft picks.
//
// Their packet semantics (MatchPacket, and TargetPacket for SET) reach
// the host through the packet's Env: address types through AddrType,
// ip sets through the Env's xtables.ObjectStore (set_packet.go), and the
// reverse path look-up of rpfilter through RouteEnv.
package meta
