package iphdr

import "github.com/iptwin/iptwin/xtables"

// The kernel's text search algorithms as the string match runs them
// (skb_find_text over lib/ts_bm.c, ts_kmp.c, ts_fsm.c), with their quirks:
// Boyer-Moore's shift tables are computed as ts_bm.c computes them, case
// folding is the kernel's Latin-1 ctype, and an fsm pattern counts as
// four bytes a token in the final "within --to" test.

// Kernel ctype classes (lib/ctype.c).
const (
	ctU  = 0x01
	ctL  = 0x02
	ctD  = 0x04
	ctC  = 0x08
	ctP  = 0x10
	ctS  = 0x20
	ctX  = 0x40
	ctSP = 0x80
	ctA  = 0x100 // ts_fsm: ASCII
	ctW  = 0x200 // ts_fsm: any octet
)

// kctype is the kernel's _ctype table, with ts_fsm's _A and _W bits
// (token_lookup_tbl).
var kctype = func() (t [256]uint16) {
	for c := 0; c < 256; c++ {
		var f uint16 = ctW
		if c < 128 {
			f |= ctA
		}
		switch {
		case c < 32 || c == 127:
			f |= ctC
			if c >= 9 && c <= 13 {
				f |= ctS
			}
		case c == 32:
			f |= ctS | ctSP
		case c >= '0' && c <= '9':
			f |= ctD
		case c >= 'A' && c <= 'Z':
			f |= ctU
			if c <= 'F' {
				f |= ctX
			}
		case c >= 'a' && c <= 'z':
			f |= ctL
			if c <= 'f' {
				f |= ctX
			}
		case c < 128:
			f |= ctP
		case c < 160:
		case c == 160:
			f |= ctS | ctSP
		case c < 192 || c == 215 || c == 247:
			f |= ctP
		case c < 223:
			f |= ctU
		default:
			f |= ctL
		}
		t[c] = f
	}
	return t
}()

// ktoupper and ktolower are the kernel's toupper/tolower: Latin-1 aware,
// and 0xdf (lower, with no upper case) becomes 0xbf.
func ktoupper(c byte) byte {
	if kctype[c]&ctL != 0 {
		return c - ('a' - 'A')
	}
	return c
}

func ktolower(c byte) byte {
	if kctype[c]&ctU != 0 {
		return c + ('a' - 'A')
	}
	return c
}

const notFound = -1

// bmFind is bm_find with the tables of bm_init/compute_prefix_tbl.
func bmFind(pat0, text []byte, icase bool) int {
	var patBuf [strMaxPattern]byte
	patlen := len(pat0)
	if patlen == 0 || patlen > strMaxPattern {
		return notFound
	}
	pat := patBuf[:patlen]
	for i, c := range pat0 {
		if icase {
			c = ktoupper(c)
		}
		pat[i] = c
	}
	var bad [256]int
	for i := range bad {
		bad[i] = patlen
	}
	for i := 0; i < patlen-1; i++ {
		bad[pat[i]] = patlen - 1 - i
		if icase {
			bad[ktolower(pat[i])] = patlen - 1 - i
		}
	}
	var good [strMaxPattern]int
	good[0] = 1
	for i := 1; i < patlen; i++ {
		good[i] = patlen
	}
	for i, g := patlen-1, 1; i > 0; i, g = i-1, g+1 {
		for j := i - 1; j >= 1-g; j-- {
			if bmSubpattern(pat, i, j, g) {
				good[g] = patlen - j - g
				break
			}
		}
	}
	shift := patlen - 1
	for shift < len(text) {
		i := 0
		for ; i < patlen; i++ {
			c := text[shift-i]
			if icase {
				c = ktoupper(c)
			}
			if c != pat[patlen-1-i] {
				break
			}
		}
		if i == patlen {
			return shift - (patlen - 1)
		}
		bs := bad[text[shift-i]]
		shift = max(shift-i+bs, shift+good[i])
	}
	return notFound
}

// bmSubpattern is subpattern of ts_bm.c.
func bmSubpattern(p []byte, i, j, g int) bool {
	x, y := i+g-1, j+g-1
	for {
		eq := p[x] == p[y]
		x--
		y--
		if !eq {
			return false
		}
		if y < 0 {
			return true
		}
		g--
		if g == 0 {
			return p[i-1] != p[j-1]
		}
	}
}

