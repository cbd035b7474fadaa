package icmpgen_test

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

	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// A recorded case (testdata/kernel/*.txt, written by internal/record):
// the model line says which builder regenerates the answer and with what
// options; send lines are the triggers, recv lines what the kernel sent.
type kcase struct {
	name  string
	model []string
	send  [][]byte
	recv  [][]byte
	at    string // where the answers were captured
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
		f := strings.Fields(line)
		switch f[0] {
		case "setup":
		case "model":
			c.model = f[1:]
		case "send", "recv":
			if len(f) != 3 {
				return nil, fmt.Errorf("%s:%d: want %s WHERE HEX", path, n, f[0])
			}
			b, err := hex.DecodeString(f[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			if f[0] == "send" {
				c.send = append(c.send, b)
			} else {
				c.recv = append(c.recv, b)
				c.at = f[1]
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown line %q", path, n, f[0])
		}
	}
	return c, sc.Err()
}

var rejectNames = map[string]xtables.RejectType{
	"icmp-net-unreachable":   xtables.RejectNetUnreach,
	"icmp-host-unreachable":  xtables.RejectHostUnreach,
	"icmp-proto-unreachable": xtables.RejectProtoUnreach,
	"icmp-port-unreachable":  xtables.RejectPortUnreach,
	"icmp-net-prohibited":    xtables.RejectNetProhibited,
	"icmp-host-prohibited":   xtables.RejectHostProhibited,
	"icmp-admin-prohibited":  xtables.RejectAdminProhibited,
	"tcp-reset":              xtables.RejectTCPReset,
	"icmp6-no-route":         xtables.RejectNoRoute,
	"icmp6-adm-prohibited":   xtables.RejectAdminProhibited,
	"icmp6-addr-unreachable": xtables.RejectAddrUnreach,
	"icmp6-port-unreachable": xtables.RejectPortUnreach,
	"icmp6-policy-fail":      xtables.RejectPolicyFail,
	"icmp6-reject-route":     xtables.RejectRejectRoute,
}

var routeTypes = map[string]int{"local": xtables.RTNLocal, "broadcast": xtables.RTNBroadcast, "multicast": xtables.RTNMulticast}

// options parses the model's key=value words into Options; rtype is the
// reject type and mtu the too-big MTU.
func options(words []string) (o icmpgen.Options, rtype xtables.RejectType, mtu int, limit int64, err error) {
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "local":
			o.Local = true
		case "fwd":
		case "csum":
			o.ChecksumValid = true
		case "src":
			o.Src, err = netip.ParseAddr(v)
		case "ttl":
			var n int
			n, err = strconv.Atoi(v)
			o.TTL = uint8(n)
		case "mtu":
			mtu, err = strconv.Atoi(v)
			o.MTU = 0
		case "rt":
			o.RouteType = routeTypes[v]
		case "limit":
			var n int
			n, err = strconv.Atoi(v)
			limit = int64(n) * 1e6
		case "type":
			var ok bool
			if rtype, ok = rejectNames[v]; !ok {
				err = fmt.Errorf("unknown reject type %q", v)
			}
		default:
			err = fmt.Errorf("unknown model word %q", w)
		}
		if err != nil {
			return
		}
	}
	return
}

// masked copies into o the fields the kernel randomises, from the
// kernel's answer: the IPv4 identification of ICMP messages (the ICMP
// socket sends without DF, so __ip_select_ident hashes the addresses with
// a per-boot key) and the IPv6 flow label (auto flow labels hash the flow
// with a per-boot key). RSTs are not masked: REJECT's RST has ID 0 and
// flow label 0 by construction.
func masked(o *icmpgen.Options, kind string, got []byte) {
	if len(got) == 0 {
		return
	}
	if got[0]>>4 == 4 && len(got) >= 20 && got[9] == packet.ProtoICMP {
		o.ID = uint16(got[4])<<8 | uint16(got[5])
	}
	if got[0]>>4 == 6 && len(got) >= 40 && kind != "reject-rst" {
		o.FlowLabel = uint32(got[1]&0xf)<<16 | uint32(got[2])<<8 | uint32(got[3])
	}
}

