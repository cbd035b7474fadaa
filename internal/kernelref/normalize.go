package kernelref

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/packet"
)

// Text renders the result in its normalised golden form: one section per
// packet (the frames each interface transmitted, as a tcpdump-style line
// and the IP packet in hex, then the LOG lines), then the rule listings
// with counters and the conntrack table. Fields the kernel fills from a
// random source are masked (see the package comment).
func (r *Result) Text() string {
	var b strings.Builder
	m := newMasker(r)
	for i := range r.Steps {
		st := &r.Steps[i]
		k := knownOf(st.Packet)
		fmt.Fprintf(&b, "== %s\n", st.Text)
		if st.Err != "" {
			fmt.Fprintf(&b, "send: %s\n", st.Err)
		}
		for _, f := range st.Frames {
			m.frame(&b, f, &k)
		}
		for _, l := range st.Logs {
			fmt.Fprintf(&b, "log %d: %s\n", l.Level, m.log(l.Text, &k))
		}
	}
	b.WriteString("== iptables-save -c\n")
	b.WriteString(saveText(r.Save4))
	b.WriteString("== ip6tables-save -c\n")
	b.WriteString(saveText(r.Save6))
	b.WriteString("== conntrack -L\n")
	for _, l := range conntrackText(r.Conntrack, m) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// saveText drops the comment lines (they carry the date) of a save.
func saveText(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// conntrackText normalises conntrack -L lines: blanks collapsed, the
// timeout rounded up to a multiple of 10 seconds, NAT's random ports
// named, sorted.
func conntrackText(lines []string, m *masker) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		for j, t := range f {
			k, v, _ := strings.Cut(t, "=")
			if k != "sport" && k != "dport" {
				continue
			}
			if n, err := strconv.ParseUint(v, 10, 16); err == nil {
				if i, ok := m.portOf(uint16(n)); ok {
					f[j] = fmt.Sprintf("%s=port%d", k, i+1)
				}
			}
		}
		if len(f) >= 3 {
			if t, err := strconv.Atoi(f[2]); err == nil {
				f[2] = strconv.Itoa((t + 9) / 10 * 10)
			}
		}
		out = append(out, strings.Join(f, " "))
	}
	sort.Strings(out)
	return out
}

// known holds the values of the injected packet (and the packet it
// quotes): fields equal to them are not random.
type known struct {
	ids    map[uint16]bool
	flows  map[uint32]bool
	fragID map[uint32]bool
	tsval  map[uint32]bool
}

func knownOf(pkt []byte) known {
	k := known{ids: map[uint16]bool{}, flows: map[uint32]bool{}, fragID: map[uint32]bool{}, tsval: map[uint32]bool{}}
	var p packet.Packet
	if p.Decode(pkt) != nil {
		return k
	}
	for _, h := range []*packet.Headers{&p.Headers, &p.Inner} {
		switch {
		case h.IsIPv4():
			k.ids[h.IPv4.ID] = true
		case h.IsIPv6():
			k.flows[h.IPv6.FlowLabel] = true
			if h.Layers&packet.LayerFragment != 0 {
				k.fragID[h.IPv6.Frag.ID] = true
			}
		}
		if h.Layers&packet.LayerTCP != 0 && h.TCP.Opts&packet.OptTimestamp != 0 {
			k.tsval[h.TCP.TSVal] = true
		}
	}
	return k
}

// masker knows the host's initial sequence numbers: the sequence numbers
// of the SYNs the host sent (a SYN the host forwards or sends for an
// "out" packet carries the injected number and is not one).
type masker struct {
	isns  []uint32
	ports []uint16 // source ports NAT chose at random (nf_nat_l4proto_unique_tuple)
}

// portOf returns the label index of a randomly chosen port.
func (m *masker) portOf(v uint16) (int, bool) {
	for i, x := range m.ports {
		if x == v {
			return i, true
		}
	}
	return 0, false
}

// remapped reports a frame that carries the injected TCP or UDP packet
// towards its destination with another source port: source NAT remapped
// the port, which the kernel picks at random (nf_nat_l4proto_unique_tuple)
// unless it is a port the scenario wrote (the original destination port
// of a DNAT reply, a port of a one-port range the replies use).
func remapped(p, in *packet.Packet) (uint16, bool) {
	fs, fd, ok1 := ports(&p.Headers)
	is, id, ok2 := ports(&in.Headers)
	if !ok1 || !ok2 || p.Proto != in.Proto || p.Dst() != in.Dst() || fd != id || fs == is {
		return 0, false
	}
	return fs, true
}