// kmpFind is kmp_find with kmp_init's prefix table.
func kmpFind(pat0, text []byte, icase bool) int {
	var patBuf [strMaxPattern]byte
	var prefix [strMaxPattern]int
	n := len(pat0)
	if n == 0 || n > strMaxPattern {
		return notFound
	}
	pat := patBuf[:n]
	for i, c := range pat0 {
		if icase {
			c = ktoupper(c)
		}
		pat[i] = c
	}
	for k, q := 0, 1; q < n; q++ {
		for k > 0 && pat[k] != pat[q] {
			k = prefix[k-1]
		}
		if pat[k] == pat[q] {
			k++
		}
		prefix[q] = k
	}
	q := 0
	for i, c := range text {
		if icase {
			c = ktoupper(c)
		}
		for q > 0 && pat[q] != c {
			q = prefix[q-1]
		}
		if pat[q] == c {
			q++
		}
		if q == n {
			return i + 1 - n
		}
	}
	return notFound
}

// ts_fsm token types and recurrences (linux/textsearch_fsm.h).
const (
	fsmSingle = iota
	fsmPerhaps
	fsmAny
	fsmMulti
	fsmHeadIgnore
)

var fsmTokenMap = [...]uint16{
	0, ctW, ctC, ctL, ctU, ctP, ctS, ctD, ctD | ctX, ctU | ctL,
	ctU | ctL | ctD, ctP | ctU | ctL | ctD | ctSP, ctP | ctU | ctL | ctD, ctA,
}

type fsmToken struct {
	typ   uint16 // mapped to ctype classes; 0: a specific octet
	recur uint8
	value uint8
}

func fsmTok(p []byte, i int) fsmToken {
	t := uint16(p[4*i]) | uint16(p[4*i+1])<<8 // host (little-endian) order
	if int(t) < len(fsmTokenMap) {
		t = fsmTokenMap[t]
	}
	return fsmToken{typ: t, recur: p[4*i+2], value: p[4*i+3]}
}

func (t fsmToken) match(d byte) bool {
	if t.typ != 0 {
		return kctype[d]&t.typ != 0
	}
	return t.value == d
}

// fsmFind is fsm_find over one block of text. It returns the match's
// start; Check has made sure the tokens are valid.
func fsmFind(p, data []byte) int {
	ntok := len(p) / 4
	if ntok == 0 || len(data) == 0 {
		return notFound
	}
	idx := 0
	end := func() bool { return idx >= len(data) }
	strict := fsmTok(p, 0).recur != fsmHeadIgnore
startover:
	for {
		start := idx
		for ti := 0; ti < ntok; ti++ {
			cur := fsmTok(p, ti)
			var next fsmToken
			hasNext := ti < ntok-1
			if hasNext {
				next = fsmTok(p, ti+1)
			}
			switch cur.recur {
			case fsmSingle:
				if end() {
					return notFound
				}
				if !cur.match(data[idx]) {
					if strict {
						return notFound
					}
					idx++
					continue startover
				}
			case fsmPerhaps:
				if end() || !cur.match(data[idx]) {
					continue
				}
			case fsmMulti, fsmAny:
				if cur.recur == fsmMulti {
					if end() {
						return notFound
					}
					if !cur.match(data[idx]) {
						if strict {
							return notFound
						}
						idx++
						continue startover
					}
					idx++
				}
				if !hasNext {
					return start
				}
				if end() {
					continue
				}
				for !next.match(data[idx]) {
					if !cur.match(data[idx]) {
						if strict {
							return notFound
						}
						idx++
						continue startover
					}
					idx++
					if end() {
						return notFound
					}
				}
				continue
			case fsmHeadIgnore:
				if end() {
					continue
				}
				for !next.match(data[idx]) {
					if !cur.match(data[idx]) {
						return notFound
					}
					idx++
					if end() {
						return notFound
					}
				}
				start = idx
				continue
			}
			idx++
		}
		if end() {
			return start
		}
		return notFound
	}
}

// MatchPacket is string_mt (xt_string.c): skb_find_text from --from on,
// a match counting only when it ends within --to.
func (m *String) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	from, to := int(m.From), int(m.To)
	pos := notFound
	patlen := len(m.Pattern)
	if from < len(d) {
		text := d[from:]
		icase := m.Flags&strFlagICase != 0
		switch m.Algo {
		case "bm":
			pos = bmFind(m.Pattern, text, icase)
		case "kmp":
			pos = kmpFind(m.Pattern, text, icase)
		case "fsm":
			pos = fsmFind(m.Pattern, text)
		}
	}
	found := pos != notFound && pos+patlen <= to-from
	return found != (m.Flags&strFlagInvert != 0)
}
