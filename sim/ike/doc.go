// Package ike is a deterministic model of strongSwan 5.9.8's charon (with
// starter reading ipsec.conf, as Debian 12 ships them) driving IKEv2: what
// "ipsec up NAME" prints, the UDP datagrams it exchanges on ports 500 and
// 4500, and the xfrm states, policies and table-220 routes it installs.
//
// # API
//
//	d := ike.New(ike.Options{
//		Transport: t,   // Send(src, dst netip.AddrPort, payload []byte)
//		Net:       n,   // Addrs() and Route(dst): the host's addresses and FIB
//		Installer: k,   // AddRule, AddSA, AddPolicy, AddRoute
//		Query:     k,   // QuerySA, QueryPolicy: the kernel's counters (statusall)
//		Resolve:   res, // host names of left=/right= (the host's /etc/hosts)
//		Seed:      42,  // SPIs, nonces, KE data, rekey jitter
//		Files:     ipsecd, // /etc/ipsec.d: cacerts/, certs/, private/
//		Epoch:     start,  // wall clock at time 0 (statusall)
//	})
//	err := d.Load(ipsecConf, ipsecSecrets, strongswanConf, now) // *LoadError: file:line: starter's words
//	out := d.Up("debian3", now)      // "ipsec up": the lines printed at once
//	out = d.Handle(datagram, now)    // a datagram received on 500 or 4500
//	out = d.Tick(now)                // timers (retransmissions) due at now
//	at, ok := d.NextTimer()          // when Tick is due next
//	lines := d.StatusAll(now)        // "ipsec statusall" (Status: "ipsec status")
//	lines = d.StatusOf("debian3", true, now) // "ipsec statusall debian3"
//
// Times are virtual nanoseconds. Every Output is a line of charon's log
// (Group: IKE, NET, ENC, CFG...). Those with Cmd set are also printed by
// the "ipsec up" that Up started (Up's Outputs carry its id); the last one
// has Done set and OK telling whether stroke printed "connection 'x'
// established successfully" or "establishing connection 'x' failed".
// Lines with Cmd 0 are only in the daemon's log (a responder's lines).
//
// # What is modelled, and from where
//
// The lines, their order and the message sizes were recorded from the
// real charon 5.9.8 in network namespaces (testdata/record.sh, kept in
// testdata/real/; expectations derived in testdata/expect/) and the
// behaviour follows strongSwan's sources (file names in the comments):
//
//   - ipsec.conf: conn sections, %default, also=, starter's error messages
//     (confread.c), and the options of the seeds: keyexchange, left,
//     leftid, leftsubnet, right, rightid, rightsubnet, auto, authby, ike,
//     esp, keyingtries, reauth, type, mobike, left|rightikeport,
//     forceencaps, fragmentation, dpdaction, lifetimes, reqid. PSKs of
//     ipsec.secrets with their owners. strongswan.conf's charon.{
//     install_routes, port, port_nat_t, retransmit_*, routing_table*}.
//   - IKE_SA_INIT with real IKEv2 encodings (SA, KE of the group's size,
//     nonce, NAT detection hashes = SHA1(SPIi|SPIr|IP|port) so that a NAT
//     is seen exactly when an address or port was rewritten, FRAG_SUP,
//     HASH_ALG, REDIR_SUP; the responder's CHDLESS_SUP and MULT_AUTH),
//     INVALID_KE_PAYLOAD retries, proposal selection (the responder's
//     order), charon's default proposals.
//   - The switch to port 4500 (with the non-ESP marker) when a NAT is
//     detected or when MOBIKE is enabled and the peer does NAT-T (the
//     seed's IKE_AUTH "stuck on 4500").
//   - IKE_AUTH with IDi/IDr/AUTH(PSK)/SA/TSi/TSr and the MOBIKE notifies,
//     encrypted in an SK payload whose sizes (IV, padding, ICV) are
//     charon's; the PSK AUTH is the real prf construction, so a wrong PSK
//     fails as it does in charon. The cipher itself is a keyed stream,
//     not AES.
//   - Public key authentication with X.509 certificates (pki.go): CA
//     certificates of /etc/ipsec.d/cacerts, leftcert=, leftsendcert=,
//     ": RSA key.pem" in ipsec.secrets, IDs defaulting to the subject,
//     CERTREQ in IKE_SA_INIT responses and IKE_AUTH requests, CERT when
//     asked, RFC 7427 AUTH with RSA_EMSA_PKCS1_SHA2_256 (real PKCS#1
//     v1.5 signatures, verified against the peer's certificate, its
//     issuer and validity), and charon's lines for each step. Recorded
//     with the test PKI of testdata/certs: an IKE_AUTH of 1548 bytes over
//     IPv4, 1596 over IPv6, seed 001's figure (its DNs were chosen so).
//   - IKE fragmentation (RFC 7383, fragment.go): with FRAG_SUP on both
//     sides, a message longer than charon.fragment_size leaves in EF
//     payloads (1248 + 368 bytes over IPv4, 1216 + 448 over IPv6, as
//     recorded) and is reassembled; fragmentation=no sends it whole, and
//     the IP layer fragments it (seed 001).
//   - IDs as stroke_config.c builds them: leftid=, else left= as
//     written (an address, a name as FQDN), "no IDi configured, fall
//     back on IP address" for %defaultroute/%any; IDr sent unless the
//     remote ID is %any.
//   - Half-open IKE_SAs of a responder are deleted after
//     charon.half_open_timeout (30 s), as recorded.
//   - Retransmissions: retransmit_timeout * retransmit_base^n (4, 7.2,
//     12.96, 23.3, 42 s, then 75.6 s before "giving up after 5
//     retransmits"), then keyingtries.
//   - CHILD_SA: traffic selector narrowing, SPIs in charon's range, xfrm
//     states (reqid, algorithms and keys, UDP encapsulation under NAT or
//     forceencaps, replay window, lifetimes), out/in/fwd policies with
//     kernel-netlink's priorities (375423 for /24 === /24), and the route
//     to the remote subnet in table 220 via the next hop to the peer with
//     the local address inside leftsubnet as src.
//   - statusall's CHILD_SA counters as child_sa.c get_usestats reads
//     them: bytes and packets from the kernel's SAs (query_sa: curlft,
//     the inner packets), the last use from the policies (query_policy:
//     in and fwd inbound, out outbound), refreshed only when the byte
//     count grew; "84 bytes_i (1 pkt, 2s ago)" as recorded with
//     kernel-libipsec (testdata/real/traffic-libipsec).
//
// Not modelled: ECDSA and encrypted keys, certificate chains longer
// than one CA, CRLs/OCSP, EAP, IKEv1, rekeying, DPD, MOBIKE updates
// after establishment, ipsec down, DELETE on shutdown, virtual IPs,
// auto=route (trap policies), XFRM_MSG_ALLOCSPI (the SPIs are drawn by
// charon's model, not the kernel's larval states).
package ike
