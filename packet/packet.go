package packet

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers used by the decoder.
const (
	ProtoHopByHop = 0
	ProtoICMP     = 1
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoIPv6     = 41
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoESP      = 50
	ProtoAH       = 51
	ProtoICMPv6   = 58
	ProtoNoNext   = 59
	ProtoDstOpts  = 60
)

// EtherType values understood by DecodeEthernet.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeVLAN = 0x8100
	EtherTypeIPv6 = 0x86dd
)

// PortIPsecNATT is the UDP port of IPsec NAT traversal (RFC 3948): UDP
// payloads starting with a non-zero SPI are ESP, a zero "non-ESP marker"
// introduces IKE.
const PortIPsecNATT = 4500

// Layer is a bit set of the headers a Headers value holds.
type Layer uint32

const (
	LayerEthernet Layer = 1 << iota
	LayerIPv4
	LayerIPv6
	LayerFragment // IPv6 fragment header present (IPv6.Frag valid)
	LayerAH       // an AH header is in the chain (AH valid)
	LayerTCP
	LayerUDP
	LayerICMPv4
	LayerICMPv6
	LayerESP // ESP header (directly in IP or in UDP on port 4500)
	LayerIKE // UDP port 4500 payload after a non-ESP marker
	LayerInner
)

// Has reports whether all layers of l2 are in l.
func (l Layer) Has(l2 Layer) bool { return l&l2 == l2 }

// Ethernet is an Ethernet II header (with at most one 802.1Q tag).
type Ethernet struct {
	Dst, Src  [6]byte
	VLAN      uint16 // TCI of the 802.1Q tag when HasVLAN
	HasVLAN   bool
	EtherType uint16 // of the payload (after the tag)
}

// IPv4 header flags (in Flags, the three top bits of the fragment word).
const (
	IPv4Evil = 0x4 // reserved bit ("rsvd" in tcpdump, RFC 3514)
	IPv4DF   = 0x2
	IPv4MF   = 0x1
)

// IPv4 is an IPv4 header. Options are the raw option bytes (IHL*4-20 of
// them when decoded); lengths and checksum are as on the wire.
type IPv4 struct {
	IHL      uint8 // header length in 32-bit words
	TOS      uint8
	TotalLen uint16
	ID       uint16
	Flags    uint8  // IPv4Evil|IPv4DF|IPv4MF
	FragOff  uint16 // in 8-byte units
	TTL      uint8
	Protocol uint8
	Checksum uint16
	Src, Dst netip.Addr
	Options  []byte
}

// IPv6 is the fixed IPv6 header plus the fragment header's fields when the
// chain has one (Layers has LayerFragment).
type IPv6 struct {
	TrafficClass uint8
	FlowLabel    uint32
	PayloadLen   uint16
	NextHeader   uint8
	HopLimit     uint8
	Src, Dst     netip.Addr
	Frag         IPv6Frag
}

// IPv6Frag is the IPv6 fragment header.
type IPv6Frag struct {
	NextHeader uint8
	Reserved   uint8
	Offset     uint16 // in 8-byte units
	Res2       uint8  // the two reserved bits next to M
	More       bool
	ID         uint32
}

// MaxExt bounds the extension header chain a Headers value can hold.
const MaxExt = 8

// Ext is one header of the chain between the IP header and the transport
// header: IPv6 hop-by-hop, routing, destination options, fragment, or AH
// (IPv4 and IPv6). Data is the whole header, as on the wire; Next is its
// next-header byte (Data[0]), which the encoder writes from this field.
type Ext struct {
	Proto uint8 // what this header is (ProtoHopByHop, ProtoRouting, ...)
	Next  uint8
	Data  []byte
}

// AH is the IP Authentication Header (RFC 4302).
type AH struct {
	NextHeader uint8
	Len        uint8 // in 32-bit words minus 2
	Reserved   uint16
	SPI        uint32
	Seq        uint32
	ICV        []byte
}

// TCP flag bits (TCP.Flags).
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// TCPOpt marks the options the decoder found (TCP.Opts).
type TCPOpt uint8

const (
	OptMSS TCPOpt = 1 << iota
	OptWScale
	OptSACKPermitted
	OptSACK
	OptTimestamp
	OptMalformed // an option ran past the header or had length < 2
)

// TCP is a TCP header. Options holds the raw option bytes; MSS, WScale,
// TSVal, TSEcr and SACK are parsed from them (Opts says which were found).
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	DataOff          uint8 // header length in 32-bit words
	Reserved         uint8 // the 4 bits between data offset and flags (incl. AE/NS)
	Flags            uint8
	Window           uint16
	Checksum         uint16
	Urgent           uint16
	Options          []byte

	Opts         TCPOpt
	MSS          uint16
	WScale       uint8
	TSVal, TSEcr uint32
	SACK         []byte // SACK blocks, 8 bytes each (left, right edge)
}

// SACKBlocks is the number of SACK blocks.
func (t *TCP) SACKBlocks() int { return len(t.SACK) / 8 }

// SACKBlock returns the left and right edges of SACK block i.
func (t *TCP) SACKBlock(i int) (left, right uint32) {
	if i < 0 || 8*i+8 > len(t.SACK) {
		return 0, 0
	}
	b := t.SACK[8*i:]
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
}

// UDP is a UDP header.
type UDP struct {
	SrcPort, DstPort uint16
	Length           uint16
	Checksum         uint16
}

