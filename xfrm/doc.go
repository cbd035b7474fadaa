// Package xfrm is a twin host's IPsec: the security policy database
// (policies, struct xfrm_policy) and the security association database
// (states, struct xfrm_state) as Linux 6.x keeps them, the ESP
// transforms of the packet path, and what the policy match reads of a
// packet's IPsec history.
//
// The control plane is DB: Add/Update/Delete/Get/Flush of states and
// policies with the kernel's checks and errors (net/xfrm/xfrm_user.c,
// xfrm_state.c, xfrm_policy.c), kept in the host's state directory as a
// JSON file (Load, Save). The listing format of ip(8) is in format.go
// (AppendState, AppendPolicy, ip/ipxfrm.c of iproute2 6.1).
//
// # Where the packet path calls in (the kernel's order)
//
// Output of a locally generated packet (ip_route_output_flow and
// ip_output) or of a forwarded one (ip_forward):
//
//  1. At the route decision, DB.OutputPolicy on the packet's flow
//     (xfrm_lookup_route / __xfrm_route_forward, direction out). A
//     forwarded packet is first checked with DB.Check(DirFwd, ...), at the
//     start of ip_forward, before the TTL check and the FORWARD hook. The
//     Bundle returned is skb_dst(skb)->xfrm: what `-m policy --dir out`
//     sees in OUTPUT, FORWARD and POSTROUTING (Bundle.AppendInfo). Its MTU
//     (Bundle.MTU) is the route MTU for the DF/"fragmentation needed"
//     decisions of ip_forward and xfrm4_tunnel_check_size.
//  2. After POSTROUTING, when NAT changed the packet's addresses or ports
//     (nf_nat_ipv4_out → nf_xfrm_me_harder, also ip_route_me_harder after
//     a DNAT in OUTPUT), DB.OutputPolicy again on the rewritten packet: the
//     new bundle replaces the old one. This is why a MASQUERADE before the
//     xfrm lookup sends a packet out in clear (seed 000).
//  3. With a bundle, each state in order (Bundle.SAs[0] first, the first
//     template of the policy): State.Encapsulate. After each tunnel-mode
//     state the resulting packet goes round LOCAL_OUT (OUTPUT) and, when no
//     state is left, POSTROUTING again as a new packet with a fresh
//     conntrack entry (xfrm_output_resume: nf_reset_ct, ip_local_out,
//     dst_output), routed to the tunnel's destination.
//
// Input (xfrm4_rcv / xfrm6_rcv, reached after PREROUTING, routing and
// INPUT, as the ESP protocol handler or, for UDP port 4500, from the UDP
// socket whose encapsulation type is set: xfrm4_udp_encap_rcv):
//
//  1. DB.Decapsulate finds the state by (destination, SPI, ESP, family),
//     checks the replay window, the ICV and the padding, strips the outer
//     headers and appends the state to the packet's SecPath (skb->sp).
//  2. The inner packet re-enters the stack on the same device at
//     PREROUTING (tunnel mode: gro_cells_receive → ip_rcv; transport mode:
//     xfrm4_transport_finish's NF_HOOK), with its SecPath: what
//     `-m policy --dir in` sees (SecPath.AppendInfo), then routing, INPUT
//     or FORWARD.
//  3. DB.Check is __xfrm_policy_check: direction fwd at the start of
//     ip_forward, direction in after INPUT where the protocol takes the
//     packet (tcp_v4_rcv, udp_queue_rcv_skb, icmp_rcv, raw, ...). A packet
//     that matches an "in" policy requiring IPsec but arrived in clear is
//     dropped there, as is a decapsulated (tunnel-mode) packet that no
//     policy allows.
//
// Around them: DB.Acquire makes the larval state an IKE daemon's ACQUIRE
// starts from (NoState with a key manager listening), DB.AllocSPI is
// XFRM_MSG_ALLOCSPI, DB.Expire runs the lifetime timers. A device with
// net.ipv4.conf.DEV.disable_xfrm skips OutputPolicy (DST_NOXFRM), one
// with disable_policy skips Check (IPSKB_NOPOLICY); a socket with a
// per-socket bypass policy (the IKE daemon's) skips OutputPolicy and is
// checked with DB.CheckBypass instead of Check. The caller decides what
// a verdict means where it asks (package stack, measured on Linux 6.18):
// NoState at the route of a local packet is a blackhole route (the
// sender sees success, LOCAL_OUT sees the packet), in ip_forward a drop
// before FORWARD, after NAT (flags 0) a drop with -EREMOTE; Blocked is
// -EPERM.
//
// The data path counts what the kernel counts in /proc/net/xfrm_stat
// (DB.MIB, DB.AppendStat): XfrmOutNoStates and XfrmOutPolBlock per
// look-up, the XfrmIn* reasons of Check and Decapsulate, the XfrmOut*
// errors of Encapsulate through DB.CountOutError.
//
// Not modelled: AH and IPComp transforms (their states and policies are
// kept and listed; Encapsulate answers ErrUnsupported), BEET mode, ESP in
// TCP, the ICMP-error special cases (XFRM_POLICY_ICMP, XFRM_STATE_ICMP,
// the reverse lookups of xfrm_in_fwd_icmp), xfrm interfaces beyond
// matching if_id, hardware offload, security contexts.
//
// The per-packet functions allocate nothing: they write into buffers and
// structs the caller owns.
package xfrm
