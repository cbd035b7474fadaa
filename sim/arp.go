package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// ARP (RFC 826) for IPv4 over Ethernet: the frames the simulator's
// neighbour layer sends, and tcpdump's line for them.

const (
	arpRequest = 1
	arpReply   = 2
	arpLen     = 28
)

type arpMsg struct {
	op       uint16
	sha, tha [6]byte
	spa, tpa netip.Addr
}

// appendARPFrame appends an Ethernet frame carrying m (unpadded: the
// sending NIC pads it, and a capture on the sender shows 42 bytes).
func appendARPFrame(b []byte, dst, src [6]byte, m *arpMsg) []byte {
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, 0x0806)
	b = binary.BigEndian.AppendUint16(b, 1)      // Ethernet
	b = binary.BigEndian.AppendUint16(b, 0x0800) // IPv4
	b = append(b, 6, 4)
	b = binary.BigEndian.AppendUint16(b, m.op)
	b = append(b, m.sha[:]...)
	spa := m.spa.As4()
	b = append(b, spa[:]...)
	b = append(b, m.tha[:]...)
	tpa := m.tpa.As4()
	return append(b, tpa[:]...)
}

// parseARP reads an Ethernet/IPv4 ARP message (the payload after the
// Ethernet header).
func parseARP(b []byte) (arpMsg, bool) {
	var m arpMsg
	if len(b) < arpLen || binary.BigEndian.Uint16(b[0:]) != 1 || binary.BigEndian.Uint16(b[2:]) != 0x0800 ||
		b[4] != 6 || b[5] != 4 {
		return m, false
	}
	m.op = binary.BigEndian.Uint16(b[6:])
	copy(m.sha[:], b[8:14])
	m.spa = netip.AddrFrom4([4]byte(b[14:18]))
	copy(m.tha[:], b[18:24])
	m.tpa = netip.AddrFrom4([4]byte(b[24:28]))
	return m, true
}

// arpSummary is tcpdump -nn's line for an ARP message (print-arp.c),
// e.g. "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28".
func arpSummary(b []byte) string {
	m, ok := parseARP(b)
	if !ok {
		return fmt.Sprintf("ARP, length %d", len(b))
	}
	switch m.op {
	case arpRequest:
		return fmt.Sprintf("ARP, Request who-has %s tell %s, length %d", m.tpa, m.spa, len(b))
	case arpReply:
		return fmt.Sprintf("ARP, Reply %s is-at %s, length %d", m.spa, formatMAC(m.sha), len(b))
	}
	return fmt.Sprintf("ARP, Unknown (%d), length %d", m.op, len(b))
}
