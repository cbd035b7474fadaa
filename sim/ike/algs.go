package ike

import (
	"strconv"
	"strings"
)

// Transform types of IKEv2 (RFC 7296 3.3.2).
const (
	tfEncr  = 1
	tfPRF   = 2
	tfInteg = 3
	tfDH    = 4
	tfESN   = 5
)

// Transform is one transform of a proposal: its type, IANA id and key
// length in bits (0: none sent).
type Transform struct {
	Type   uint8
	ID     uint16
	KeyLen uint16
}

// encrAlg describes an encryption algorithm as charon and the kernel
// know it.
type encrAlg struct {
	name    string // strongSwan's enum name (AES_CBC)
	kernel  string // xfrm name (cbc(aes))
	block   int    // block size for the SK padding (1 for AEAD/stream)
	iv      int    // IV size
	icv     int    // ICV size for AEAD (0: needs an integrity algorithm)
	salt    int    // bytes of salt added to the kernel key
	fixed   uint16 // fixed key length in bits (no key length attribute)
	keyAttr bool   // a key length attribute is sent
}

var encrAlgs = map[uint16]encrAlg{
	3:  {name: "3DES_CBC", kernel: "cbc(des3_ede)", block: 8, iv: 8, fixed: 192},
	11: {name: "NULL", kernel: "ecb(cipher_null)", block: 1, iv: 0, fixed: 0},
	12: {name: "AES_CBC", kernel: "cbc(aes)", block: 16, iv: 16, keyAttr: true},
	13: {name: "AES_CTR", kernel: "rfc3686(ctr(aes))", block: 1, iv: 8, salt: 4, keyAttr: true},
	14: {name: "AES_CCM_8", kernel: "rfc4309(ccm(aes))", block: 1, iv: 8, icv: 8, salt: 3, keyAttr: true},
	15: {name: "AES_CCM_12", kernel: "rfc4309(ccm(aes))", block: 1, iv: 8, icv: 12, salt: 3, keyAttr: true},
	16: {name: "AES_CCM_16", kernel: "rfc4309(ccm(aes))", block: 1, iv: 8, icv: 16, salt: 3, keyAttr: true},
	18: {name: "AES_GCM_8", kernel: "rfc4106(gcm(aes))", block: 1, iv: 8, icv: 8, salt: 4, keyAttr: true},
	19: {name: "AES_GCM_12", kernel: "rfc4106(gcm(aes))", block: 1, iv: 8, icv: 12, salt: 4, keyAttr: true},
	20: {name: "AES_GCM_16", kernel: "rfc4106(gcm(aes))", block: 1, iv: 8, icv: 16, salt: 4, keyAttr: true},
	24: {name: "CAMELLIA_CTR", kernel: "rfc3686(ctr(camellia))", block: 1, iv: 8, salt: 4, keyAttr: true},
	23: {name: "CAMELLIA_CBC", kernel: "cbc(camellia)", block: 16, iv: 16, keyAttr: true},
	28: {name: "CHACHA20_POLY1305", kernel: "rfc7539esp(chacha20,poly1305)", block: 1, iv: 8, icv: 16, salt: 4, fixed: 256},
}

// integAlg is an integrity algorithm: its truncation is the ICV size.
type integAlg struct {
	name   string
	kernel string
	trunc  int // ICV bits
	key    int // key bytes
	prf    uint16
}

var integAlgs = map[uint16]integAlg{
	1:  {"HMAC_MD5_96", "hmac(md5)", 96, 16, 1},
	2:  {"HMAC_SHA1_96", "hmac(sha1)", 96, 20, 2},
	5:  {"AES_XCBC_96", "xcbc(aes)", 96, 16, 4},
	8:  {"AES_CMAC_96", "cmac(aes)", 96, 16, 8},
	12: {"HMAC_SHA2_256_128", "hmac(sha256)", 128, 32, 5},
	13: {"HMAC_SHA2_384_192", "hmac(sha384)", 192, 48, 6},
	14: {"HMAC_SHA2_512_256", "hmac(sha512)", 256, 64, 7},
}

