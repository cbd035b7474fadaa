package xfrm

// The IPsec algorithms the kernel knows (net/xfrm/xfrm_algo.c: aead_list,
// aalg_list, ealg_list, calg_list), with what the ESP transform needs of
// each: the cipher's block size and IV size (crypto_aead_blocksize,
// crypto_aead_ivsize of the instantiated transform) and the key lengths
// its setkey accepts.

// AlgoKind says which list an algorithm belongs to (the attribute that
// carries it: XFRMA_ALG_AUTH[_TRUNC], XFRMA_ALG_CRYPT, XFRMA_ALG_AEAD,
// XFRMA_ALG_COMP).
type AlgoKind uint8

const (
	KindAuth AlgoKind = iota
	KindCrypt
	KindAEAD
	KindComp
)

// AlgoDesc is struct xfrm_algo_desc plus the cipher parameters.
type AlgoDesc struct {
	Name   string // canonical name, the one listings show
	Compat string // the old short name also accepted ("sha1", "aes")
	Kind   AlgoKind
	// TruncBits and FullBits are the ICV sizes of an authentication
	// algorithm (uinfo.auth) or TruncBits the ICV of an AEAD (uinfo.aead).
	TruncBits, FullBits int
	// Block is the cipher block size in bytes (1 for stream modes), IV
	// the bytes of IV each packet carries.
	Block, IV int
	// Keys lists the accepted key lengths in bytes (nil: any length; for
	// the modes with a nonce or salt the length includes it); MinKey and
	// MaxKey bound a range when Keys is nil and MaxKey > 0.
	Keys           []int
	MinKey, MaxKey int
	// NoEncrypt marks GMAC (rfc4543): authenticated, not encrypted.
	NoEncrypt bool
}

var aeadList = []AlgoDesc{
	{Name: "rfc4106(gcm(aes))", Kind: KindAEAD, TruncBits: 64, Block: 1, IV: 8, Keys: []int{20, 28, 36}},
	{Name: "rfc4106(gcm(aes))", Kind: KindAEAD, TruncBits: 96, Block: 1, IV: 8, Keys: []int{20, 28, 36}},
	{Name: "rfc4106(gcm(aes))", Kind: KindAEAD, TruncBits: 128, Block: 1, IV: 8, Keys: []int{20, 28, 36}},
	{Name: "rfc4309(ccm(aes))", Kind: KindAEAD, TruncBits: 64, Block: 1, IV: 8, Keys: []int{19, 27, 35}},
	{Name: "rfc4309(ccm(aes))", Kind: KindAEAD, TruncBits: 96, Block: 1, IV: 8, Keys: []int{19, 27, 35}},
	{Name: "rfc4309(ccm(aes))", Kind: KindAEAD, TruncBits: 128, Block: 1, IV: 8, Keys: []int{19, 27, 35}},
	{Name: "rfc4543(gcm(aes))", Kind: KindAEAD, TruncBits: 128, Block: 1, IV: 8, Keys: []int{20, 28, 36}, NoEncrypt: true},
	{Name: "rfc7539esp(chacha20,poly1305)", Kind: KindAEAD, TruncBits: 128, Block: 1, IV: 8, Keys: []int{36}},
}

var aalgList = []AlgoDesc{
	{Name: "digest_null", Kind: KindAuth},
	{Name: "hmac(md5)", Compat: "md5", Kind: KindAuth, TruncBits: 96, FullBits: 128},
	{Name: "hmac(sha1)", Compat: "sha1", Kind: KindAuth, TruncBits: 96, FullBits: 160},
	{Name: "hmac(sha256)", Compat: "sha256", Kind: KindAuth, TruncBits: 96, FullBits: 256},
	{Name: "hmac(sha384)", Kind: KindAuth, TruncBits: 192, FullBits: 384},
	{Name: "hmac(sha512)", Kind: KindAuth, TruncBits: 256, FullBits: 512},
	{Name: "xcbc(aes)", Kind: KindAuth, TruncBits: 96, FullBits: 128, Keys: []int{16}},
	{Name: "cmac(aes)", Kind: KindAuth, TruncBits: 96, FullBits: 128, Keys: []int{16, 24, 32}},
	{Name: "hmac(sm3)", Compat: "sm3", Kind: KindAuth, TruncBits: 256, FullBits: 256},
}

