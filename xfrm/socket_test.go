package xfrm

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSocketPolicies: a socket's policies (xfrm_sk_policy_insert) are
// listed as "socket in|out", newest first among the SPD's, with indexes
// of direction XFRM_POLICY_MAX+dir; lookups, counts and flushes of the
// SPD leave them alone; they survive a save; the socket's close removes
// them.
func TestSocketPolicies(t *testing.T) {
	db := NewDB()
	any4 := Selector{Family: Inet, Src: netip.IPv4Unspecified(), Dst: netip.IPv4Unspecified()}
	var idx []uint32
	for _, dir := range []Dir{DirOut, DirIn} {
		i, err := db.AddSocketPolicy(&PolicyRequest{Sel: any4, Dir: dir, Action: Allow}, 40)
		if err != nil {
			t.Fatal(err)
		}
		idx = append(idx, i)
	}
	if idx[0] != 4 || idx[1] != 11 {
		t.Errorf("indexes %v, want 4 and 11 (xfrm_gen_index of dirs 4 and 3)", idx)
	}
	if _, err := db.AddSocketPolicy(&PolicyRequest{Sel: any4, Dir: DirFwd, Action: Allow}, 40); err == nil {
		t.Error("a socket's fwd policy was accepted")
	}
	sel := Selector{Family: Inet, Src: netip.MustParseAddr("10.1.0.0"), SrcLen: 16, Dst: netip.MustParseAddr("10.2.0.0"), DstLen: 16}
	if err := db.AddPolicy(&PolicyRequest{Sel: sel, Dir: DirOut, Action: Block, Lft: DefaultLifetime()}, false, 41); err != nil {
		t.Fatal(err)
	}
	o := &FormatOptions{Location: time.UTC}
	var b []byte
	for _, p := range db.Policies {
		b = AppendPolicy(b, p, o)
	}
	want := "src 10.1.0.0/16 dst 10.2.0.0/16 \n\tdir out action block priority 0 ptype main \n" +
		"src 0.0.0.0/0 dst 0.0.0.0/0 \n\tsocket in priority 0 ptype main \n" +
		"src 0.0.0.0/0 dst 0.0.0.0/0 \n\tsocket out priority 0 ptype main \n"
	if string(b) != want {
		t.Errorf("listing:\n%s\nwant\n%s", b, want)
	}
	if in, out, fwd := db.Count(); in != 0 || out != 1 || fwd != 0 {
		t.Errorf("Count %d %d %d", in, out, fwd)
	}
	if in, out, fwd := db.SocketCount(); in != 1 || out != 1 || fwd != 0 {
		t.Errorf("SocketCount %d %d %d", in, out, fwd)
	}
	fl := Flow{Family: Inet, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}
	if p := db.Lookup(&fl, DirOut); p != nil {
		t.Errorf("lookup found %+v", p)
	}
	if p := db.Lookup(&fl, DirIn); p != nil {
		t.Errorf("lookup found %+v", p)
	}
	if _, err := db.GetPolicy(&PolicyID{Sel: any4, Dir: DirIn}); err == nil {
		t.Error("get by selector found the socket's policy")
	}
	data, err := db.Encode()
	if err != nil {
		t.Fatal(err)
	}
	db2, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	db2.FlushPolicies(TypeMain)
	if len(db2.Policies) != 2 || db2.SocketPolicy(idx[1]) == nil || db2.SocketPolicy(idx[1]).Dir != DirSocketIn {
		t.Errorf("after save and flush: %d policies", len(db2.Policies))
	}
	db2.DeleteSocketPolicy(idx[0])
	db2.DeleteSocketPolicy(idx[1])
	if len(db2.Policies) != 0 || db2.SocketPolicy(idx[0]) != nil {
		t.Errorf("after the socket closed: %d policies", len(db2.Policies))
	}
	bad := strings.Replace(string(data), `"dir": 4`, `"dir": 5`, 1)
	if _, err := Decode([]byte(bad)); err == nil {
		t.Error("a socket's fwd policy decoded")
	}
}
