// Package nat is Linux 6.x NAT for connections tracked by package
// conntrack: the mapping choice of nf_nat_core.c (nf_nat_setup_info,
// get_unique_tuple, find_appropriate_src, find_best_ips_proto,
// nf_nat_l4proto_unique_tuple with its attempts and random offsets,
// nf_nat_used_tuple and its _new and _harder variants, the null binding)
// and the packet rewriting of nf_nat_proto.c (nf_nat_manip_pkt per
// protocol, nf_nat_icmp_reply_translation and its ICMPv6 twin).
//
// # Use at a NAT hook (nf_nat_inet_fn)
//
// For a packet with an entry c and state info at hook:
//
//	m := nat.ManipOf(hook)
//	if the packet is an ICMP error (info RELATED):   // nf_nat_ipv4_fn
//		err = nat.Packet(p, c, hook, c.Reply())     // translates the quoted packet
//	else:
//		if (info NEW or RELATED) && !nat.Initialized(c, m):
//			walk the nat table; a NAT target's request becomes
//			nat.Setup(t, c, m, rng, rnd), else nat.NullBinding(t, c, hook, rnd)
//		err = nat.Packet(p, c, hook, c.Reply())
//
// MASQUERADE and REDIRECT choose their address before (the caller's
// nf_nat_masquerade / nf_nat_redirect) and pass it as a one-address range
// with MAP_IPS, as the kernel's targets do; MASQUERADE also records its
// device (c.SetMasqDev). An error from Packet is a drop.
//
// # Randomness
//
// The kernel uses randomness in one place that decides a mapping:
// nf_nat_l4proto_unique_tuple starts at get_random_u16 when it must find
// a new source port (or ICMP id) for source NAT, for any mapping with
// --random or --random-fully, and again for each halved round of
// attempts when a round finds everything taken. Setup's rnd stands for
// get_random_u16 (its low 16 bits are used): the port tried first is
// min + r % range_size, then the following ones. A twin whose rnd returns
// the r the kernel drew chooses the kernel's port; the differential test
// does exactly that with the draws the recorded ports imply. The address
// of a range (find_best_ips_proto) is a jhash of the addresses, with no
// randomness, and is the kernel's.
package nat