// prfNames and their output sizes (the size of a PSK AUTH).
var prfAlgs = map[uint16]struct {
	name string
	size int
}{
	1: {"PRF_HMAC_MD5", 16}, 2: {"PRF_HMAC_SHA1", 20}, 4: {"PRF_AES128_XCBC", 16},
	5: {"PRF_HMAC_SHA2_256", 32}, 6: {"PRF_HMAC_SHA2_384", 48}, 7: {"PRF_HMAC_SHA2_512", 64},
	8: {"PRF_AES128_CMAC", 16},
}

// dhGroups: name and the size of a KE payload's data.
var dhGroups = map[uint16]struct {
	name string
	size int
}{
	1: {"MODP_768", 96}, 2: {"MODP_1024", 128}, 5: {"MODP_1536", 192},
	14: {"MODP_2048", 256}, 15: {"MODP_3072", 384}, 16: {"MODP_4096", 512},
	17: {"MODP_6144", 768}, 18: {"MODP_8192", 1024},
	19: {"ECP_256", 64}, 20: {"ECP_384", 96}, 21: {"ECP_521", 132},
	22: {"MODP_1024_160", 128}, 23: {"MODP_2048_224", 256}, 24: {"MODP_2048_256", 256},
	25: {"ECP_192", 48}, 26: {"ECP_224", 56},
	27: {"ECP_224_BP", 56}, 28: {"ECP_256_BP", 64}, 29: {"ECP_384_BP", 96}, 30: {"ECP_512_BP", 128},
	31: {"CURVE_25519", 32}, 32: {"CURVE_448", 56},
}

// keyword is one token of a proposal string (proposal_keywords_static.txt).
type keyword struct {
	typ    uint8
	id     uint16
	keylen uint16
}

var keywords = map[string]keyword{
	"null": {tfEncr, 11, 0}, "3des": {tfEncr, 3, 0},
	"aes": {tfEncr, 12, 128}, "aes128": {tfEncr, 12, 128}, "aes192": {tfEncr, 12, 192}, "aes256": {tfEncr, 12, 256},
	"aes128ctr": {tfEncr, 13, 128}, "aes192ctr": {tfEncr, 13, 192}, "aes256ctr": {tfEncr, 13, 256},
	"camellia": {tfEncr, 23, 128}, "camellia128": {tfEncr, 23, 128}, "camellia192": {tfEncr, 23, 192}, "camellia256": {tfEncr, 23, 256},
	"chacha20poly1305": {tfEncr, 28, 0},
	"sha":              {tfInteg, 2, 0}, "sha1": {tfInteg, 2, 0}, "md5": {tfInteg, 1, 0},
	"sha256": {tfInteg, 12, 0}, "sha2_256": {tfInteg, 12, 0},
	"sha384": {tfInteg, 13, 0}, "sha2_384": {tfInteg, 13, 0},
	"sha512": {tfInteg, 14, 0}, "sha2_512": {tfInteg, 14, 0},
	"aesxcbc": {tfInteg, 5, 0}, "aescmac": {tfInteg, 8, 0},
	"prfmd5": {tfPRF, 1, 0}, "prfsha1": {tfPRF, 2, 0}, "prfaesxcbc": {tfPRF, 4, 0},
	"prfsha256": {tfPRF, 5, 0}, "prfsha384": {tfPRF, 6, 0}, "prfsha512": {tfPRF, 7, 0}, "prfaescmac": {tfPRF, 8, 0},
	"modp768": {tfDH, 1, 0}, "modp1024": {tfDH, 2, 0}, "modp1536": {tfDH, 5, 0},
	"modp2048": {tfDH, 14, 0}, "modp3072": {tfDH, 15, 0}, "modp4096": {tfDH, 16, 0},
	"modp6144": {tfDH, 17, 0}, "modp8192": {tfDH, 18, 0},
	"modp1024s160": {tfDH, 22, 0}, "modp2048s224": {tfDH, 23, 0}, "modp2048s256": {tfDH, 24, 0},
	"ecp192": {tfDH, 25, 0}, "ecp224": {tfDH, 26, 0}, "ecp256": {tfDH, 19, 0}, "ecp384": {tfDH, 20, 0}, "ecp521": {tfDH, 21, 0},
	"ecp224bp": {tfDH, 27, 0}, "ecp256bp": {tfDH, 28, 0}, "ecp384bp": {tfDH, 29, 0}, "ecp512bp": {tfDH, 30, 0},
	"curve25519": {tfDH, 31, 0}, "x25519": {tfDH, 31, 0}, "curve448": {tfDH, 32, 0}, "x448": {tfDH, 32, 0},
	"esn": {tfESN, 1, 0}, "noesn": {tfESN, 0, 0},
}