var ealgList = []AlgoDesc{
	{Name: "ecb(cipher_null)", Compat: "cipher_null", Kind: KindCrypt, Block: 1},
	{Name: "cbc(des)", Compat: "des", Kind: KindCrypt, Block: 8, IV: 8, Keys: []int{8}},
	{Name: "cbc(des3_ede)", Compat: "des3_ede", Kind: KindCrypt, Block: 8, IV: 8, Keys: []int{24}},
	{Name: "cbc(cast5)", Compat: "cast5", Kind: KindCrypt, Block: 8, IV: 8, MinKey: 5, MaxKey: 16},
	{Name: "cbc(blowfish)", Compat: "blowfish", Kind: KindCrypt, Block: 8, IV: 8, MinKey: 4, MaxKey: 56},
	{Name: "cbc(aes)", Compat: "aes", Kind: KindCrypt, Block: 16, IV: 16, Keys: []int{16, 24, 32}},
	{Name: "cbc(serpent)", Compat: "serpent", Kind: KindCrypt, Block: 16, IV: 16, MinKey: 0, MaxKey: 32},
	{Name: "cbc(camellia)", Compat: "camellia", Kind: KindCrypt, Block: 16, IV: 16, Keys: []int{16, 24, 32}},
	{Name: "cbc(aria)", Compat: "aria", Kind: KindCrypt, Block: 16, IV: 16, Keys: []int{16, 24, 32}},
	{Name: "rfc3686(ctr(aria))", Kind: KindCrypt, Block: 1, IV: 8, Keys: []int{20, 28, 36}},
	{Name: "cbc(twofish)", Compat: "twofish", Kind: KindCrypt, Block: 16, IV: 16, Keys: []int{16, 24, 32}},
	{Name: "rfc3686(ctr(aes))", Kind: KindCrypt, Block: 1, IV: 8, Keys: []int{20, 28, 36}},
	{Name: "cbc(sm4)", Compat: "sm4", Kind: KindCrypt, Block: 16, IV: 16, Keys: []int{16}},
}

var calgList = []AlgoDesc{
	{Name: "deflate", Kind: KindComp},
	{Name: "lzs", Kind: KindComp},
	{Name: "lzjh", Kind: KindComp},
}

// LookupAlgo is xfrm_{a,e,c}alg_get_byname: the algorithm of a kind by its
// name or compat name (nil when unknown). For an AEAD the ICV length in
// bits selects the entry (xfrm_aead_get_byname).
func LookupAlgo(kind AlgoKind, name string, icvBits int) *AlgoDesc {
	var list []AlgoDesc
	switch kind {
	case KindAuth:
		list = aalgList
	case KindCrypt:
		list = ealgList
	case KindAEAD:
		for i := range aeadList {
			a := &aeadList[i]
			if a.Name == name && a.TruncBits == icvBits {
				return a
			}
		}
		return nil
	case KindComp:
		list = calgList
	}
	for i := range list {
		a := &list[i]
		if name != "" && (a.Name == name || a.Compat != "" && a.Compat == name) {
			return a
		}
	}
	return nil
}

// keyOK says whether the cipher's setkey takes n bytes.
func (a *AlgoDesc) keyOK(n int) bool {
	if a.Keys != nil {
		for _, k := range a.Keys {
			if k == n {
				return true
			}
		}
		return false
	}
	if a.MaxKey > 0 {
		return n >= a.MinKey && n <= a.MaxKey
	}
	return true
}
