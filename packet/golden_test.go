package packet

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/built.pcap from builtPackets (then run testdata/record.sh)")

// TestTcpdumpGolden compares the summary of every packet of every
// testdata/*.pcap with the line the real tcpdump 4.99 printed for it
// (testdata/*.tcpdump, recorded by testdata/record.sh with -nn -S -t).
func TestTcpdumpGolden(t *testing.T) {
	pcaps, _ := filepath.Glob("testdata/*.pcap")
	if len(pcaps) == 0 {
		t.Fatal("no testdata/*.pcap")
	}
	for _, name := range pcaps {
		f, err := readPcap(name)
		if err != nil {
			t.Fatal(err)
		}
		gold, err := os.ReadFile(strings.TrimSuffix(name, ".pcap") + ".tcpdump")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(gold), "\n"), "\n")
		if len(lines) != len(f.packets) {
			t.Fatalf("%s: %d packets, %d golden lines", name, len(f.packets), len(lines))
		}
		for i, pkt := range f.packets {
			var p Packet
			if err := decodeLink(&p, f.link, pkt); err != nil {
				t.Errorf("%s #%d: decode: %v", name, i+1, err)
				continue
			}
			if got := p.String(); got != lines[i] {
				t.Errorf("%s #%d:\n got %s\nwant %s", name, i+1, got, lines[i])
			}
			// Every captured packet re-encodes to its own bytes.
			out, err := p.Append(nil, 0)
			if err != nil {
				t.Errorf("%s #%d: encode: %v", name, i+1, err)
			} else if ip := p.Data; !bytes.Equal(out, ip) {
				t.Errorf("%s #%d: re-encoded\n%x\nwant\n%x", name, i+1, out, ip)
			}
		}
	}
}
