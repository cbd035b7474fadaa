package packet

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecode: no input makes the decoder (or the summary, or the encoder)
// panic, and a packet that decodes re-encodes to the bytes it came from,
// which decode to the same fields. The seeds (every kernel and built
// packet, cut at a few places) run with plain go test.
func FuzzDecode(f *testing.F) {
	var seeds [][]byte
	seeds = append(seeds, kernelPackets(f)...)
	seeds = append(seeds, builtPackets()...)
	for _, s := range seeds {
		f.Add(s)
		for _, cut := range []int{1, 8, 21, 28, 41, 48} {
			if cut < len(s) {
				f.Add(s[:len(s)-cut])
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p, q Packet
		if err := p.Decode(b); err != nil {
			_ = err.Error()
			return
		}
		_ = p.String()
		out, err := p.Append(nil, 0)
		if err != nil {
			t.Fatalf("decoded packet does not encode: %v", err)
		}
		if !bytes.Equal(out, p.Data) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", out, p.Data)
		}
		if err := q.Decode(out); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !reflect.DeepEqual(&p, &q) {
			t.Fatalf("fields differ:\n%+v\n%+v", p.Headers, q.Headers)
		}
		// Rebuilding lengths and checksums may legitimately fail (e.g.
		// fields the decoder accepted that no longer fit), but not panic;
		// when it works the result decodes.
		if fixed, err := p.Append(nil, FixAll); err == nil {
			var r Packet
			if err := r.Decode(fixed); err != nil && !p.Truncated {
				t.Fatalf("FixAll output %x does not decode: %v", fixed, err)
			}
		}
		// Rewrites never panic either.
		p.SetTTL(1)
		p.SetSrcPort(7)
		p.Inner.SetDstPort(9)
		p.FixICMPChecksum()
		_, _, _ = FragmentIPv4(nil, nil, b, 68)
		_, _, _ = FragmentIPv6(nil, nil, b, 1280, 1)
	})
}