// ICMP is an ICMP or ICMPv6 header: type, code, checksum and the 32-bit
// word after them (Rest), whose meaning depends on the type (echo id and
// sequence, next-hop MTU, pointer, gateway). The message body follows in
// Headers.Payload; for error messages it quotes the offending packet, which
// Decode decodes into Packet.Inner.
type ICMP struct {
	Type, Code uint8
	Checksum   uint16
	Rest       uint32
}

// ID is the echo identifier.
func (c *ICMP) ID() uint16 { return uint16(c.Rest >> 16) }

// Seq is the echo sequence number.
func (c *ICMP) Seq() uint16 { return uint16(c.Rest) }

// SetEcho sets the echo identifier and sequence number.
func (c *ICMP) SetEcho(id, seq uint16) { c.Rest = uint32(id)<<16 | uint32(seq) }

// MTU is the next-hop MTU of an IPv4 "fragmentation needed" (low 16 bits)
// or the MTU of an ICMPv6 "packet too big" (all 32 bits).
func (c *ICMP) MTU(v6 bool) uint32 {
	if v6 {
		return c.Rest
	}
	return c.Rest & 0xffff
}

// ICMP and ICMPv6 types the package names.
const (
	ICMPEchoReply      = 0
	ICMPUnreachable    = 3
	ICMPSourceQuench   = 4
	ICMPRedirect       = 5
	ICMPEcho           = 8
	ICMPTimeExceeded   = 11
	ICMPParamProblem   = 12
	ICMPv6Unreachable  = 1
	ICMPv6PacketTooBig = 2
	ICMPv6TimeExceeded = 3
	ICMPv6ParamProblem = 4
	ICMPv6EchoRequest  = 128
	ICMPv6EchoReply    = 129
)

// IsEcho reports whether the message is an echo request or reply (ICMP or
// ICMPv6), the messages with an identifier.
func (c *ICMP) IsEcho() bool {
	switch c.Type {
	case ICMPEchoReply, ICMPEcho, ICMPv6EchoRequest, ICMPv6EchoReply:
		return true
	}
	return false
}

// IsError reports whether the message is an ICMP error (it quotes a packet).
func (c *ICMP) IsError(v6 bool) bool {
	if v6 {
		return c.Type < 128
	}
	switch c.Type {
	case ICMPUnreachable, ICMPSourceQuench, ICMPRedirect, ICMPTimeExceeded, ICMPParamProblem:
		return true
	}
	return false
}

// ESP is the cleartext part of an ESP header; the rest (encrypted payload,
// padding, trailer and ICV) is Headers.Payload.
type ESP struct {
	SPI uint32
	Seq uint32
}

// Headers is one decoded IP packet: which layers are present, their fields,
// and slices of the decoded buffer. Packet embeds one for the packet
// itself and holds another for the packet quoted by an ICMP error.
type Headers struct {
	Layers Layer
	IPv4   IPv4
	IPv6   IPv6
	Ext    [MaxExt]Ext // the chain between IP and transport header
	NumExt uint8
	AH     AH // the first AH header of the chain, when LayerAH
	Proto  uint8
	TCP    TCP
	UDP    UDP
	ICMP   ICMP
	ESP    ESP

	// Data is the packet from the IP header to its end as given by the
	// IP length field (shorter when Truncated).
	Data []byte
	// Net is the IP header with its extension header chain; Transport the
	// transport header (TCP/UDP/ICMP, and ESP/IKE marker after UDP); Payload
	// what follows (or follows Net when no transport header was decoded).
	Net, Transport, Payload []byte
	// Pad is what follows a UDP datagram shorter than its IP packet says
	// (the kernel trims it); the encoder writes it after Payload.
	Pad []byte
	// Truncated is set on a quoted packet that ends before its length
	// fields say (normal for ICMP errors).
	Truncated bool
}

// Packet is a decoded packet: Ethernet header (DecodeEthernet only), the
// IP packet, and the packet an ICMP error quotes (Inner, when Layers has
// LayerInner). All slices point into the decoded buffer.
type Packet struct {
	Eth Ethernet
	Headers
	Inner Headers

	err Error
}

// IsIPv4 reports whether the packet is IPv4.
func (h *Headers) IsIPv4() bool { return h.Layers&LayerIPv4 != 0 }

// IsIPv6 reports whether the packet is IPv6.
func (h *Headers) IsIPv6() bool { return h.Layers&LayerIPv6 != 0 }

// Src is the source address.
func (h *Headers) Src() netip.Addr {
	if h.Layers&LayerIPv6 != 0 {
		return h.IPv6.Src
	}
	return h.IPv4.Src
}

// Dst is the destination address.
func (h *Headers) Dst() netip.Addr {
	if h.Layers&LayerIPv6 != 0 {
		return h.IPv6.Dst
	}
	return h.IPv4.Dst
}

// Ports returns the transport ports (TCP, UDP); for ICMP echo both are the
// identifier, as conntrack uses it; ok is false otherwise.
func (h *Headers) Ports() (src, dst uint16, ok bool) {
	switch {
	case h.Layers&LayerTCP != 0:
		return h.TCP.SrcPort, h.TCP.DstPort, true
	case h.Layers&LayerUDP != 0:
		return h.UDP.SrcPort, h.UDP.DstPort, true
	case h.Layers&(LayerICMPv4|LayerICMPv6) != 0 && h.ICMP.IsEcho():
		return h.ICMP.ID(), h.ICMP.ID(), true
	}
	return 0, 0, false
}
