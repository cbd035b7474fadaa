package pktspec

import (
	"errors"
	"fmt"

	"github.com/iptwin/iptwin/packet"
)

func pad4(n int) int { return (n + 3) &^ 3 }

// ipHeaderLen is the IP header with its options or fragment header.
func (s *Spec) ipHeaderLen() int {
	if s.IsIPv6() {
		if s.Frag {
			return 48
		}
		return 40
	}
	return 20 + pad4(len(s.IPOptions))
}

// transportLen is the transport header (with the ESP header or non-ESP
// marker in UDP).
func (s *Spec) transportLen() int {
	switch s.Proto {
	case packet.ProtoTCP:
		if s.TCPOptions != nil {
			return 20 + pad4(len(s.TCPOptions))
		}
		return 20 + len(s.tcpOptions())
	case packet.ProtoUDP:
		switch {
		case s.UDPESP:
			return 16
		case s.IKE:
			return 12
		}
		return 8
	case packet.ProtoICMP, packet.ProtoICMPv6, packet.ProtoESP:
		return 8
	}
	return 0
}

// headerLen is every header before the payload of a whole datagram.
func (s *Spec) headerLen() int { return s.ipHeaderLen() + s.transportLen() }

func (s *Spec) tcpOptions() []byte {
	if s.TCPOptions != nil {
		return s.TCPOptions
	}
	t := packet.TCP{MSS: s.MSS, TSVal: s.TSVal, TSEcr: s.TSEcr}
	if s.MSS != 0 {
		t.Opts |= packet.OptMSS
	}
	if s.WScale >= 0 {
		t.Opts |= packet.OptWScale
		t.WScale = uint8(s.WScale)
	}
	if s.SACKOK {
		t.Opts |= packet.OptSACKPermitted
	}
	if s.TS {
		t.Opts |= packet.OptTimestamp
	}
	if t.Opts == 0 {
		return nil
	}
	return t.AppendOptions(nil)
}

// defaultQuote is how much of an n-byte packet Linux quotes in an error
// (icmp_send: the error fits 576 bytes; icmp6_send: 1280).
func (s *Spec) defaultQuote(n int) int {
	if s.IsIPv6() {
		return min(n, packet.ICMPv6QuoteMax)
	}
	return min(n, packet.ICMPQuoteMax)
}

// check validates a Spec, also one built by hand.
func (s *Spec) check() error {
	switch {
	case !s.Src.IsValid() || !s.Dst.IsValid():
		return errors.New("pktspec: missing address")
	case s.Src.Zone() != "" || s.Dst.Zone() != "":
		return errors.New("pktspec: address with a zone")
	case s.Src.Is4() != s.Dst.Is4():
		return errors.New("pktspec: source and destination of different families")
	case s.Proto == packet.ProtoICMP && s.IsIPv6(), s.Proto == packet.ProtoICMPv6 && !s.IsIPv6():
		return errors.New("pktspec: ICMP of the other IP version")
	case s.FragOff%8 != 0 || s.FragOff < 0 || s.FragOff > 65528:
		return fmt.Errorf("pktspec: fragment offset %d is not a multiple of 8 up to 65528", s.FragOff)
	case s.IsIPv6() && (s.CE || s.DF || s.IPID != 0 || len(s.IPOptions) > 0):
		return errors.New("pktspec: IPv4 fields on an IPv6 packet")
	case !s.IsIPv6() && (s.Frag || s.Flow != 0):
		return errors.New("pktspec: IPv6 fields on an IPv4 packet")
	case s.Flow > 0xfffff || s.TCPRes > 15 || s.WScale > 255 || s.WScale < -1:
		return errors.New("pktspec: field out of range")
	case len(s.IPOptions) > 40 || len(s.TCPOptions) > 40:
		return errors.New("pktspec: more than 40 bytes of options")
	case s.UDPESP && s.IKE:
		return errors.New("pktspec: ESP in UDP and IKE marker together")
	case s.Len < 0 || s.Payload < 0 || s.Quote < 0 || s.Len > 0xffff+40 || (!s.IsIPv6() && s.Len > 0xffff):
		return errors.New("pktspec: length out of range")
	case s.AckPeer:
		return errors.New("pktspec: ack peer+N needs the peer's sequence number (Resolve)")
	}
	if s.Inner != nil {
		if !s.isError() {
			return errors.New("pktspec: only ICMP errors quote a packet")
		}
		if s.Inner.Inner != nil {
			return errors.New("pktspec: a quoted packet quoting another")
		}
		if s.Inner.IsIPv6() != s.IsIPv6() {
			return errors.New("pktspec: quoted packet of the other IP version")
		}
	}
	return nil
}

// payload returns the bytes after the transport header of the datagram.
func (s *Spec) payload() ([]byte, error) {
	if s.Inner != nil {
		in, err := s.Inner.Append(nil)
		if err != nil {
			return nil, fmt.Errorf("quoted packet: %w", err)
		}
		q := s.Quote
		if q == 0 {
			q = s.defaultQuote(len(in))
		}
		if q > len(in) {
			return nil, fmt.Errorf("pktspec: quote %d is longer than the quoted packet (%d bytes)", q, len(in))
		}
		return in[:q], nil
	}
	if s.Data != nil {
		return s.Data, nil
	}
	return make([]byte, s.Payload), nil
}