func init() {
	// The AEAD keywords: aes{128,192,256}{gcm,ccm}{8,12,16,64,96,128} and
	// the plain gcm/ccm (ICV 16).
	for _, ks := range []uint16{128, 192, 256} {
		k := strconv.Itoa(int(ks))
		for mode, base := range map[string]uint16{"gcm": 18, "ccm": 14} {
			for suffix, off := range map[string]uint16{"8": 0, "64": 0, "12": 1, "96": 1, "16": 2, "128": 2, "": 2} {
				keywords["aes"+k+mode+suffix] = keyword{tfEncr, base + off, ks}
			}
		}
	}
}

// Proposal is a proposal of an SA payload: its protocol (1 IKE, 3 ESP,
// 2 AH), SPI and transforms in the order they are sent.
type Proposal struct {
	Proto      uint8
	Transforms []Transform
}

// first returns the first transform of a type.
func (p *Proposal) first(typ uint8) (Transform, bool) {
	for _, t := range p.Transforms {
		if t.Type == typ {
			return t, true
		}
	}
	return Transform{}, false
}

// aead reports whether the proposal's encryption is an AEAD.
func (p *Proposal) aead() bool {
	t, ok := p.first(tfEncr)
	return ok && encrAlgs[t.ID].icv > 0
}

// parseProposal parses one proposal string ("aes128-sha1-modp1024") as
// proposal_create_from_string does; proto is 1 (IKE) or 3 (ESP).
func parseProposal(proto uint8, s string) (*Proposal, bool) {
	p := &Proposal{Proto: proto}
	var encr, integ, prf, dh, esn []Transform
	for _, tok := range strings.Split(s, "-") {
		kw, ok := keywords[strings.ToLower(tok)]
		if !ok {
			return nil, false
		}
		t := Transform{Type: kw.typ, ID: kw.id, KeyLen: kw.keylen}
		switch kw.typ {
		case tfEncr:
			encr = append(encr, t)
		case tfInteg:
			integ = append(integ, t)
		case tfPRF:
			prf = append(prf, t)
		case tfDH:
			dh = append(dh, t)
		case tfESN:
			esn = append(esn, t)
		}
	}
	if len(encr) == 0 {
		return nil, false
	}
	aead := encrAlgs[encr[0].ID].icv > 0
	if proto == protoIKE {
		if len(prf) == 0 {
			// proposal.c: PRFs derived from the integrity algorithms
			for _, t := range integ {
				prf = append(prf, Transform{Type: tfPRF, ID: integAlgs[t.ID].prf})
			}
		}
		if len(prf) == 0 || len(dh) == 0 || (!aead && len(integ) == 0) {
			return nil, false
		}
	} else {
		if !aead && len(integ) == 0 {
			return nil, false
		}
		if len(esn) == 0 {
			esn = []Transform{{Type: tfESN, ID: 0}}
		}
	}
	if aead {
		integ = nil
	}
	p.Transforms = append(p.Transforms, encr...)
	p.Transforms = append(p.Transforms, integ...)
	p.Transforms = append(p.Transforms, prf...)
	p.Transforms = append(p.Transforms, dh...)
	p.Transforms = append(p.Transforms, esn...)
	return p, true
}

