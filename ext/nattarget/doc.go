// Package nattarget holds the address-translation targets: SNAT, DNAT,
// MASQUERADE and REDIRECT (libxt_NAT.c), NETMAP (libipt_NETMAP.c,
// libip6t_NETMAP.c) and the IPv6 prefix translation targets SNPT and DNPT
// (libip6t_SNPT.c, libip6t_DNPT.c), with the checks the kernel makes when
// such a rule is committed (table, hooks, prefix lengths).
package nattarget
