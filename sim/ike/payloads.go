package ike

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// saPayload encodes proposals (numbered from 1); spi is the ESP/AH SPI
// of a CHILD_SA proposal (none for IKE_SA_INIT).
func saPayload(ps []*Proposal, spi uint32) payload {
	var b []byte
	for i, p := range ps {
		more := byte(2)
		if i == len(ps)-1 {
			more = 0
		}
		start := len(b)
		spiSize := 0
		if p.Proto != protoIKE {
			spiSize = 4
		}
		b = append(b, more, 0, 0, 0, byte(i+1), p.Proto, byte(spiSize), byte(len(p.Transforms)))
		if spiSize == 4 {
			b = binary.BigEndian.AppendUint32(b, spi)
		}
		for j, t := range p.Transforms {
			last := byte(3)
			if j == len(p.Transforms)-1 {
				last = 0
			}
			tl := 8
			if t.KeyLen != 0 {
				tl = 12
			}
			b = append(b, last, 0, 0, byte(tl), t.Type, 0)
			b = binary.BigEndian.AppendUint16(b, t.ID)
			if t.KeyLen != 0 {
				b = append(b, 0x80, 0x0e)
				b = binary.BigEndian.AppendUint16(b, t.KeyLen)
			}
		}
		binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	}
	return payload{typ: plSA, body: b}
}

// parseSA decodes an SA payload's proposals and the SPI of the first.
func parseSA(b []byte) ([]*Proposal, uint32, bool) {
	var out []*Proposal
	var spi uint32
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, 0, false
		}
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 8 || l > len(b) {
			return nil, 0, false
		}
		p := &Proposal{Proto: b[5]}
		spiSize, n := int(b[6]), int(b[7])
		body := b[8:l]
		if len(body) < spiSize {
			return nil, 0, false
		}
		if spiSize == 4 && spi == 0 {
			spi = binary.BigEndian.Uint32(body)
		}
		body = body[spiSize:]
		for i := 0; i < n; i++ {
			if len(body) < 8 {
				return nil, 0, false
			}
			tl := int(binary.BigEndian.Uint16(body[2:]))
			if tl < 8 || tl > len(body) {
				return nil, 0, false
			}
			t := Transform{Type: body[4], ID: binary.BigEndian.Uint16(body[6:])}
			if tl >= 12 && body[8] == 0x80 && body[9] == 0x0e {
				t.KeyLen = binary.BigEndian.Uint16(body[10:])
			}
			p.Transforms = append(p.Transforms, t)
			body = body[tl:]
		}
		out = append(out, p)
		b = b[l:]
	}
	return out, spi, len(out) > 0
}

// Identification types (RFC 7296 3.5).
const (
	idIPv4  = 1
	idFQDN  = 2
	idEmail = 3
	idIPv6  = 5
	idDN    = 9
	idKeyID = 11
)

// identity is an IKE identity as charon parses it from a string
// (identification_create_from_string).
type identity struct {
	typ  uint8
	data []byte
	text string // as charon prints it (%Y)
}

func parseIdentity(s string) identity {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is4() {
			b := a.As4()
			return identity{idIPv4, b[:], a.String()}
		}
		b := a.As16()
		return identity{idIPv6, b[:], a.String()}
	}
	if strings.HasPrefix(s, "@#") {
		return identity{idKeyID, []byte(s[2:]), s}
	}
	if strings.HasPrefix(s, "@") {
		return identity{idFQDN, []byte(s[1:]), s[1:]}
	}
	if strings.Contains(s, "=") {
		der := derDN(s)
		return identity{idDN, der, dnText(der)}
	}
	if strings.Contains(s, "@") {
		return identity{idEmail, []byte(s), s}
	}
	return identity{idFQDN, []byte(s), s}
}

func addrIdentity(a netip.Addr) identity { return parseIdentity(a.String()) }

func (id identity) payload(typ uint8) payload {
	return payload{typ: typ, body: append([]byte{id.typ, 0, 0, 0}, id.data...)}
}

func (id identity) equal(o identity) bool {
	if id.typ == idDN && o.typ == idDN {
		return sameDN(id.data, o.data)
	}
	return id.typ == o.typ && string(id.data) == string(o.data)
}

func identityFromPayload(b []byte) (identity, bool) {
	if len(b) < 4 {
		return identity{}, false
	}
	id := identity{typ: b[0], data: b[4:]}
	switch id.typ {
	case idIPv4:
		if a, ok := netip.AddrFromSlice(id.data); ok {
			id.text = a.String()
		}
	case idIPv6:
		if a, ok := netip.AddrFromSlice(id.data); ok {
			id.text = a.String()
		}
	case idDN:
		id.text = dnText(id.data)
	default:
		id.text = string(id.data)
	}
	return id, true
}