func ports(h *packet.Headers) (src, dst uint16, ok bool) {
	if h.Layers&(packet.LayerTCP|packet.LayerUDP) == 0 {
		return 0, 0, false
	}
	return h.Ports()
}

func newMasker(r *Result) *masker {
	m := &masker{}
	var p, in packet.Packet
	// Ports the scenario itself wrote: NAT cannot have chosen these at random.
	given := map[uint16]bool{}
	for _, st := range r.Steps {
		if in.Decode(st.Packet) != nil {
			continue
		}
		for _, h := range []*packet.Headers{&in.Headers, &in.Inner} {
			if s, d, ok := ports(h); ok {
				given[s], given[d] = true, true
			}
		}
	}
	for _, st := range r.Steps {
		decoded := in.Decode(st.Packet) == nil
		injected := decoded && in.Layers&packet.LayerTCP != 0
		for _, f := range st.Frames {
			if p.DecodeEthernet(f.Data) != nil {
				continue
			}
			if v, ok := remapped(&p, &in); ok && decoded && !given[v] {
				if _, seen := m.portOf(v); !seen {
					m.ports = append(m.ports, v)
				}
			}
			if p.Layers&packet.LayerTCP == 0 || p.TCP.Flags&packet.TCPSyn == 0 {
				continue
			}
			if injected && p.TCP.Seq == in.TCP.Seq {
				continue
			}
			if _, ok := m.isn(p.TCP.Seq); !ok {
				m.isns = append(m.isns, p.TCP.Seq)
			}
		}
	}
	return m
}

// isnWindow is how far past an initial sequence number a number still
// counts as relative to it.
const isnWindow = 1 << 16

// isn returns the index of the ISN v is relative to.
func (m *masker) isn(v uint32) (int, bool) {
	for i, x := range m.isns {
		if v-x < isnWindow {
			return i, true
		}
	}
	return 0, false
}

// nibbles is a mask over the hex digits of a packet.
type nibbles []bool

func (n nibbles) bytes(from, to int) {
	for i := 2 * from; i < 2*to && i < len(n); i++ {
		n[i] = true
	}
}

// frame writes one transmitted frame: the link addresses and summary on
// one line, the IP packet in hex below it, with the random fields masked
// (xx in the hex, 0 or relative to the ISN in the summary).
func (m *masker) frame(b *strings.Builder, f Frame, k *known) {
	var p packet.Packet
	err := p.DecodeEthernet(f.Data)
	if err != nil || p.Layers&(packet.LayerIPv4|packet.LayerIPv6) == 0 {
		fmt.Fprintf(b, "%s: undecodable frame (%v)\n", f.Iface, err)
		writeHex(b, f.Data, make(nibbles, 2*len(f.Data)))
		return
	}
	off := 14
	if p.Eth.HasVLAN {
		off = 18
	}
	ip := f.Data[off:]
	if n := len(p.Data); n <= len(ip) {
		ip = ip[:n]
	}
	cp := append([]byte(nil), ip...)
	mask := make(nibbles, 2*len(ip))
	be := binary.BigEndian
	if p.IsIPv4() && p.IPv4.ID != 0 && !k.ids[p.IPv4.ID] {
		mask.bytes(4, 6)
		mask.bytes(10, 12)
		cp[4], cp[5] = 0, 0
	}
	if p.IsIPv6() {
		if fl := p.IPv6.FlowLabel; fl != 0 && !k.flows[fl] {
			mask[3] = true
			mask.bytes(2, 4)
			cp[1] &^= 0x0f
			cp[2], cp[3] = 0, 0
		}
		if p.Layers&packet.LayerFragment != 0 && !k.fragID[p.IPv6.Frag.ID] {
			o := 40
			for i := 0; i < int(p.NumExt); i++ {
				if p.Ext[i].Proto == packet.ProtoFragment {
					mask.bytes(o+4, o+8)
					copy(cp[o+4:o+8], []byte{0, 0, 0, 0})
					break
				}
				o += len(p.Ext[i].Data)
			}
		}
	}
	var portSubst []string
	if src, dst, ok := ports(&p.Headers); ok && len(p.Transport) >= 8 {
		ts := len(p.Net)
		for k, v := range []uint16{src, dst} {
			if i, ok := m.portOf(v); ok {
				mask.bytes(ts+2*k, ts+2*k+2)
				co := ts + 6
				if p.Layers&packet.LayerTCP != 0 {
					co = ts + 16
				}
				mask.bytes(co, co+2)
				portSubst = append(portSubst, "."+strconv.Itoa(int(v)), fmt.Sprintf(".port%d", i+1))
			}
		}
	}
	if p.Layers&packet.LayerTCP != 0 && len(p.Transport) >= 20 {
		ts := len(p.Net)
		dirty := false
		for _, o := range []int{4, 8} {
			v := be.Uint32(ip[ts+o:])
			if i, ok := m.isn(v); ok && (o == 4 || p.TCP.Flags&packet.TCPAck != 0) {
				mask.bytes(ts+o, ts+o+4)
				be.PutUint32(cp[ts+o:], v-m.isns[i])
				dirty = true
			}
		}
		if p.TCP.Opts&packet.OptTimestamp != 0 && !k.tsval[p.TCP.TSVal] {
			if o := tsOffset(p.TCP.Options); o >= 0 {
				at := ts + 20 + o
				mask.bytes(at, at+4)
				copy(cp[at:at+4], []byte{0, 0, 0, 0})
				dirty = true
			}
		}
		if dirty {
			mask.bytes(ts+16, ts+18)
		}
	}
	var q packet.Packet
	summary := "?"
	if q.Decode(cp) == nil {
		summary = q.String()
	}
	for i := 0; i < len(portSubst); i += 2 {
		// tcpdump writes addr.port followed by " >" or ":"
		summary = strings.ReplaceAll(summary, portSubst[i]+" >", portSubst[i+1]+" >")
		summary = strings.ReplaceAll(summary, portSubst[i]+":", portSubst[i+1]+":")
	}
	fmt.Fprintf(b, "%s: %s > %s, %s\n", f.Iface, mac(p.Eth.Src), mac(p.Eth.Dst), summary)
	writeHex(b, ip, mask)
}

