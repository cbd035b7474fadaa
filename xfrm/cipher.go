package xfrm

import "encoding/binary"

// The twin's stand-in for the SA's cryptography. Nothing here protects
// anything: the point is that the bytes are a deterministic function of
// the keys, the sequence number and the data, with the kernel's sizes, so
// that two twin peers with the same keys interoperate, peers whose keys
// differ fail the ICV check as the kernel would (integrity_failed), and
// every run gives the same packets. The keystream is XORed over the
// encrypted part; the ICV is a keyed hash of the ESP header, IV and
// ciphertext (and the high half of an extended sequence number).

const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// keyHash reduces a key (and a domain byte) to 64 bits (FNV-1a, mixed).
func keyHash(key []byte, domain byte) uint64 {
	h := uint64(14695981039346656037)
	h ^= uint64(domain)
	h *= 1099511628211
	for _, b := range key {
		h ^= uint64(b)
		h *= 1099511628211
	}
	h ^= uint64(len(key))
	return mix64(h)
}

// fillIV writes the per-packet IV (what echainiv/seqiv derive from the
// sequence number and a secret).
func fillIV(iv []byte, k uint64, seq uint64) {
	for i := 0; i < len(iv); i += 8 {
		v := mix64(k ^ 0x1f1f1f1f ^ (seq+uint64(i/8))*golden)
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], v)
		copy(iv[i:], b[:])
	}
}

// xorStream XORs b with the keystream of key k and the IV.
func xorStream(b []byte, k uint64, iv []byte) {
	s := k
	for _, c := range iv {
		s = mix64(s ^ uint64(c) ^ golden)
	}
	var blk [8]byte
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(blk[:], mix64(s+uint64(i/8+1)*golden))
		n := len(b) - i
		if n > 8 {
			n = 8
		}
		for j := 0; j < n; j++ {
			b[i+j] ^= blk[j]
		}
	}
}

// icv writes the integrity check value of data into out (len(out) bytes).
func icv(out []byte, k uint64, data []byte, seqHi uint32, esn bool) {
	h := mix64(k ^ uint64(len(data)))
	if esn {
		h = mix64(h ^ uint64(seqHi) ^ 0xe5e5)
	}
	i := 0
	for ; i+8 <= len(data); i += 8 {
		h = mix64(h ^ binary.LittleEndian.Uint64(data[i:]))
	}
	var tail uint64
	for j := 0; i+j < len(data); j++ {
		tail |= uint64(data[i+j]) << (8 * j)
	}
	h = mix64(h ^ tail ^ 0x77)
	var blk [8]byte
	for j := 0; j < len(out); j += 8 {
		binary.LittleEndian.PutUint64(blk[:], mix64(h+uint64(j/8)*golden))
		copy(out[j:], blk[:])
	}
}
