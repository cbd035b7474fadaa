package l4_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/ext/iphdr"
	"github.com/iptwin/iptwin/ipset"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// TestKernelMatches replays testdata/kernel/cases.golden: rules and
// packets the real kernel (Linux 6.18, iptables-nft 1.8.9) was given in
// a network namespace, and whether each packet matched the rule, did not,
// or was dropped by a match. Re-record with
// `python3 ext/l4/testdata/kernel/record.py` (root).
//
// The rules sit in raw PREROUTING of host B (10.9.0.2/24 and fd09::2/64
// on vm1b, MAC 02:00:00:00:0b:01); the frames come from
// 02:00:00:00:0a:01. The cases run in order over one set of ip sets, as
// in the kernel, where a test or a counter can change a set.
func TestKernelMatches(t *testing.T) {
	f, err := os.Open("testdata/kernel/cases.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := newKernelEnv()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n, bad := 0, 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if rest, ok := strings.CutPrefix(text, "#ipset\t"); ok {
			var out, errb bytes.Buffer
			if code, _ := env.sets.Run(strings.Split(rest, "\t"), nil, &out, &errb); code != 0 {
				t.Fatalf("line %d: ipset %s: %s", line, rest, errb.String())
			}
			continue
		}
		if strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) != 5 {
			t.Fatalf("line %d: %d fields", line, len(fields))
		}
		want := fields[4]
		if want == "error" {
			continue
		}
		fam := xtables.IPv4
		if fields[0] == "6" {
			fam = xtables.IPv6
		}
		got, err := env.evaluate(fam, fields[1], fields[2], fields[3])
		if err != nil {
			t.Fatalf("line %d: %s: %v", line, fields[1], err)
		}
		n++
		if got != want {
			bad++
			t.Errorf("line %d: %s %s on %s: %s, the kernel says %s", line, fields[0], fields[1], fields[3], got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cases, %d differ", n, bad)
}

// kernelEnv is host B as the recorded cases saw it.
type kernelEnv struct {
	sets *ipset.Host
	pkt  packet.Packet
	st   xtables.PacketState
}

func newKernelEnv() *kernelEnv {
	e := &kernelEnv{sets: ipset.NewHost()}
	e.sets.Now = func() int64 { return 1_700_000_000 }
	e.sets.Names = noNames
	return e
}

func (e *kernelEnv) Now() int64     { return 1_700_000_000 * 1e9 }
func (e *kernelEnv) Random() uint32 { return 4 }

// AddrType is B's local table: 10.9.0.2 and 127/8 local, 10.9.0.255 and
// 127.255.255.255 broadcast, fd09::2 and ::1 local.
func (e *kernelEnv) AddrType(a netip.Addr, dev string) int {
	switch {
	case a.Is4() && (a == netip.MustParseAddr("0.0.0.0") || a == netip.MustParseAddr("255.255.255.255")):
		return xtables.RTNBroadcast
	case a.IsMulticast():
		return xtables.RTNMulticast
	case a == netip.MustParseAddr("10.9.0.2") || a == netip.MustParseAddr("fd09::2"):
		if dev == "" || dev == "vm1b" {
			return xtables.RTNLocal
		}
	case a == netip.MustParseAddr("10.9.0.255"):
		if dev == "" || dev == "vm1b" {
			return xtables.RTNBroadcast
		}
	case a.Is4() && a.As4()[0] == 127 || a == netip.IPv6Loopback():
		if dev == "" || dev == "lo" {
			return xtables.RTNLocal
		}
	case a.Is6() && a.IsUnspecified():
		return xtables.RTNUnspec
	}
	return xtables.RTNUnicast
}

// ReverseRoute is B's FIB: 10.9.0.0/24, fd09::/64 and fe80::/64 on vm1b,
// the local addresses local; nothing else (no default route).
func (e *kernelEnv) ReverseRoute(dst, src netip.Addr, oif string, mark uint32) (int, string, bool) {
	if t := e.AddrType(dst, ""); t == xtables.RTNLocal {
		dev := "vm1b"
		if dst.IsLoopback() {
			dev = "lo"
		}
		if oif != "" && oif != dev {
			return 0, "", false
		}
		return xtables.RTNLocal, dev, true
	}
	for _, p := range []string{"10.9.0.0/24", "fd09::/64", "fe80::/64"} {
		if netip.MustParsePrefix(p).Contains(dst) {
			if oif != "" && oif != "vm1b" {
				return 0, "", false
			}
			return xtables.RTNUnicast, "vm1b", true
		}
	}
	return 0, "", false
}

func (e *kernelEnv) Log(*xtables.PacketState, xtables.LogRequest)    {}
func (e *kernelEnv) Reject(*xtables.PacketState, xtables.RejectType) {}

// Lookup gives the matches B's ip sets.
func (e *kernelEnv) Lookup(kind, name string) (any, bool) {
	if kind != "ipset" {
		return nil, false
	}
	if s := e.sets.Set(name); s != nil {
		return s, true
	}
	return nil, false
}

// evaluate runs one case: the rule's protocol as nf_tables checks it
// (meta l4proto), then its matches in order.
func (e *kernelEnv) evaluate(fam xtables.Family, spec, mac, pkthex string) (string, error) {
	args, err := iptables.SplitParams(spec)
	if err != nil {
		return "", err
	}
	cmd, err := iptables.Parse(append([]string{"-t", "raw", "-A", "PREROUTING"}, args...),
		iptables.ParseOptions{Family: fam, Names: noNames, Objects: e})
	if err != nil {
		return "", err
	}
	r := cmd.Rules[0]
	raw, err := hex.DecodeString(pkthex)
	if err != nil {
		return "", err
	}
	e.pkt.Decode(raw) // the matches read the bytes, decoded or not
	e.pkt.Data = raw
	frame := make([]byte, 14)
	m, _ := hex.DecodeString(strings.ReplaceAll(mac, ":", ""))
	copy(frame, m)
	copy(frame[6:], []byte{2, 0, 0, 0, 0x0a, 1})
	frame[12], frame[13] = 0x08, 0x00
	if fam == xtables.IPv6 {
		frame[12], frame[13] = 0x86, 0xdd
	}
	st := &e.st
	st.Env = e
	st.Reset()
	st.Family, st.Hook, st.Table = fam, xtables.HookPrerouting, "raw"
	st.Pkt, st.In, st.MAC = &e.pkt, "vm1b", frame
	st.FragOff = xtables.FragOffset(&e.pkt.Headers)
	if r.Proto != 0 {
		proto, ok := l4proto(fam, raw)
		if !ok || (proto == int(r.Proto)) == (r.Inv&xtables.InvProto != 0) {
			return "nomatch", nil
		}
	}
	for _, m := range r.Matches {
		pm, ok := m.Info.(xtables.PacketMatcher)
		if !ok {
			return "", fmt.Errorf("%s has no packet semantics", m.Type.Name)
		}
		ok = pm.MatchPacket(st)
		if st.HotDrop {
			return "drop", nil
		}
		if !ok {
			return "nomatch", nil
		}
	}
	return "match", nil
}

// l4proto is nf_tables' meta l4proto: the IPv4 protocol field, or where
// ipv6_find_hdr stops (at an AH header); none when the chain cannot be
// walked.
func l4proto(fam xtables.Family, d []byte) (int, bool) {
	if fam == xtables.IPv4 {
		return int(d[9]), true
	}
	p, _, _, err := iphdr.IPv6FindHdr(d, -1, true)
	return p, err == iphdr.FindOK
}
