// Package nflog renders the line the kernel's LOG target writes for a
// packet, byte for byte as Linux 6.x prints it (net/netfilter/
// nf_log_syslog.c: nf_log_ip_packet, nf_log_ip6_packet and the dump_*
// functions they call), and frames such a line as a syslog file shows it.
//
// AppendLine reads the packet's bytes (Packet.Data, the IP packet from
// its header to the end of the buffer the kernel's skb holds) the way
// the kernel reads the skb: every header through skb_header_pointer, so
// a header cut short prints "INCOMPLETE [n bytes] " or "TRUNCATED"
// exactly where the kernel does, whatever the decoder thought of it.
// The packet quoted by an ICMP or ICMPv6 error is printed in brackets,
// one level deep as in the kernel. Meta carries what the line needs that
// is not in the packet: the rule's prefix and flags, the devices, the
// link-layer header the packet came with, the mark and the owning
// socket's credentials.
//
// The line is what dmesg shows after its "[seconds]" stamp, including the
// trailing space the kernel leaves; the printk level (Meta.Level) is not
// part of it. Lines are cut at 1016 bytes as nf_log_buf_add cuts them.
//
// AppendSyslog puts a syslog daemon's "Mon  d hh:mm:ss host kernel: "
// frame (and, optionally, the kernel's "[ uptime] " stamp) around a line.
//
// The goldens in testdata/kernel.golden are lines the real kernel wrote
// for recorded packets; record.sh re-records them (root, network
// namespaces) and the tests compare every one byte for byte.
package nflog
