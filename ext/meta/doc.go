// Package meta holds the extensions that look at packet metadata and host
// objects rather than protocol headers: set and SET (ipsets), owner,
// physdev, addrtype, pkttype, mac, rpfilter and comment. Each file mirrors
// one extensions/libxt_*.c of iptables 1.8.9; the per-rule structs mirror
// the kernel's xt_*_info structs of the revision iptables-nft picks.
package meta
