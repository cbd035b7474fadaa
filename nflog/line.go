package nflog

import "github.com/iptwin/iptwin/packet"

// NF_LOG_* flags of struct nf_loginfo (the LOG target's --log-* options);
// the same values as xtables.LogTCPSeq and its siblings.
const (
	FlagTCPSeq    = 0x01 // --log-tcp-sequence
	FlagTCPOpt    = 0x02 // --log-tcp-options
	FlagIPOpt     = 0x04 // --log-ip-options
	FlagUID       = 0x08 // --log-uid
	FlagMACDecode = 0x20 // --log-macdecode
)

// MaxLine is the longest line the kernel writes: nf_log_buf holds 1019
// bytes (S_SIZE) of which the last must stay free and the first two are
// the printk level marker; nf_log_buf_add cuts what does not fit.
const MaxLine = 1016

// maxPrefix is what nf_log_packet's prefix[NF_LOG_PREFIXLEN] (128) holds.
const maxPrefix = 127

// Meta is what the line needs beyond the packet.
type Meta struct {
	Prefix string
	Level  uint8 // syslog level 0-7 (printk level); not part of the line
	Flags  uint8 // NF_LOG_* bits (FlagTCPSeq, ...)
	// In and Out are the devices the hook passes ("" when none): no
	// input device on OUTPUT and on POSTROUTING of local packets, no
	// output device on PREROUTING and INPUT. POSTROUTING of a forwarded
	// packet has both (ip_output passes the device it came in on), and
	// so prints its MAC too.
	In, Out string
	// MAC is the link-layer header the packet arrived with (dev->
	// hard_header_len bytes at the MAC header), printed as "MAC=" whenever
	// In is set: 14 bytes on Ethernet and veth, 14 zero bytes but the
	// EtherType on lo. nil prints "MAC= " as for a device without one
	// (tun). With FlagMACDecode an Ethernet header (14 bytes or more) is
	// decoded into MACSRC/MACDST/MACPROTO and a shorter non-empty one
	// prints nothing, as dump_mac_header does. (A VLAN tag held outside
	// the frame, VPROTO/VID, is not modelled.)
	MAC  []byte
	Mark uint32 // skb->mark, printed as MARK=0x.. when not zero
	// HasSock says the packet belongs to a local socket with a file (not
	// a time-wait or request socket, not the kernel's own ICMP and RST
	// sockets, and no more once loopback_xmit has orphaned it on its way
	// back in); UID and GID are its opener's fsuid/fsgid (--log-uid).
	HasSock  bool
	UID, GID uint32
}

// AppendLine appends the line exactly as dmesg shows it after the
// timestamp (no "<level>", no newline), e.g.
//
//	[INPUT] IN=eth0 OUT= MAC=... SRC=10.0.0.2 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=... DF PROTO=TCP SPT=... DPT=22 WINDOW=... RES=0x00 SYN URGP=0
//
// with the trailing space the kernel leaves. The IP packet is p.Data (see
// the package comment); its family is p's, or the version nibble of Data
// for a packet that did not decode. AppendLine allocates nothing when b
// has room for the line (MaxLine bytes are always enough).
func AppendLine(b []byte, p *packet.Packet, m *Meta) []byte {
	start := len(b)
	b = appendCommon(b, m)
	if m.In != "" {
		b = appendMACHeader(b, m)
	}
	s := skb(p.Data)
	if isIPv6(p) {
		b = dumpIPv6(b, s, 0, true, m)
	} else {
		b = dumpIPv4(b, s, 0, m)
	}
	if len(b)-start > MaxLine {
		b = b[:start+MaxLine]
	}
	return b
}

func isIPv6(p *packet.Packet) bool {
	switch {
	case p.Layers&packet.LayerIPv6 != 0:
		return true
	case p.Layers&packet.LayerIPv4 != 0:
		return false
	}
	return len(p.Data) > 0 && p.Data[0]>>4 == 6
}

// appendCommon is nf_log_dump_packet_common: prefix, IN=, OUT=.
func appendCommon(b []byte, m *Meta) []byte {
	prefix := m.Prefix
	// The prefix goes through vsnprintf into a 128-byte C string.
	for i := 0; i < len(prefix); i++ {
		if prefix[i] == 0 {
			prefix = prefix[:i]
			break
		}
	}
	if len(prefix) > maxPrefix {
		prefix = prefix[:maxPrefix]
	}
	b = append(b, prefix...)
	b = append(b, "IN="...)
	b = append(b, m.In...)
	b = append(b, " OUT="...)
	b = append(b, m.Out...)
	return append(b, ' ')
}

// appendMACHeader is dump_mac_header, called only for packets with an
// input device.
func appendMACHeader(b []byte, m *Meta) []byte {
	mac := m.MAC
	if m.Flags&FlagMACDecode != 0 && len(mac) > 0 {
		if len(mac) < 14 {
			return b
		}
		b = append(b, "MACSRC="...)
		b = appendMAC(b, mac[6:12])
		b = append(b, " MACDST="...)
		b = appendMAC(b, mac[0:6])
		b = append(b, " MACPROTO="...)
		b = appendHex2(b, mac[12], hexLower)
		b = appendHex2(b, mac[13], hexLower)
		return append(b, ' ')
	}
	b = append(b, "MAC="...)
	for i, c := range mac {
		if i > 0 {
			b = append(b, ':')
		}
		b = appendHex2(b, c, hexLower)
	}
	return append(b, ' ')
}

// appendOwner is the end of dump_ipv4_packet / dump_ipv6_packet for the
// outer packet: nf_log_dump_sk_uid_gid and the mark.
func appendOwner(b []byte, m *Meta) []byte {
	if m.Flags&FlagUID != 0 && m.HasSock {
		b = append(b, "UID="...)
		b = appendUint(b, m.UID)
		b = append(b, " GID="...)
		b = appendUint(b, m.GID)
		b = append(b, ' ')
	}
	if m.Mark != 0 {
		b = append(b, "MARK=0x"...)
		b = appendHexU32(b, m.Mark)
		b = append(b, ' ')
	}
	return b
}