// String is the proposal as charon logs it after "selected proposal: "
// (IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024).
func (p *Proposal) String() string {
	name := map[uint8]string{protoIKE: "IKE", protoESP: "ESP", protoAH: "AH"}[p.Proto]
	return name + ":" + p.algs(true)
}

// algs lists the transforms joined by "/"; withPRF false leaves out the
// PRF and DH groups and ESN (statusall's CHILD_SA line).
func (p *Proposal) algs(all bool) string {
	var parts []string
	for _, t := range p.Transforms {
		switch t.Type {
		case tfEncr:
			n := encrAlgs[t.ID].name
			if t.KeyLen != 0 {
				n += "_" + strconv.Itoa(int(t.KeyLen))
			}
			parts = append(parts, n)
		case tfInteg:
			parts = append(parts, integAlgs[t.ID].name)
		case tfPRF:
			parts = append(parts, prfAlgs[t.ID].name)
		case tfDH:
			parts = append(parts, dhGroups[t.ID].name)
		case tfESN:
			if all {
				parts = append(parts, map[uint16]string{0: "NO_EXT_SEQ", 1: "EXT_SEQ"}[t.ID])
			}
		}
	}
	return strings.Join(parts, "/")
}

// parseProposals parses an ike= or esp= value: comma separated
// proposals; without a trailing "!" the defaults follow (stroke_config.c
// add_proposals).
func parseProposals(proto uint8, s string) ([]*Proposal, string, bool) {
	strict := strings.HasSuffix(s, "!")
	s = strings.TrimSuffix(s, "!")
	var out []*Proposal
	for _, one := range strings.Split(s, ",") {
		one = strings.TrimSpace(one)
		if one == "" {
			continue
		}
		p, ok := parseProposal(proto, one)
		if !ok {
			return nil, one, false
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, s, false
	}
	if !strict {
		out = append(out, defaultProposals(proto)...)
	}
	return out, "", true
}

// selectProposal picks the first of ours (the responder's, when
// preferring its own order as charon does by default) that the peer
// offered: the first transform of each type of ours the peer also has.
func selectProposal(mine, theirs []*Proposal) *Proposal {
	for _, m := range mine {
		for _, t := range theirs {
			if sel := matchProposal(m, t); sel != nil {
				return sel
			}
		}
	}
	return nil
}

func matchProposal(m, t *Proposal) *Proposal {
	if m.Proto != t.Proto {
		return nil
	}
	sel := &Proposal{Proto: m.Proto}
	for _, typ := range []uint8{tfEncr, tfInteg, tfPRF, tfDH, tfESN} {
		var mine, theirs []Transform
		for _, x := range m.Transforms {
			if x.Type == typ {
				mine = append(mine, x)
			}
		}
		for _, x := range t.Transforms {
			if x.Type == typ {
				theirs = append(theirs, x)
			}
		}
		if len(mine) == 0 && len(theirs) == 0 {
			continue
		}
		if typ == tfDH && m.Proto != protoIKE && (len(mine) == 0 || len(theirs) == 0) {
			continue // no PFS on one side: DH stripped
		}
		found := false
	outer:
		for _, a := range mine {
			for _, b := range theirs {
				if a == b {
					sel.Transforms = append(sel.Transforms, a)
					found = true
					break outer
				}
			}
		}
		if !found {
			return nil
		}
	}
	return sel
}

// stripDH removes the DH groups (the first CHILD_SA of IKE_AUTH has no KE).
func (p *Proposal) stripDH() *Proposal {
	q := &Proposal{Proto: p.Proto}
	for _, t := range p.Transforms {
		if t.Type != tfDH {
			q.Transforms = append(q.Transforms, t)
		}
	}
	return q
}
