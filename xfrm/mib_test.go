package xfrm

import (
	"net/netip"
	"strings"
	"testing"
)

// The statistics the data path counts, as /proc/net/xfrm_stat shows
// them (the names and order of Linux 6.18, measured).
func TestMIB(t *testing.T) {
	d2, d3 := seedDBs(t)
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	fl := flowOf(t, in)
	var b Bundle
	d2.OutputPolicy(&fl, 0, nil, &b)
	out, err := b.SAs[0].Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil {
		t.Fatal(err)
	}
	// a clear packet the fwd policy covers, then one from the tunnel
	if r := d3.Check(DirFwd, &fl, &SecPath{}, 1); r != CheckTmplMismatch || d3.MIB[MIBInTmplMismatch] != 1 {
		t.Fatalf("%v %v", r, d3.MIB)
	}
	var sp SecPath
	if _, _, err := d3.Decapsulate(nil, out, &DecapParams{}, &sp); err != nil {
		t.Fatal(err)
	}
	if r := d3.Check(DirFwd, &fl, &sp, 1); r != CheckOK || sp.Verified != 1 {
		t.Fatalf("%v, verified %d", r, sp.Verified)
	}
	// an unknown SPI
	bad := append([]byte(nil), out...)
	bad[20] ^= 0xff
	if _, _, err := d3.Decapsulate(nil, bad, &DecapParams{}, &SecPath{}); err != ErrNoState || d3.MIB[MIBInNoStates] != 1 {
		t.Fatalf("%v %d", err, d3.MIB[MIBInNoStates])
	}
	// no state for the out policy, then a block policy
	d2.FlushStates(0)
	if v := d2.OutputPolicy(&fl, 0, nil, &b); v != NoState || d2.MIB[MIBOutNoStates] != 1 {
		t.Fatalf("%v %d", v, d2.MIB[MIBOutNoStates])
	}
	for _, p := range d2.Policies {
		if p.Dir == DirOut {
			p.Action = Block
		}
	}
	if v := d2.OutputPolicy(&fl, 0, nil, &b); v != Blocked || d2.MIB[MIBOutPolBlock] != 1 {
		t.Fatalf("%v %d", v, d2.MIB[MIBOutPolBlock])
	}
	stat := string(d3.AppendStat(nil))
	lines := strings.Split(strings.TrimSuffix(stat, "\n"), "\n")
	if len(lines) != int(NumMIB) || lines[0] != "XfrmInError             \t0" ||
		lines[MIBInNoStates] != "XfrmInNoStates          \t1" || lines[NumMIB-1] != "XfrmOutNoQueueSpace     \t0" {
		t.Fatalf("%q", lines)
	}
	if MIBOutNoStates.String() != "XfrmOutNoStates" || MIB(200).String() != "XfrmUnknown" {
		t.Error("names")
	}
}

// A socket's bypass policy lets clear packets in whatever the host's
// policies say, but not tunnel-mode ones (no template allows them).
func TestCheckBypass(t *testing.T) {
	_, d3 := seedDBs(t)
	fl := flow("192.168.200.2", "192.168.201.2", protoUDP, 500, 500)
	if r := d3.CheckBypass(fl, &SecPath{}); r != CheckOK {
		t.Fatalf("clear: %v", r)
	}
	sp := SecPath{Len: 1}
	sp.SAs[0] = d3.States[0]
	if r := d3.CheckBypass(fl, &sp); r != CheckTmplMismatch || d3.MIB[MIBInTmplMismatch] != 1 {
		t.Fatalf("tunnel: %v", r)
	}
	if !sp.HasTunnel() {
		t.Error("HasTunnel")
	}
}
