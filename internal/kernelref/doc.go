// Package kernelref is the differential harness of the packet path: the
// same host built in the real kernel (network namespaces, veth peers, the
// real iptables) and in iptwin, the same packets sent to both, and what
// each did compared: the frames it sent on every interface, its LOG
// lines, its counters (iptables-save -c) and its conntrack table.
//
// # Scenario files
//
// testdata/NAME.scn describes one host under test, a line at a time
// ("#" starts a comment, words are split as sh splits them, with single
// and double quotes):
//
//	iface NAME [MAC [peer MAC]]   an interface: a veth into a peer namespace
//	                              that injects and captures frames; default
//	                              MACs 02:00:00:00:0I:01 (host) and
//	                              02:00:00:00:0I:02 (peer) for the I-th iface
//	run TOOL ARGS...              a command in the host: ip, sysctl, iptables,
//	                              ip6tables, iptables-restore,
//	                              ip6tables-restore or conntrack; "<<WORD"
//	                              at the end reads a here-document up to a
//	                              line WORD, "< FILE" a file beside the scenario
//	listen tcp|udp PORT [ADDR]    a listening TCP or bound UDP socket on the
//	                              host (both families without ADDR)
//	neigh IFACE ADDR              a static neighbour entry: ADDR on IFACE
//	                              is the peer (see below)
//	in IFACE SPEC, out SPEC       a packet (package pktspec's notation): "in"
//	                              arrives on IFACE from its peer, "out" is
//	                              sent by a raw socket of the host
//	logpkt LOG-LINE               a packet given as a kernel LOG line
//	                              (pktspec.ParseLog)
//
// iface lines come first; listen and neigh lines before the first packet;
// run lines before the first packet set the host up, later ones run
// before the next packet. "ack peer+N" in a packet is relative to the
// initial sequence number of the host's last SYN on that connection
// (Result.Resolve), which is how a handshake with a listener completes.
//
// # The kernel runner
//
// Kernel.Run, as root, holds flock /tmp/iptw-kmsg.lock for the whole
// scenario and creates the namespaces iptw-ref-PID-h (the host) and
// iptw-ref-PID-pN (the peer of the N-th iface), deleted again at the end.
// The host gets, before its links exist, sysctls that keep IPv6 quiet and
// usable at once: accept_dad=0 (addresses are not tentative),
// router_solicitations=0, and multicast listener reports sent within a
// jiffy; the peers have IPv6 disabled so that they send nothing on their
// own. Each iface is a veth pair with the scenario's MACs, both ends up,
// and lo is up in the host (as on any booted host). Then the run lines,
// the listening sockets, and permanent neighbour entries resolving to the
// peer's MAC for every next hop the packets need: for each address in the
// packets (and their quoted packets) the gateway or the address itself,
// as "ip route get" gives it after set-up, plus the neigh lines (use them
// for addresses no packet carries, such as a DNAT target). Without them
// the host would send ARP or NDP requests that nobody answers. After
// 100 ms without a frame the counters of every table are zeroed and the
// conntrack table flushed, so that the host's own set-up chatter (IPv6
// listener reports) does not count.
//
// Each packet is then sent: an "in" packet as an Ethernet frame from the
// peer's AF_PACKET socket (peer MAC to host MAC, or the spec's smac and
// dmac), an "out" packet from a raw IPPROTO_RAW socket of the host (its
// own IP header, IP_HDRINCL; owned by root, so LOG --log-uid shows UID=0
// GID=0; a packet dropped in OUTPUT makes sendto fail with "operation not
// permitted", which the result shows as "send: ..."). The frames the host
// transmits are captured on every peer until none has come for 80 ms
// (Kernel.Idle), leaving out the peer's own frames, ARP, IGMP and ICMPv6
// types 130-136 and 143 (listener and neighbour discovery). The LOG lines
// are the kernel log records written since the previous packet (read from
// /dev/kmsg after seeking to its end, so only this scenario's: others
// writing LOG lines hold the same lock) that have "IN=... OUT=", with
// their syslog level; net.netfilter.nf_log_all_netns is set to 1 (and
// left so) for LOG to write from a namespace. At the end iptables-save
// -c, ip6tables-save -c and conntrack -L -f ipv4 / -f ipv6 are taken.
//
// Scenarios stay away from what is timed: ICMP errors are rate-limited
// per destination (a burst of 6), so a scenario sends each error to
// another address; half-open connections are retransmitted after a
// second, longer than a scenario lasts.
//
// # The result
//
// Result.Text renders what a runner observed in the golden form: a
// section "== LINE" per packet with each transmitted frame as
//
//	IFACE: SRC-MAC > DST-MAC, tcpdump -nn -S summary (packet.AppendSummary)
//	    the IP packet in hex, 32 bytes a line
//
// and each LOG line as "log LEVEL: TEXT" (the text dmesg shows after the
// timestamp), then "== iptables-save -c" and "== ip6tables-save -c"
// without their comment lines, and "== conntrack -L" with blanks
// collapsed, the timeout rounded up to a multiple of 10 seconds (every
// default timeout is one, and a scenario lasts less than 10 seconds) and
// the lines sorted.
//
// Fields the kernel draws at random are masked, in the hex as x (nibble
// by nibble, checksums covering them too) and in the text as said here:
//
//   - the IPv4 identification, unless 0 or equal to one in the injected
//     packet (and its quoted packet): ICMP errors, echo replies, segments
//     of established sockets, raw sends with ID 0 (ip_select_ident);
//     in LOG lines "ID=*" (the ID= after TTL=)
//   - the IPv6 flow label, unless 0 or the injected one (auto flow labels
//     of the host's packets); "FLOWLBL=*"
//   - the IPv6 fragment identification of fragments the host makes;
//     "ID:*"
//   - the initial sequence number of every SYN the host sends (a listener's
//     SYN-ACK): sequence and acknowledgement numbers within 64 KiB after
//     one are shown relative to it in the summary (tcpdump's relative
//     numbers) and as "SEQ=isnK+N"/"ACK=isnK+N" in LOG lines
//   - TCP timestamp values other than the injected packet's
//   - source ports that source NAT chose (nf_nat_l4proto_unique_tuple picks
//     at random): a frame carrying an injected TCP/UDP packet to its
//     destination with another source port that no injected packet has;
//     shown as "portK" in summaries, LOG lines and conntrack entries
//
// # Goldens and tests
//
// TestKernel runs every scenario against the kernel and compares
// Result.Text with testdata/NAME.golden; it skips, saying why, without
// root, ip netns, iptables 1.8.9 (nf_tables), ip6tables or conntrack.
// Re-record the goldens, as root, with
//
//	go test ./internal/kernelref -run TestKernel -update
//
// TestTwin runs the same scenarios through Twin, the twin host's runner
// (twin.go), and compares with the same goldens.
package kernelref