// expected runs the model of c on its triggers and returns what the
// kernel should have sent, in order. With limit=N (ms) the triggers are
// 10 ms apart at most and go through a Limiter with that interval.
func expected(c *kcase) ([][]byte, error) {
	if len(c.model) == 0 || len(c.send) == 0 {
		return nil, fmt.Errorf("want a model and a trigger")
	}
	o, rtype, mtu, limit, err := options(c.model[1:])
	if err != nil {
		return nil, err
	}
	if limit == 0 && len(c.send) != 1 {
		return nil, fmt.Errorf("%d triggers without limit=", len(c.send))
	}
	var lim *icmpgen.Limiter
	if limit > 0 {
		lim = icmpgen.NewLimiter(func() uint32 { return 1 })
		lim.RateLimit4, lim.RateLimit6 = limit, limit
	}
	var out [][]byte
	for i, trig := range c.send {
		var p packet.Packet
		if err := p.Decode(trig); err != nil {
			return nil, fmt.Errorf("trigger: %v", err)
		}
		kind := c.model[0]
		if kind == "reject" && rtype == xtables.RejectTCPReset {
			kind = "reject-rst"
		}
		if len(out) < len(c.recv) {
			masked(&o, kind, c.recv[len(out)])
		}
		for _, w := range c.model[1:] {
			if w == "fwd" {
				// At FORWARD the TTL or hop limit is already decremented
				// (ip_forward, ip6_forward).
				p.SetTTL(ttlOf(&p) - 1)
			}
		}
		got, ok, err := build(c.model[0], &p, rtype, mtu, o)
		if err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if lim != nil {
			var q packet.Packet
			q.Decode(got)
			m := icmpgen.Msg{V6: q.IsIPv6(), Type: q.ICMP.Type, Code: q.ICMP.Code, Dst: q.Dst(), PrefixLen: 64}
			if !lim.Allow(int64(i)*2e6, m) {
				continue
			}
		}
		out = append(out, got)
	}
	return out, nil
}

// build runs one builder.
func build(kind string, p *packet.Packet, rtype xtables.RejectType, mtu int, o icmpgen.Options) ([]byte, bool, error) {
	buf := make([]byte, 0, 1500)
	switch kind {
	case "reject":
		out, ok := icmpgen.Reject(buf, p, rtype, o)
		return out, ok, nil
	case "stack-reset":
		out, ok := icmpgen.StackReset(buf, p, o)
		return out, ok, nil
	case "port-unreach":
		out, ok := icmpgen.PortUnreachable(buf, p, o)
		return out, ok, nil
	case "proto-unreach":
		out, ok := icmpgen.ProtoUnreachable(buf, p, o)
		return out, ok, nil
	case "time-exceeded":
		out, ok := icmpgen.TimeExceeded(buf, p, o)
		return out, ok, nil
	case "too-big":
		out, ok := icmpgen.TooBig(buf, p, mtu, o)
		return out, ok, nil
	case "echo":
		out, ok := icmpgen.EchoReply(buf, p, o)
		return out, ok, nil
	}
	return nil, false, fmt.Errorf("unknown model %q", kind)
}

// TestKernel regenerates every recorded answer from its trigger and
// compares it with what the kernel sent, byte for byte.
func TestKernel(t *testing.T) {
	files, err := filepath.Glob("testdata/kernel/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("%d recorded cases, want 40 or more (run icmpgen/record.sh as root)", len(files))
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
			for i, got := range want {
				kernel := c.recv[i]
				if c.at == "lo" {
					kernel = loopbackChecksum(t, kernel, got)
				}
				if !bytes.Equal(got, kernel) {
					t.Errorf("packet %d: model and kernel differ:\nmodel  %s\nkernel %s", i, dump(got), dump(c.recv[i]))
				}
			}
		})
	}
}

func loopbackChecksum(t *testing.T, kernel, model []byte) []byte {
	var p packet.Packet
	if p.Decode(kernel) != nil || p.Layers&packet.LayerTCP == 0 || !p.IsIPv4() {
		return kernel
	}
	at := len(p.Data) - len(p.Payload) - len(p.Transport) + 16
	partial := ^packet.Checksum(nil, packet.PseudoSum(p.Src(), p.Dst(), packet.ProtoTCP, len(p.Transport)+len(p.Payload)))
	if got := uint16(kernel[at])<<8 | uint16(kernel[at+1]); got != partial {
		t.Errorf("lo: kernel's TCP checksum field %#04x, want the pseudo-header sum %#04x", got, partial)
	}
	out := append([]byte(nil), kernel...)
	if at+2 <= len(model) {
		copy(out[at:at+2], model[at:at+2])
	}
	return out
}

func ttlOf(p *packet.Packet) uint8 {
	if p.IsIPv6() {
		return p.IPv6.HopLimit
	}
	return p.IPv4.TTL
}

func dump(b []byte) string {
	var p packet.Packet
	s := hex.EncodeToString(b)
	if p.Decode(b) == nil {
		s = p.String() + "\n       " + s
	}
	return s
}
