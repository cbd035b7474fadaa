package iphdr

// Classic BPF validation as the kernel does it (net/core/filter.c:
// chk_code_allowed, bpf_check_classic, check_load_and_stores).

const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfST   = 0x02
	bpfSTX  = 0x03
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfMISC = 0x07

	bpfW = 0x00
	bpfH = 0x08
	bpfB = 0x10

	bpfIMM = 0x00
	bpfABS = 0x20
	bpfIND = 0x40
	bpfMEM = 0x60
	bpfLEN = 0x80
	bpfMSH = 0xa0

	bpfADD = 0x00
	bpfSUB = 0x10
	bpfMUL = 0x20
	bpfDIV = 0x30
	bpfOR  = 0x40
	bpfAND = 0x50
	bpfLSH = 0x60
	bpfRSH = 0x70
	bpfNEG = 0x80
	bpfMOD = 0x90
	bpfXOR = 0xa0

	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40

	bpfK = 0x00
	bpfX = 0x08
	bpfA = 0x10

	bpfTAX = 0x00
	bpfTXA = 0x80

	bpfMemWords = 16
	skfADOff    = 0xfffff000 // SKF_AD_OFF (-0x1000)
	skfADMax    = 64         // SKF_AD_MAX
)

var bpfAllowed = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, op := range []uint16{bpfADD, bpfSUB, bpfMUL, bpfDIV, bpfMOD, bpfAND, bpfOR, bpfXOR, bpfLSH, bpfRSH} {
		m[bpfALU|op|bpfK] = true
		m[bpfALU|op|bpfX] = true
	}
	m[bpfALU|bpfNEG] = true
	for _, c := range []uint16{
		bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS,
		bpfLD | bpfW | bpfLEN, bpfLD | bpfW | bpfIND, bpfLD | bpfH | bpfIND,
		bpfLD | bpfB | bpfIND, bpfLD | bpfIMM, bpfLD | bpfMEM,
		bpfLDX | bpfW | bpfLEN, bpfLDX | bpfB | bpfMSH, bpfLDX | bpfIMM, bpfLDX | bpfMEM,
		bpfST, bpfSTX, bpfMISC | bpfTAX, bpfMISC | bpfTXA,
		bpfRET | bpfK, bpfRET | bpfA, bpfJMP | bpfJA,
	} {
		m[c] = true
	}
	for _, op := range []uint16{bpfJEQ, bpfJGE, bpfJGT, bpfJSET} {
		m[bpfJMP|op|bpfK] = true
		m[bpfJMP|op|bpfX] = true
	}
	return m
}()

func isCondJump(code uint16) bool {
	switch code {
	case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJEQ | bpfX,
		bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGE | bpfX,
		bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGT | bpfX,
		bpfJMP | bpfJSET | bpfK, bpfJMP | bpfJSET | bpfX:
		return true
	}
	return false
}

// checkClassicBPF reports whether the kernel accepts the program.
func checkClassicBPF(p []SockFilter) bool {
	n := len(p)
	if n == 0 || n > 4096 {
		return false
	}
	for pc, f := range p {
		if !bpfAllowed[f.Code] {
			return false
		}
		switch {
		case f.Code == bpfALU|bpfDIV|bpfK || f.Code == bpfALU|bpfMOD|bpfK:
			if f.K == 0 {
				return false
			}
		case f.Code == bpfALU|bpfLSH|bpfK || f.Code == bpfALU|bpfRSH|bpfK:
			if f.K >= 32 {
				return false
			}
		case f.Code == bpfLD|bpfMEM || f.Code == bpfLDX|bpfMEM || f.Code == bpfST || f.Code == bpfSTX:
			if f.K >= bpfMemWords {
				return false
			}
		case f.Code == bpfJMP|bpfJA:
			if f.K >= uint32(n-pc-1) {
				return false
			}
		case isCondJump(f.Code):
			if pc+int(f.Jt)+1 >= n || pc+int(f.Jf)+1 >= n {
				return false
			}
		case f.Code == bpfLD|bpfW|bpfABS || f.Code == bpfLD|bpfH|bpfABS || f.Code == bpfLD|bpfB|bpfABS:
			// Known ancillary loads are multiples of 4 below SKF_AD_MAX.
			anc := f.K >= skfADOff && (f.K-skfADOff) < skfADMax && (f.K-skfADOff)%4 == 0
			if !anc && f.K >= skfADOff {
				return false
			}
		}
	}
	switch p[n-1].Code {
	case bpfRET | bpfK, bpfRET | bpfA:
		return checkLoadAndStores(p)
	}
	return false
}

// checkLoadAndStores: a scratch memory cell must be written on every path
// before it is read.
func checkLoadAndStores(p []SockFilter) bool {
	masks := make([]uint16, len(p))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, f := range p {
		valid &= masks[pc]
		switch {
		case f.Code == bpfST || f.Code == bpfSTX:
			valid |= 1 << f.K
		case f.Code == bpfLD|bpfMEM || f.Code == bpfLDX|bpfMEM:
			if valid&(1<<f.K) == 0 {
				return false
			}
		case f.Code == bpfJMP|bpfJA:
			masks[pc+1+int(f.K)] &= valid
			valid = 0xffff
		case isCondJump(f.Code):
			masks[pc+1+int(f.Jt)] &= valid
			masks[pc+1+int(f.Jf)] &= valid
			valid = 0xffff
		}
	}
	return true
}
