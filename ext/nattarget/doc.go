// Package nattarget holds the address-translation targets: SNAT, DNAT,
// MASQUERADE and REDIRECT (libxt_NAT.c), NETMAP (libipt_NETMAP.c,
// libip6t_NETMAP.c) and the IPv6 prefix translation targets SNPT and DNPT
// (libip6t_SNPT.c, libip6t_DNPT.c), with the checks the kernel makes when
// such a rule is committed: table, hooks, and for SNPT/DNPT the prefixes.
//
// One known difference from iptables 1.8.9: SNAT and MASQUERADE (both
// families) keep no base port in their kernel structs, so "-p tcp -j SNAT
// --to-source 1.1.1.1:1000-2000/5" is saved as ".../0", which the real
// tool would refuse to read back ("Port `0' not valid"). iptwin keeps its
// rules as save lines, so those targets accept a base of 0 to keep the
// state file readable. DNAT and REDIRECT behave exactly as the real tool.
//
// TargetPacket asks the packet path for the mapping (PacketState.NAT) and
// returns NF_ACCEPT as the kernel's targets do; NETMAP computes its
// address itself and SNPT/DNPT rewrite the prefix in place (packet.go).
package nattarget
