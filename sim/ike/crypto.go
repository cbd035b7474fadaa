package ike

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"net/netip"
)

// natdHash is the NAT detection hash of RFC 7296 2.23 as charon computes
// it (ike_natd.c generate_natd_hash): SHA1(SPIi | SPIr | IP | port).
func natdHash(spiI, spiR uint64, ap netip.AddrPort) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, spiI)
	b = binary.BigEndian.AppendUint64(b, spiR)
	b = append(b, ap.Addr().Unmap().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	h := sha1.Sum(b)
	return h[:]
}

// prfFunc is the negotiated PRF (for the PSK AUTH data, whose size is
// the PRF's output).
func prfFunc(id uint16) func() hash.Hash {
	switch id {
	case 1:
		return md5.New
	case 2:
		return sha1.New
	case 6:
		return sha512.New384
	case 7:
		return sha512.New
	}
	return sha256.New // SHA2_256, and the AES based PRFs (16 bytes, truncated)
}

func prf(id uint16, key, data []byte) []byte {
	m := hmac.New(prfFunc(id), key)
	m.Write(data)
	out := m.Sum(nil)
	if n := prfAlgs[id].size; n > 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

// keys are an IKE_SA's keys. They are derived from the exchanged
// nonces, KE data and SPIs (not a Diffie-Hellman: both ends, and anyone
// watching, compute the same), so that the model's SK payloads carry
// real payloads that only the peer reads back.
type keys struct {
	ei, er, ai, ar, pi, pr []byte
}

func deriveKeys(ni, nr, kei, ker []byte, spiI, spiR uint64) keys {
	seed := sha256.New()
	for _, b := range [][]byte{ni, nr, kei, ker} {
		seed.Write(b)
	}
	var spis [16]byte
	binary.BigEndian.PutUint64(spis[:], spiI)
	binary.BigEndian.PutUint64(spis[8:], spiR)
	seed.Write(spis[:])
	s := seed.Sum(nil)
	k := func(label string) []byte {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return keys{k("ei"), k("er"), k("ai"), k("ar"), k("pi"), k("pr")}
}

// xorStream "encrypts" in place with a keystream from the key and IV.
func xorStream(key, iv, b []byte) {
	var ctr [4]byte
	for off := 0; off < len(b); off += 32 {
		binary.BigEndian.PutUint32(ctr[:], uint32(off/32))
		m := hmac.New(sha256.New, key)
		m.Write(iv)
		m.Write(ctr[:])
		ks := m.Sum(nil)
		for i := 0; i < 32 && off+i < len(b); i++ {
			b[off+i] ^= ks[i]
		}
	}
}

// icv is the integrity check value of the message up to the ICV.
func icv(key, data []byte, n int) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	out := m.Sum(nil)
	for len(out) < n {
		out = append(out, out...)
	}
	return out[:n]
}

// pskAuth is the AUTH data of RFC 7296 2.15 for a PSK:
// prf(prf(PSK, "Key Pad for IKEv2"), octets | nonce | prf(SK_p, ID')).
func pskAuth(prfID uint16, secret, msg, nonce, skp, idBody []byte) []byte {
	octets := append(append(append([]byte(nil), msg...), nonce...), prf(prfID, skp, idBody)...)
	return prf(prfID, prf(prfID, secret, []byte("Key Pad for IKEv2")), octets)
}
