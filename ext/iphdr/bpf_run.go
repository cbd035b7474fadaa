package iphdr

import "github.com/iptwin/iptwin/xtables"

// A classic BPF interpreter with the kernel's semantics for socket filters
// run on an skb (net/core/filter.c, as bpf_convert_filter turns them into
// eBPF): packet loads are relative to skb->data, which is the IP header
// at the netfilter hooks; a load outside the packet ends the program with
// 0; division or modulo by a zero X returns 0; SKF_NET_OFF and SKF_LL_OFF
// address the network and link-layer headers; the ancillary loads read
// skb fields.

// Ancillary offsets (SKF_AD_*), relative to SKF_AD_OFF.
const (
	adProtocol = 0
	adPktType  = 4
	adIfindex  = 8
	adMark     = 20
	adHatype   = 28
	adAluXorX  = 40
	adRandom   = 56

	skfNetOff = 0xfff00000 // SKF_NET_OFF (-0x100000)
	skfLLOff  = 0xffe00000 // SKF_LL_OFF (-0x200000)
)

// bpfLoad reads size bytes at offset k the way the converted program's
// load helpers do; ok is false when the program must return 0.
func bpfLoad(st *xtables.PacketState, d []byte, k uint32, size int) (uint32, bool) {
	var b []byte
	switch {
	case k < skfLLOff: // a non-negative offset into the packet
		if int64(k)+int64(size) > int64(len(d)) {
			return 0, false
		}
		b = d[k:]
	case k >= skfNetOff:
		off := int64(k - skfNetOff)
		if off+int64(size) > int64(len(d)) {
			return 0, false
		}
		b = d[off:]
	default: // SKF_LL_OFF: the link-layer header, then the packet
		off := int64(k - skfLLOff)
		ll := int64(len(st.MAC))
		if len(st.MAC) == 0 || off+int64(size) > ll+int64(len(d)) {
			return 0, false
		}
		var tmp [4]byte
		for i := 0; i < size; i++ {
			if o := off + int64(i); o < ll {
				tmp[i] = st.MAC[o]
			} else {
				tmp[i] = d[o-ll]
			}
		}
		b = tmp[:]
	}
	switch size {
	case 4:
		return be32(b), true
	case 2:
		return uint32(be16(b)), true
	}
	return uint32(b[0]), true
}

// bpfAncillary is convert_bpf_extensions: skb fields the twin knows (the
// protocol, packet type, mark, device type, randomness); the others
// (ifindex, queue, hash, cpu, VLAN, payload offset) read as 0.
func bpfAncillary(st *xtables.PacketState, off uint32, a, x uint32) uint32 {
	switch off {
	case adProtocol:
		if st.Family == xtables.IPv6 {
			return 0x86dd
		}
		return 0x0800
	case adPktType:
		return uint32(skbPktType(st))
	case adMark:
		return st.Mark
	case adHatype:
		if len(st.MAC) == 0 && (st.In == "lo" || st.Out == "lo") {
			return 772 // ARPHRD_LOOPBACK
		}
		return 1 // ARPHRD_ETHER
	case adAluXorX:
		return a ^ x
	case adRandom:
		if st.Env != nil {
			return st.Env.Random()
		}
	}
	return 0
}

// skbPktType is skb->pkt_type as far as the frame tells it: broadcast
// and multicast by the destination MAC, else to this host.
func skbPktType(st *xtables.PacketState) uint8 {
	if len(st.MAC) < 6 || st.MAC[0]&1 == 0 {
		return 0 // PACKET_HOST
	}
	for _, c := range st.MAC[:6] {
		if c != 0xff {
			return 2 // PACKET_MULTICAST
		}
	}
	return 1 // PACKET_BROADCAST
}

