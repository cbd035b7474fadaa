package xfrm

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iptwin/iptwin/ext/ctmatch"
)

// Save and Load keep everything the listings and the data path need: the
// same listing, the same lookups, the running counters.
func TestSaveLoad(t *testing.T) {
	d2, _ := seedDBs(t)
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	for i := 0; i < 3; i++ {
		x.Encapsulate(nil, in, &EncapParams{TTL: 64, Now: 1700000100})
	}
	d2.DefaultBlock[DirFwd] = true
	dir := t.TempDir()
	if db, err := Load(dir); err != nil || len(db.States)+len(db.Policies) != 0 {
		t.Fatalf("empty directory: %v", err)
	}
	if err := d2.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := &FormatOptions{Stats: 2, Location: time.UTC}
	list := func(db *DB) []byte {
		var b []byte
		for _, s := range db.States {
			b = AppendState(b, s, o)
		}
		for _, p := range db.Policies {
			b = AppendPolicy(b, p, o)
		}
		return b
	}
	if a, b := list(d2), list(got); !bytes.Equal(a, b) {
		t.Errorf("listing changed:\n%s\n---\n%s", a, b)
	}
	if !got.DefaultBlock[DirFwd] || got.IdxGen != d2.IdxGen {
		t.Error("defaults or index generator lost")
	}
	y := got.LookupSPI(d3addr, spi23, ProtoESP, 0)
	out, err := y.Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil || y.Replay.OSeq != 4 {
		t.Errorf("after load: seq %d, %v", y.Replay.OSeq, err)
	}
	var b Bundle
	fl := flowOf(t, in)
	if got.OutputPolicy(&fl, 0, nil, &b) != Transform || len(out) != 152 {
		t.Error("lookups differ after load")
	}
	// a damaged file says so
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"states":[{"proto":50,"spi":1,"bogus":1}]}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged file: %v", err)
	}
}

// The listing of a state that carried traffic: lastused, the sequence
// numbers and the counters (xfrm_state_info_print with -s).
func TestListingAfterTraffic(t *testing.T) {
	d2, d3 := seedDBs(t)
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	for i := 0; i < 4; i++ {
		out, _ := x.Encapsulate(nil, in, &EncapParams{TTL: 64, Now: 1700000100})
		if i == 2 {
			continue // lost on the way
		}
		if _, _, err := d3.Decapsulate(nil, out, &DecapParams{Now: 1700000101}, &SecPath{}); err != nil {
			t.Fatal(err)
		}
	}
	o := &FormatOptions{Location: time.UTC}
	want := "src 10.0.0.200 dst 10.0.0.201\n" +
		"\tproto esp spi 0xc187f495 reqid 1 mode tunnel\n" +
		"\treplay-window 32 flag af-unspec\n" +
		"\tauth-trunc hmac(sha1) 0x0102030405060708090a0b0c0d0e0f1011121314 96\n" +
		"\tenc cbc(aes) 0x00112233445566778899aabbccddeeff\n" +
		"\tlastused 2023-11-14 22:15:00\n" +
		"\tanti-replay context: seq 0x0, oseq 0x4, bitmap 0x00000000\n"
	if got := string(AppendState(nil, x, o)); got != want {
		t.Errorf("sender:\n%s\nwant\n%s", got, want)
	}
	y := d3.LookupSPI(d3addr, spi23, ProtoESP, 0)
	o.Stats = 1
	got := string(AppendState(nil, y, o))
	for _, line := range []string{
		"\tlastused 2023-11-14 22:15:01\n",
		"\tanti-replay context: seq 0x4, oseq 0x0, bitmap 0x0000000d\n",
		"\t  252(bytes), 3(packets)\n",
		"\t  add 1970-01-01 00:16:40 use 2023-11-14 22:15:01\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("receiver listing lacks %q:\n%s", line, got)
		}
	}
}

// SAInfo converts to what the policy match reads.
func TestSAInfoIsCtmatchXfrmState(t *testing.T) {
	d2, _ := seedDBs(t)
	info := d2.States[0].Info()
	x := ctmatch.XfrmState(info)
	if x.SPI != d2.States[0].SPI || x.Mode != 1 || x.Proto != ProtoESP || x.Reqid != 1 {
		t.Errorf("%+v", x)
	}
}
