package nflog

import (
	"encoding/binary"
	"strconv"
)

var be = binary.BigEndian

const (
	hexLower = "0123456789abcdef"
	hexUpper = "0123456789ABCDEF"
)

// skb is the packet as the logger reads it: the bytes from the network
// header to skb->len.
type skb []byte

// at is skb_header_pointer: the n bytes at off, or nil when the packet
// does not hold them all.
func (s skb) at(off, n int) []byte {
	if off < 0 || n < 0 || off > len(s) || n > len(s)-off {
		return nil
	}
	return s[off : off+n : off+n]
}

// rest is skb->len - off in the kernel's unsigned arithmetic (it wraps
// when off is past the end, and the kernel prints the wrapped value).
func (s skb) rest(off int) uint32 { return uint32(len(s) - off) }

func appendUint(b []byte, v uint32) []byte { return strconv.AppendUint(b, uint64(v), 10) }

// appendHex2 is "%02x" / "%02X" of one byte.
func appendHex2(b []byte, v byte, digits string) []byte {
	return append(b, digits[v>>4], digits[v&0xf])
}

// appendHexU32 is "%x" of v.
func appendHexU32(b []byte, v uint32) []byte { return strconv.AppendUint(b, uint64(v), 16) }

// appendHex08 is "%08x" of v.
func appendHex08(b []byte, v uint32) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexLower[(v>>uint(shift))&0xf])
	}
	return b
}

// appendHexBytes is a run of "%02X", as the option dumps print.
func appendHexBytes(b []byte, p []byte) []byte {
	for _, c := range p {
		b = appendHex2(b, c, hexUpper)
	}
	return b
}

// appendIPv4 is "%pI4": dotted decimal.
func appendIPv4(b []byte, a []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(a[i]), 10)
	}
	return b
}

// appendIPv6 is "%pI6" (not "%pI6c"): eight groups of four lower-case hex
// digits, never compressed.
func appendIPv6(b []byte, a []byte) []byte {
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b = append(b, ':')
		}
		b = appendHex2(b, a[i], hexLower)
		b = appendHex2(b, a[i+1], hexLower)
	}
	return b
}

// appendMAC is "%pM": six lower-case hex pairs joined by colons.
func appendMAC(b []byte, a []byte) []byte {
	for i := 0; i < 6; i++ {
		if i > 0 {
			b = append(b, ':')
		}
		b = appendHex2(b, a[i], hexLower)
	}
	return b
}
