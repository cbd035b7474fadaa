package defrag_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/defrag"
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
)

// A recorded case (testdata/kernel/*.txt, written by
// icmpgen/internal/record; see icmpgen/record.sh): the fragments sent to
// the host and what the kernel sent in consequence.
type kcase struct {
	name  string
	model []string
	send  [][]byte
	recv  [][]byte
}

func loadCase(path string) (*kcase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &kcase{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		w := strings.Fields(line)
		switch w[0] {
		case "setup":
		case "model":
			c.model = w[1:]
		case "send", "recv":
			if len(w) != 3 {
				return nil, fmt.Errorf("%s:%d: want %s WHERE HEX", path, n, w[0])
			}
			b, err := hex.DecodeString(w[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			if w[0] == "send" {
				c.send = append(c.send, b)
			} else {
				c.recv = append(c.recv, b)
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown line %q", path, n, w[0])
		}
	}
	return c, sc.Err()
}

// masked takes from the kernel's answer the fields it randomises: the
// IPv4 identification of ICMP messages, the IPv6 flow label of ICMPv6
// ones, the identification of IPv6 fragments it makes.
func masked(o *icmpgen.Options, got []byte) {
	switch {
	case len(got) >= 20 && got[0]>>4 == 4:
		o.ID = uint16(got[4])<<8 | uint16(got[5])
	case len(got) >= 40 && got[0]>>4 == 6:
		o.FlowLabel = uint32(got[1]&0xf)<<16 | uint32(got[2])<<8 | uint32(got[3])
	}
}

func fragID6(got []byte) uint32 {
	if len(got) >= 48 && got[6] == packet.ProtoFragment {
		return uint32(got[44])<<24 | uint32(got[45])<<16 | uint32(got[46])<<8 | uint32(got[47])
	}
	return 0
}

// expected plays the case's fragments through the model and returns what
// the host sends.
func expected(c *kcase) ([][]byte, error) {
	if len(c.model) == 0 || len(c.send) == 0 {
		return nil, fmt.Errorf("want a model and fragments")
	}
	v6 := c.send[0][0]>>4 == 6
	kind, words := c.model[0], c.model[1:]
	ct, mtu := false, 0
	var o icmpgen.Options
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "ct":
			ct = true
		case "local":
		case "mtu":
			mtu, _ = strconv.Atoi(v)
		case "src":
			o.Src = netip.MustParseAddr(v)
		default:
			return nil, fmt.Errorf("unknown model word %q", w)
		}
	}
	if kind == "forward" {
		ct = true
	}
	cfg := defrag.Config{Kind: defrag.IPv4}
	if v6 {
		cfg.Kind = defrag.IPv6Local
		if ct {
			cfg.Kind = defrag.IPv6Conntrack
		}
	}
	q := defrag.New(cfg)
	meta := defrag.Meta{Conntrack: ct, IfIndex: 2}
	var out [][]byte
	answer := func(b []byte, ok bool) {
		if ok {
			out = append(out, append([]byte(nil), b...))
		}
	}
	opts := func() icmpgen.Options {
		x := o
		if len(c.recv) > len(out) {
			masked(&x, c.recv[len(out)])
		}
		return x
	}
	for i, f := range c.send {
		now := int64(i) * 2e6
		q.Expire(now, nil)
		whole, maxFrag, done, err := q.AddMeta(f, nil, now, meta)
		if err != nil {
			if e, ok := err.(*defrag.Error); ok && e.ICMP && kind == "local" {
				x := opts()
				x.Local = true
				answer(icmpgen.ErrorBytes(nil, f, icmpgen.ICMPv6ParamProblem, e.Code, e.Pointer, x))
			}
			continue
		}
		if !done {
			continue
		}
		whole = append([]byte(nil), whole...)
		var p packet.Packet
		if err := p.Decode(whole); err != nil {
			return nil, fmt.Errorf("reassembled datagram: %v", err)
		}
		switch kind {
		case "local":
			x := opts()
			x.Local = true
			answer(icmpgen.PortUnreachable(nil, &p, x))
		case "forward":
			o := opts()
			fwd, err := forward(whole, &p, q.Sizes(), maxFrag, mtu, o, c)
			if err != nil {
				return nil, err
			}
			out = append(out, fwd...)
		}
	}
	if kind == "timeout" {
		if !v6 && ct {
			cfg.IsLocal = func(netip.Addr) bool { return false }
		}
		x := opts()
		x.Local = !ct
		q.Expire(1<<62, func(first []byte) {
			answer(icmpgen.ReassemblyTimeout(nil, first, x))
		})
	}
	return out, nil
}

// forward is what the router does with a datagram conntrack reassembled
// (or let through): ip_forward / ip6_forward refuse it with an ICMP
// error when it does not fit and may not be fragmented (quoting it before
// the TTL decrement), else decrement the TTL and fragment it again on
// output (ip_finish_output: always for a reassembled IPv4 datagram;
// ip6_finish_output: when larger than the MTU or its largest fragment).
func forward(whole []byte, p *packet.Packet, sizes []int, maxFrag, mtu int, o icmpgen.Options, c *kcase) ([][]byte, error) {
	n := len(whole)
	if p.IsIPv6() {
		if n > mtu && maxFrag > mtu {
			b, ok := icmpgen.TooBig(nil, p, mtu, o)
			return keep(b, ok), nil
		}
		p.SetTTL(p.IPv6.HopLimit - 1)
		if n <= mtu && (maxFrag == 0 || n <= maxFrag) {
			return [][]byte{whole}, nil
		}
		var id uint32
		if len(c.recv) > 0 {
			id = fragID6(c.recv[0])
		}
		_, fs, err := defrag.Refragment6(nil, nil, whole, sizes, maxFrag, mtu, id)
		return fs, err
	}
	if p.IPv4.Flags&packet.IPv4DF != 0 && n > mtu && maxFrag > mtu {
		b, ok := icmpgen.TooBig(nil, p, mtu, o)
		return keep(b, ok), nil
	}
	p.SetTTL(p.IPv4.TTL - 1)
	if maxFrag == 0 && n <= mtu {
		return [][]byte{whole}, nil
	}
	_, fs, err := defrag.Refragment4(nil, nil, whole, sizes, maxFrag, mtu)
	return fs, err
}

func keep(b []byte, ok bool) [][]byte {
	if !ok {
		return nil
	}
	return [][]byte{b}
}

// TestKernel replays every recorded case through the model and compares
// what the host sends with what the kernel sent, byte for byte.
func TestKernel(t *testing.T) {
	files, err := filepath.Glob("testdata/kernel/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded cases (run icmpgen/record.sh as root)")
	}
	for _, f := range files {
		c, err := loadCase(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.name, func(t *testing.T) {
			want, err := expected(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != len(c.recv) {
				for _, w := range want {
					t.Logf("model  %s", dump(w))
				}
				for _, r := range c.recv {
					t.Logf("kernel %s", dump(r))
				}
				t.Fatalf("model sends %d packets, the kernel sent %d", len(want), len(c.recv))
			}
			for i := range want {
				if !bytes.Equal(want[i], c.recv[i]) {
					t.Errorf("packet %d differs:\nmodel  %s\nkernel %s", i, dump(want[i]), dump(c.recv[i]))
				}
			}
		})
	}
}

func dump(b []byte) string {
	var p packet.Packet
	s := hex.EncodeToString(b)
	if p.Decode(b) == nil {
		s = p.String() + "\n       " + s
	}
	return s
}
