// Package pktspec is the compact packet notation of `iptwin trace` and of
// the differential scenarios (internal/kernelref): one packet on one line,
// in the order tcpdump prints it, with every header field settable.
//
//	tcp 10.1.77.146:55724 > 10.1.51.165:22 syn in eth0
//	in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 S. seq 5 ack peer+1
//	udp [2001:db8::1]:500 > [2001:db8::2]:500 len 1596
//	icmp 10.0.0.2 > 10.0.0.1 echo-request id 7 seq 1
//	icmp6 2001:db8::2 > 2001:db8::1 type 128
//	icmp 10.0.0.9 > 10.0.0.1 port-unreachable quoting udp 10.0.0.1:5000 > 10.0.0.2:53
//	esp 1.2.3.4 > 5.6.7.8 spi 0xc1a2 seq 3 out
//	udp [2001:db8::be6b:d879]:4500 > [2001:db8:f:608::2]:4500 ike payload 1596 fragid 0x5efa507c mf len 1280
//
// # Grammar
//
//	spec     = [dir] proto src ">" dst {field} [dir]
//	dir      = "in" IFACE | "out"
//	proto    = "tcp" | "udp" | "icmp" | "icmp6" | "esp" | "ip" | "ip6"
//	src, dst = IPV4[":"PORT] | "["IPV6"]"[":"PORT] | IPV6 | ADDR"."PORT
//
// Tokens are separated by blanks; ">" needs none. The direction comes
// first or last: "in IFACE" is a packet arriving on that interface from
// the link, "out" a packet a local socket sends; without one the caller
// decides. Ports are required for tcp and udp and not allowed otherwise;
// IPv6 addresses with a port go in brackets (tcpdump's addr.port is also
// accepted). icmp takes IPv4 addresses and icmp6 IPv6 ones; ip and ip6
// carry a bare payload of protocol "proto N" (default 255 / 59, "no next
// header"). Numbers are decimal or 0x hexadecimal.
//
// # Fields
//
// IP header:
//
//	ttl N, hlim N      TTL / hop limit (either name, either family; default 64)
//	tos N, tc N        IPv4 TOS byte / IPv6 traffic class (default 0)
//	ipid N             IPv4 identification (default 0); "id N" too, except on
//	                   ICMP echo, where id is the echo identifier
//	df, ce             IPv4 don't-fragment and reserved bit (LOG calls it CE)
//	ipopts HEX         IPv4 options, raw (padded with zeros to 4 bytes)
//	flow N             IPv6 flow label
//
// Fragments. A spec describes a whole datagram (its transport header and
// payload, with the transport checksum over all of it); the fragment
// fields cut one fragment out of it:
//
//	off N              offset of the fragment's data in bytes (a multiple of 8)
//	mf                 more fragments follow (IPv4 MF, IPv6 M)
//	frag               IPv6: add a fragment header (implied by off, mf, fragid);
//	                   alone, an "atomic fragment" (offset 0, M clear)
//	fragid N           IPv6 fragment identification (IPv4: the same as ipid)
//	len N              on a fragment, its size: data from off up to the IP
//	                   total length N; without len the fragment runs to the
//	                   end of the datagram
//
// So the two fragments of seed 001's 1608-byte UDP datagram (1600 bytes
// of payload: the 4-byte non-ESP marker and a 1596-byte IKE message) at
// the 1280-byte IPv6 minimum MTU are
//
//	udp [2001:db8::be6b:d879]:4500 > [2001:db8:f:608::2]:4500 ike payload 1596 fragid 0x5efa507c mf len 1280
//	udp [2001:db8::be6b:d879]:4500 > [2001:db8:f:608::2]:4500 ike payload 1596 fragid 0x5efa507c off 1232
//
// Lengths. Two lengths describe a packet, and the notation names both:
//
//	len N              the IP total length of the packet, as the LOG target
//	                   prints LEN= (IPv4 total length, IPv6 40 + payload
//	                   length). On a whole datagram the payload is sized to
//	                   reach it (or must agree with payload/data).
//	payload N          bytes after the transport header (TCP/UDP header, the
//	                   UDP ESP header or non-ESP marker, the 8-byte ICMP or
//	                   ESP header, or the IP header for ip/ip6), all zero;
//	                   what tcpdump prints as "length N" for TCP and UDP.
//	length N           tcpdump's length: payload for tcp and udp, the ICMP or
//	                   ESP message with its 8-byte header for icmp and esp.
//	data HEX           the payload bytes themselves
//
// TCP (defaults: flags syn, seq 1000, ack 0, win 64240, no options):
//
//	syn ack fin rst psh urg ece cwr    flags; several words add up, and so
//	                   do comma lists ("syn,ack") and tcpdump's letters
//	                   ("S.", "[S.]": S F R P U E W and . for ACK);
//	                   "flags X" says the same, "flags none" clears them
//	seq N, win N, urp N, res N         sequence number, window, urgent
//	                   pointer, the 4 reserved bits
//	ack N              the acknowledgement number (and the ACK flag)
//	ack peer+N         relative to the peer's initial sequence number, which
//	                   a runner that saw the peer's SYN fills in (Resolve)
//	acknum N           an acknowledgement number without the ACK flag
//	mss N, wscale N, sackok, ts VAL[:ECR]   options, laid out as Linux does
//	tcpopts HEX        raw options instead
//
// ICMP and ICMPv6 (default: echo-request id 1 seq 1):
//
//	NAME               a type name as iptables names them (port-unreachable,
//	                   echo-reply, packet-too-big, ...: iptables -p icmp -h),
//	                   which sets the code too where the name has one
//	type N, code N     numbers
//	id N, seq N        echo identifier and sequence
//	mtu N, ptr N, gw A, rest N    the word after the checksum: next-hop MTU,
//	                   parameter-problem pointer, redirect gateway, raw
//	quoting SPEC       the packet an error quotes, to the end of the line
//	                   (without direction); quoted as Linux quotes (up to a
//	                   576-byte IPv4 or 1280-byte IPv6 error) unless
//	quote N            says how many of its bytes
//
// ESP: "spi N" (default 0x100), "seq N" (default 1); "payload N" bytes of
// ciphertext. UDP: "spi N" makes the datagram ESP in UDP (RFC 3948), "ike"
// starts it with the non-ESP marker.
//
// Frame: "smac M", "dmac M" set the Ethernet addresses of an injected
// frame.
//
// Errors name the token at fault (*Error). String prints the canonical
// form, which parses back to the same Spec. ParseLog reads a kernel LOG
// line instead. Append builds the IP packet with lengths and checksums
// computed (packet.Headers.Append).
package pktspec