// Append appends the IP packet the spec describes to dst, with lengths and
// checksums computed (packet.Headers.Append). A fragment carries its slice
// of the whole datagram, whose transport checksum covers all of it.
func (s Spec) Append(dst []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return dst, err
	}
	pl, err := s.payload()
	if err != nil {
		return dst, err
	}
	v6 := s.IsIPv6()
	var h packet.Headers
	s.setIP(&h)
	h.Proto = s.Proto
	h.Payload = pl
	switch s.Proto {
	case packet.ProtoTCP:
		h.Layers |= packet.LayerTCP
		h.TCP = packet.TCP{SrcPort: s.SrcPort, DstPort: s.DstPort, Seq: s.Seq, Ack: s.Ack,
			Reserved: s.TCPRes, Flags: s.TCPFlags, Window: s.Win, Urgent: s.Urp, Options: s.tcpOptions()}
	case packet.ProtoUDP:
		h.Layers |= packet.LayerUDP
		h.UDP = packet.UDP{SrcPort: s.SrcPort, DstPort: s.DstPort}
		switch {
		case s.UDPESP:
			h.Layers |= packet.LayerESP
			h.ESP = packet.ESP{SPI: s.SPI, Seq: s.Seq}
		case s.IKE:
			h.Layers |= packet.LayerIKE
		}
	case packet.ProtoICMP:
		h.Layers |= packet.LayerICMPv4
		h.ICMP = packet.ICMP{Type: s.ICMPType, Code: s.ICMPCode, Rest: s.ICMPRest}
	case packet.ProtoICMPv6:
		h.Layers |= packet.LayerICMPv6
		h.ICMP = packet.ICMP{Type: s.ICMPType, Code: s.ICMPCode, Rest: s.ICMPRest}
	case packet.ProtoESP:
		h.Layers |= packet.LayerESP
		h.ESP = packet.ESP{SPI: s.SPI, Seq: s.Seq}
	}
	if !s.IsFragment() {
		start := len(dst)
		out, err := h.Append(dst, packet.FixAll)
		if err != nil {
			return dst, err
		}
		if s.Len != 0 && len(out)-start != s.Len {
			return dst, fmt.Errorf("pktspec: len %d disagrees with the packet's %d bytes", s.Len, len(out)-start)
		}
		return out, nil
	}
	// A fragment: the whole datagram first (without fragment header), then
	// the fragment's slice of it behind a new IP header.
	whole := h
	whole.Layers &^= packet.LayerFragment
	whole.NumExt = 0
	whole.IPv4.Flags, whole.IPv4.FragOff = 0, 0
	full, err := whole.Append(nil, packet.FixAll)
	if err != nil {
		return dst, err
	}
	iphl := 40
	if !v6 {
		iphl = 20 + pad4(len(s.IPOptions))
	}
	data := full[iphl:]
	if s.FragOff > len(data) {
		return dst, fmt.Errorf("pktspec: fragment offset %d past the end of the %d-byte datagram", s.FragOff, len(data))
	}
	n := len(data) - s.FragOff
	if s.Len != 0 {
		n = s.Len - s.ipHeaderLen()
		if n < 0 || s.FragOff+n > len(data) {
			return dst, fmt.Errorf("pktspec: fragment of len %d runs past the end of the %d-byte datagram", s.Len, len(data))
		}
	}
	var f packet.Headers
	s.setIP(&f)
	f.Proto = s.Proto
	f.Payload = data[s.FragOff : s.FragOff+n]
	return f.Append(dst, packet.FixAll)
}

// setIP fills the IP header fields (and the IPv6 fragment header).
func (s *Spec) setIP(h *packet.Headers) {
	if s.IsIPv6() {
		h.Layers = packet.LayerIPv6
		h.IPv6 = packet.IPv6{TrafficClass: s.TOS, FlowLabel: s.Flow, HopLimit: s.TTL, Src: s.Src, Dst: s.Dst}
		if s.Frag {
			h.Layers |= packet.LayerFragment
			h.Ext[0] = packet.Ext{Proto: packet.ProtoFragment}
			h.NumExt = 1
			h.IPv6.Frag = packet.IPv6Frag{Offset: uint16(s.FragOff / 8), More: s.MF, ID: s.FragID}
		}
		return
	}
	h.Layers = packet.LayerIPv4
	h.IPv4 = packet.IPv4{TOS: s.TOS, ID: s.IPID, TTL: s.TTL, Src: s.Src, Dst: s.Dst,
		FragOff: uint16(s.FragOff / 8), Options: s.IPOptions}
	if s.DF {
		h.IPv4.Flags |= packet.IPv4DF
	}
	if s.CE {
		h.IPv4.Flags |= packet.IPv4Evil
	}
	if s.MF {
		h.IPv4.Flags |= packet.IPv4MF
	}
}
