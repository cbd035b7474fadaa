package kern

import "math/bits"

// Bob Jenkins' lookup3 as include/linux/jhash.h implements it. Words are
// the u32 values the kernel loads from memory: on the little-endian hosts
// the twin imitates, a network-order address a.b.c.d is the word
// d<<24|c<<16|b<<8|a (see LEWord).

const jhashInitval = 0xdeadbeef

func rol(x uint32, k int) uint32 { return bits.RotateLeft32(x, k) }

func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= rol(c, 4)
	c += b
	b -= a
	b ^= rol(a, 6)
	a += c
	c -= b
	c ^= rol(b, 8)
	b += a
	a -= c
	a ^= rol(c, 16)
	c += b
	b -= a
	b ^= rol(a, 19)
	a += c
	c -= b
	c ^= rol(b, 4)
	b += a
	return a, b, c
}

func final(a, b, c uint32) uint32 {
	c ^= b
	c -= rol(b, 14)
	a ^= c
	a -= rol(c, 11)
	b ^= a
	b -= rol(a, 25)
	c ^= b
	c -= rol(b, 16)
	a ^= c
	a -= rol(c, 4)
	b ^= a
	b -= rol(a, 14)
	c ^= b
	c -= rol(b, 24)
	return c
}

// Jhash2 is jhash2(k, len(k), initval).
func Jhash2(k []uint32, initval uint32) uint32 {
	n := uint32(len(k))
	a := jhashInitval + n<<2 + initval
	b, c := a, a
	for len(k) > 3 {
		a += k[0]
		b += k[1]
		c += k[2]
		a, b, c = mix(a, b, c)
		k = k[3:]
	}
	switch len(k) {
	case 3:
		c += k[2]
		fallthrough
	case 2:
		b += k[1]
		fallthrough
	case 1:
		a += k[0]
		c = final(a, b, c)
	}
	return c
}

// Jhash3Words is jhash_3words(a, b, c, initval).
func Jhash3Words(a, b, c, initval uint32) uint32 {
	iv := initval + jhashInitval + 3<<2
	return final(a+iv, b+iv, c+iv)
}

// Jhash2Words is jhash_2words(a, b, initval).
func Jhash2Words(a, b, initval uint32) uint32 {
	iv := initval + jhashInitval + 2<<2
	return final(a+iv, b+iv, iv)
}

// Jhash1Word is jhash_1word(a, initval).
func Jhash1Word(a, initval uint32) uint32 {
	iv := initval + jhashInitval + 1<<2
	return final(a+iv, iv, iv)
}

// LEWord is the u32 a little-endian CPU loads from the 4 bytes b.
func LEWord(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