// derDN encodes a "C=CH, O=strongSwan, CN=moon" DN as DER: a SEQUENCE of
// SETs of SEQUENCE { OID, UTF8String } (PrintableString for C).
func derDN(s string) []byte {
	oids := map[string][]byte{
		"C": {85, 4, 6}, "ST": {85, 4, 8}, "L": {85, 4, 7}, "O": {85, 4, 10}, "OU": {85, 4, 11},
		"CN": {85, 4, 3}, "SN": {85, 4, 5},
		"E": {42, 134, 72, 134, 247, 13, 1, 9, 1}, "EMAIL": {42, 134, 72, 134, 247, 13, 1, 9, 1},
	}
	var seq []byte
	for _, rdn := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		oid, known := oids[strings.ToUpper(strings.TrimSpace(k))]
		if !ok || !known {
			continue
		}
		tag := byte(0x0c)
		if strings.EqualFold(k, "C") {
			tag = 0x13
		}
		if strings.HasPrefix(strings.ToUpper(k), "E") {
			tag = 0x16
		}
		atv := append(derTLV(0x06, oid), derTLV(tag, []byte(strings.TrimSpace(v)))...)
		seq = append(seq, derTLV(0x31, derTLV(0x30, atv))...)
	}
	return derTLV(0x30, seq)
}

func derTLV(tag byte, v []byte) []byte {
	b := []byte{tag}
	switch n := len(v); {
	case n < 128:
		b = append(b, byte(n))
	case n < 256:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, v...)
}

// tsPayload encodes traffic selectors (all protocols and ports).
func tsPayload(typ uint8, ts []netip.Prefix) payload {
	b := []byte{byte(len(ts)), 0, 0, 0}
	for _, p := range ts {
		first, last := prefixRange(p)
		if p.Addr().Is4() {
			b = append(b, 7, 0, 0, 16, 0, 0, 0xff, 0xff)
			f, l := first.As4(), last.As4()
			b = append(append(b, f[:]...), l[:]...)
		} else {
			b = append(b, 8, 0, 0, 40, 0, 0, 0xff, 0xff)
			f, l := first.As16(), last.As16()
			b = append(append(b, f[:]...), l[:]...)
		}
	}
	return payload{typ: typ, body: b}
}

// parseTS decodes a TS payload as prefixes (ranges that are not a
// prefix are widened to the covering one).
func parseTS(b []byte) ([]netip.Prefix, bool) {
	if len(b) < 4 {
		return nil, false
	}
	n := int(b[0])
	b = b[4:]
	var out []netip.Prefix
	for i := 0; i < n; i++ {
		if len(b) < 8 {
			return nil, false
		}
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l > len(b) || (l != 16 && l != 40) {
			return nil, false
		}
		half := (l - 8) / 2
		first, _ := netip.AddrFromSlice(b[8 : 8+half])
		last, _ := netip.AddrFromSlice(b[8+half : l])
		out = append(out, rangePrefix(first, last))
		b = b[l:]
	}
	return out, true
}

func prefixRange(p netip.Prefix) (netip.Addr, netip.Addr) {
	p = p.Masked()
	first := p.Addr()
	b := first.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(b)
	return first, last
}

// rangePrefix is the smallest prefix covering first..last.
func rangePrefix(first, last netip.Addr) netip.Prefix {
	bits := first.BitLen()
	for l := bits; l >= 0; l-- {
		p := netip.PrefixFrom(first, l).Masked()
		if p.Contains(last) && p.Addr() == first {
			return p
		}
		if p.Contains(last) {
			return p
		}
	}
	return netip.PrefixFrom(first, 0).Masked()
}

// narrow intersects the proposed selectors with the configured ones
// (traffic_selector_t get_subset), in the order of the configured ones.
func narrow(config, proposed []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range config {
		for _, p := range proposed {
			if c.Addr().Is4() != p.Addr().Is4() {
				continue
			}
			switch {
			case c.Bits() >= p.Bits() && p.Contains(c.Addr()):
				out = appendUnique(out, c)
			case p.Bits() > c.Bits() && c.Contains(p.Addr()):
				out = appendUnique(out, p)
			}
		}
	}
	return out
}

func appendUnique(ps []netip.Prefix, p netip.Prefix) []netip.Prefix {
	for _, q := range ps {
		if q == p {
			return ps
		}
	}
	return append(ps, p)
}

// tsString is charon's %R of a selector list ("192.168.200.0/24").
func tsString(ts []netip.Prefix) string {
	var parts []string
	for _, p := range ts {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, " ")
}
