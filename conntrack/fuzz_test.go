package conntrack

import (
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
)

// FuzzIn sends arbitrary packets (two in a row, the second as a reply
// candidate) through a table: no input may panic, and whatever In
// returns must be listable.
func FuzzIn(f *testing.F) {
	for _, s := range []string{
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 1000 mss 1460 sackok wscale 7",
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 syn ack 1001 seq 5000 tcpopts 0101050a000000010000000201",
		"udp [fd00::2]:41000 > [fd00::3]:53",
		"icmp 10.0.1.2 > 10.0.0.2 port-unreachable quoting udp 10.0.0.2:41000 > 10.0.1.2:53",
		"icmp6 fd00:1::2 > fd00::2 port-unreachable quoting tcp [fd00::2]:5000 > [fd00:1::2]:9 syn",
		"icmp6 fe80::1 > fd00::2 type 137 hlim 255",
		"esp 10.0.0.2 > 10.0.1.2",
	} {
		b, err := pktspec.MustParse(s).Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b, uint8(0))
	}
	f.Fuzz(func(t *testing.T, a, b []byte, hook uint8) {
		cfg := DefaultConfig()
		cfg.Max, cfg.Buckets = 4, 2
		tbl := New(cfg, 3)
		var p packet.Packet
		for i, d := range [][]byte{a, b, a} {
			p.Decode(d)
			c, _, _ := tbl.InHook(&p, int(hook%5), 0, int64(i)*1e9)
			if c != nil {
				tbl.Confirm(c, int64(i)*1e9)
			}
		}
		tbl.AppendList(nil, 2e9)
		tbl.Expire(1e15)
		if tbl.Count() != 0 {
			t.Fatalf("count %d after expiry", tbl.Count())
		}
	})
}
