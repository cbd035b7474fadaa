package nflog

import (
	"testing"

	"github.com/iptwin/iptwin/packet"
)

// FuzzAppendLine: no packet, decodable or not, makes AppendLine panic or
// write a line longer than the kernel's; appending keeps what the buffer
// held and gives the same line as into an empty buffer.
func FuzzAppendLine(f *testing.F) {
	for _, c := range loadGolden(f) {
		f.Add(c.Packet, c.Flags, c.MAC)
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint8, mac []byte) {
		var p packet.Packet
		_ = p.Decode(data)
		m := Meta{Prefix: "fuzz: ", Flags: flags, In: "eth0", MAC: mac, Mark: 1, HasSock: true}
		line := AppendLine(nil, &p, &m)
		if len(line) > MaxLine {
			t.Fatalf("line of %d bytes", len(line))
		}
		again := AppendLine([]byte("head"), &p, &m)
		if string(again[:4]) != "head" || string(again[4:]) != string(line) {
			t.Fatalf("appending changed the line:\n%q\n%q", line, again)
		}
		// The bytes as the packet's data, whatever Decode made of them:
		// the logger reads them the way the kernel reads an skb.
		p.Data = data
		p.Layers = 0
		if l := AppendLine(nil, &p, &m); len(l) > MaxLine {
			t.Fatalf("line of %d bytes", len(l))
		}
	})
}