// runBPF runs a program the kernel accepted (checkClassicBPF) and returns
// its result.
func runBPF(st *xtables.PacketState, p []SockFilter) uint32 {
	d := pktData(st)
	var a, x uint32
	var mem [bpfMemWords]uint32
	for pc := 0; pc < len(p); pc++ {
		f := &p[pc]
		switch f.Code {
		case bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS:
			if f.K >= skfADOff {
				if f.K-skfADOff == adAluXorX {
					a ^= x
				} else {
					a = bpfAncillary(st, f.K-skfADOff, a, x)
				}
				continue
			}
			v, ok := bpfLoad(st, d, f.K, bpfSize(f.Code))
			if !ok {
				return 0
			}
			a = v
		case bpfLD | bpfW | bpfIND, bpfLD | bpfH | bpfIND, bpfLD | bpfB | bpfIND:
			v, ok := bpfLoad(st, d, x+f.K, bpfSize(f.Code))
			if !ok {
				return 0
			}
			a = v
		case bpfLD | bpfW | bpfLEN:
			a = uint32(len(d))
		case bpfLDX | bpfW | bpfLEN:
			x = uint32(len(d))
		case bpfLD | bpfIMM:
			a = f.K
		case bpfLDX | bpfIMM:
			x = f.K
		case bpfLD | bpfMEM:
			a = mem[f.K&(bpfMemWords-1)]
		case bpfLDX | bpfMEM:
			x = mem[f.K&(bpfMemWords-1)]
		case bpfLDX | bpfB | bpfMSH:
			v, ok := bpfLoad(st, d, f.K, 1)
			if !ok {
				return 0
			}
			x = (v & 0xf) << 2
		case bpfST:
			mem[f.K&(bpfMemWords-1)] = a
		case bpfSTX:
			mem[f.K&(bpfMemWords-1)] = x
		case bpfMISC | bpfTAX:
			x = a
		case bpfMISC | bpfTXA:
			a = x
		case bpfRET | bpfK:
			return f.K
		case bpfRET | bpfA:
			return a
		case bpfJMP | bpfJA:
			pc += int(f.K)
		case bpfALU | bpfNEG:
			a = -a
		default:
			switch f.Code & 0x07 {
			case bpfALU:
				src := f.K
				if f.Code&bpfX != 0 {
					src = x
					if (f.Code&0xf0 == bpfDIV || f.Code&0xf0 == bpfMOD) && src == 0 {
						return 0
					}
				}
				a = bpfALUOp(f.Code&0xf0, a, src)
			case bpfJMP:
				src := f.K
				if f.Code&bpfX != 0 {
					src = x
				}
				var t bool
				switch f.Code & 0xf0 {
				case bpfJEQ:
					t = a == src
				case bpfJGT:
					t = a > src
				case bpfJGE:
					t = a >= src
				case bpfJSET:
					t = a&src != 0
				}
				if t {
					pc += int(f.Jt)
				} else {
					pc += int(f.Jf)
				}
			default:
				return 0 // refused by the check
			}
		}
	}
	return 0
}

func bpfSize(code uint16) int {
	switch code & 0x18 {
	case bpfH:
		return 2
	case bpfB:
		return 1
	}
	return 4
}

func bpfALUOp(op uint16, a, b uint32) uint32 {
	switch op {
	case bpfADD:
		return a + b
	case bpfSUB:
		return a - b
	case bpfMUL:
		return a * b
	case bpfDIV:
		return a / b
	case bpfMOD:
		return a % b
	case bpfOR:
		return a | b
	case bpfAND:
		return a & b
	case bpfXOR:
		return a ^ b
	case bpfLSH:
		return a << (b & 31)
	case bpfRSH:
		return a >> (b & 31)
	}
	return a
}

// MatchPacket is bpf_mt_v1 (xt_bpf.c) in bytecode mode: the program's
// result, non-zero matching.
func (m *BPF) MatchPacket(st *xtables.PacketState) bool {
	return len(m.Program) > 0 && runBPF(st, m.Program) != 0
}