// tsOffset is the offset of the timestamp value in TCP options, or -1.
func tsOffset(o []byte) int {
	for i := 0; i < len(o); {
		switch o[i] {
		case 0:
			return -1
		case 1:
			i++
			continue
		}
		if i+1 >= len(o) || o[i+1] < 2 {
			return -1
		}
		if o[i] == 8 && o[i+1] == 10 && i+10 <= len(o) {
			return i + 2
		}
		i += int(o[i+1])
	}
	return -1
}

func mac(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// writeHex writes b in hex, 32 bytes a line in groups of two, masked
// nibbles as x.
func writeHex(b *strings.Builder, data []byte, mask nibbles) {
	const digits = "0123456789abcdef"
	for i := 0; i < len(data); i += 32 {
		b.WriteString("   ")
		for j := i; j < len(data) && j < i+32; j++ {
			if j%2 == 0 {
				b.WriteByte(' ')
			}
			for h := 0; h < 2; h++ {
				if mask[2*j+h] {
					b.WriteByte('x')
				} else if h == 0 {
					b.WriteByte(digits[data[j]>>4])
				} else {
					b.WriteByte(digits[data[j]&0xf])
				}
			}
		}
		b.WriteByte('\n')
	}
}

// log masks the random fields of a LOG line: the IPv4 ID (the ID= after
// TTL=), FLOWLBL= and the IPv6 fragment ID:, unless zero or the injected
// packet's; SEQ= and ACK= relative to a host ISN.
func (m *masker) log(text string, k *known) string {
	f := strings.Split(text, " ")
	for j, t := range f {
		switch {
		case strings.HasPrefix(t, "ID=") && j > 0 && strings.HasPrefix(f[j-1], "TTL="):
			if v, err := strconv.ParseUint(t[3:], 10, 16); err == nil && v != 0 && !k.ids[uint16(v)] {
				f[j] = "ID=*"
			}
		case strings.HasPrefix(t, "FLOWLBL="):
			if v, err := strconv.ParseUint(t[8:], 10, 32); err == nil && v != 0 && !k.flows[uint32(v)] {
				f[j] = "FLOWLBL=*"
			}
		case strings.HasPrefix(t, "ID:"):
			if v, err := strconv.ParseUint(t[3:], 16, 32); err == nil && !k.fragID[uint32(v)] {
				f[j] = "ID:*"
			}
		case strings.HasPrefix(t, "SPT=") || strings.HasPrefix(t, "DPT="):
			if v, err := strconv.ParseUint(t[4:], 10, 16); err == nil {
				if i, ok := m.portOf(uint16(v)); ok {
					f[j] = fmt.Sprintf("%sport%d", t[:4], i+1)
				}
			}
		case strings.HasPrefix(t, "SEQ=") || strings.HasPrefix(t, "ACK="):
			if v, err := strconv.ParseUint(t[4:], 10, 32); err == nil {
				if i, ok := m.isn(uint32(v)); ok {
					f[j] = fmt.Sprintf("%sisn%d+%d", t[:4], i+1, uint32(v)-m.isns[i])
				}
			}
		}
	}
	return strings.Join(f, " ")
}
