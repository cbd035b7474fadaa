package nflog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

func TestFlagsMatchXtables(t *testing.T) {
	for _, f := range []struct{ ours, theirs uint8 }{
		{FlagTCPSeq, xtables.LogTCPSeq},
		{FlagTCPOpt, xtables.LogTCPOpt},
		{FlagIPOpt, xtables.LogIPOpt},
		{FlagUID, xtables.LogUID},
		{FlagMACDecode, xtables.LogMACDecode},
	} {
		if f.ours != f.theirs {
			t.Errorf("flag %#x, xtables has %#x", f.ours, f.theirs)
		}
	}
}

// goldenPacket decodes a recorded case's packet.
func goldenPacket(t testing.TB, name string) (*packet.Packet, *Meta) {
	t.Helper()
	for _, c := range loadGolden(t) {
		if c.Name == name {
			p := new(packet.Packet)
			_ = p.Decode(c.Packet)
			return p, metaOf(&c)
		}
	}
	t.Fatalf("no recorded case %s", name)
	return nil, nil
}

// The parts of dump_mac_header and nf_log_packet the veth recording
// cannot reach.
func TestMetaCorners(t *testing.T) {
	p, _ := goldenPacket(t, "udp-mark-uid")
	tests := []struct {
		name string
		m    Meta
		want string // the line up to SRC=
	}{
		{"no link-layer header", Meta{Prefix: "x ", In: "tun0"}, "x IN=tun0 OUT= MAC= "},
		{"macdecode without header", Meta{Flags: FlagMACDecode, In: "tun0"}, "IN=tun0 OUT= MAC= "},
		{"macdecode short header", Meta{Flags: FlagMACDecode, In: "eth0", MAC: []byte{1, 2, 3}}, "IN=eth0 OUT= "},
		{"mac of other length", Meta{In: "eth0", MAC: []byte{0xab, 0xcd}}, "IN=eth0 OUT= MAC=ab:cd "},
		{"no input device, MAC ignored", Meta{Out: "eth0", MAC: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0}}, "IN= OUT=eth0 "},
		{"prefix ends at NUL", Meta{Prefix: "ab\x00cd", In: "eth0"}, "abIN=eth0 OUT= MAC= "},
		{"prefix cut at 127 bytes", Meta{Prefix: strings.Repeat("p", 200)}, strings.Repeat("p", 127) + "IN= OUT= "},
		{"uid without socket", Meta{Flags: FlagUID}, "IN= OUT= "},
	}
	for _, tc := range tests {
		line := string(AppendLine(nil, p, &tc.m))
		head, _, ok := strings.Cut(line, "SRC=")
		if !ok || head != tc.want {
			t.Errorf("%s: got %q, want head %q", tc.name, line, tc.want)
		}
	}

	m := Meta{Flags: FlagUID, HasSock: true, UID: 4294967295, GID: 7, Mark: 0xffffffff}
	if line := string(AppendLine(nil, p, &m)); !strings.HasSuffix(line, "LEN=38 UID=4294967295 GID=7 MARK=0xffffffff ") {
		t.Errorf("owner and mark: %q", line)
	}
}

func TestNoIPHeader(t *testing.T) {
	var p packet.Packet
	if got := string(AppendLine(nil, &p, &Meta{Prefix: "x: "})); got != "x: IN= OUT= TRUNCATED" {
		t.Errorf("empty packet: %q", got)
	}
	p.Data = []byte{0x60, 0, 0, 0}
	if got := string(AppendLine(nil, &p, &Meta{})); got != "IN= OUT= TRUNCATED" {
		t.Errorf("short IPv6 header: %q", got)
	}
}

// TestAppendKeepsBuffer checks that AppendLine appends and that the cut
// at MaxLine counts only the line.
func TestAppendKeepsBuffer(t *testing.T) {
	p, m := goldenPacket(t, "line-cut-at-1016")
	head := []byte("Jun 20 21:51:02 debian kernel: ")
	line := AppendLine(append([]byte(nil), head...), p, m)
	if !strings.HasPrefix(string(line), string(head)) {
		t.Fatalf("buffer content lost: %q", line[:40])
	}
	if n := len(line) - len(head); n != MaxLine {
		t.Errorf("line is %d bytes, want %d", n, MaxLine)
	}
}

func TestAppendLineAllocs(t *testing.T) {
	for _, name := range []string{"seed002-output-reject", "seed001-reject-first-fragment", "ext-chain-ipopt", "output6-mark-all-flags", "line-cut-at-1016"} {
		p, m := goldenPacket(t, name)
		buf := make([]byte, 0, MaxLine)
		if n := testing.AllocsPerRun(200, func() { buf = AppendLine(buf[:0], p, m) }); n != 0 {
			t.Errorf("%s: %v allocations per line", name, n)
		}
	}
}

func BenchmarkAppendLine(b *testing.B) {
	for _, name := range []string{"seed000-input-ike", "seed002-output-reject", "seed001-reject-first-fragment", "output6-mark-all-flags"} {
		p, m := goldenPacket(b, name)
		buf := make([]byte, 0, MaxLine)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendLine(buf[:0], p, m)
			}
		})
	}
	// Baseline: the seed 000 line printed with fmt from decoded fields,
	// the obvious way to write a logger.
	p, m := goldenPacket(b, "seed000-input-ike")
	b.Run("baseline-fmt/seed000-input-ike", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, MaxLine)
		for b.Loop() {
			ip, u := &p.IPv4, &p.UDP
			buf = fmt.Appendf(buf[:0], "%sIN=%s OUT=%s MAC=% x SRC=%s DST=%s LEN=%d TOS=0x%02X PREC=0x%02X TTL=%d ID=%d DF PROTO=UDP SPT=%d DPT=%d LEN=%d ",
				m.Prefix, m.In, m.Out, m.MAC, ip.Src, ip.Dst, ip.TotalLen, ip.TOS&0x1e, ip.TOS&0xe0, ip.TTL, ip.ID, u.SrcPort, u.DstPort, u.Length)
		}
	})
}
