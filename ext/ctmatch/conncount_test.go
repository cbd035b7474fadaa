package ctmatch_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// bareEnv hides the fake host's conntrack look-ups.
type bareEnv struct{ xtables.Env }

func TestConnlimitCounts(t *testing.T) {
	env := &kt.Env{NowNs: 1e9}
	m := kt.Match(t, v4, "-p", "tcp", "--syn", "-m", "connlimit", "--connlimit-above", "2", "--connlimit-mask", "24")
	n := 0
	// syn sends the first packet of a new connection from 10.0.0.x:port.
	syn := func(host string, port uint16) (*kt.Conn, bool, bool) {
		n++
		c := kt.Flow(6, host, port, "10.9.9.9", 80)
		pk := kt.Build(t, kt.Pkt{Src: host, Dst: "10.9.9.9", Proto: 6, Sport: port, Dport: 80, Flags: packet.TCPSyn})
		st := kt.State(v4, xtables.HookInput, pk, env)
		st.Ct, st.CtInfo = c, xtables.CtNew
		got := m.MatchPacket(st)
		return c, got, st.HotDrop
	}
	step := func(ms int64) { env.NowNs += ms * 1e6 }
	a, above, _ := syn("10.0.0.1", 1000)
	if above {
		t.Fatal("first connection is above 2")
	}
	env.AddConn(a)
	step(10)
	b, above, _ := syn("10.0.0.2", 1001)
	if above {
		t.Fatal("second connection is above 2")
	}
	env.AddConn(b)
	step(10)
	if _, above, _ = syn("10.0.0.3", 1002); !above {
		t.Fatal("third connection is not above 2")
	}
	// The third was dropped (never confirmed): the next look-up evicts it.
	step(10)
	d, above, _ := syn("10.0.0.4", 1003)
	if !above {
		t.Fatal("A, B, D: above 2")
	}
	_ = d // dropped too
	// Another /24 has its own count.
	if _, above, _ = syn("10.0.1.1", 1000); above {
		t.Error("another network counted with the first")
	}
	// A closes: gone from the count, as is the unconfirmed D.
	a.IsClosed = true
	step(10)
	e, above, _ := syn("10.0.0.5", 1004)
	if above {
		t.Fatal("B and E: not above 2")
	}
	// In the same jiffy the list is not checked again: F is added to
	// B, E and counts 3 even though E is not confirmed... and also not
	// gone.
	if _, above, _ = syn("10.0.0.6", 1005); !above {
		t.Error("same jiffy: B, E, F is above 2")
	}
	_ = e
	// An assured, confirmed connection is not added again: its packets
	// see the current count after a clean-up.
	b.St |= xtables.IPSAssured
	step(10)
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.2", Dst: "10.9.9.9", Proto: 6, Sport: 1001, Dport: 80, Flags: packet.TCPSyn})
	st := kt.State(v4, xtables.HookInput, pk, env)
	st.Ct, st.CtInfo = b, xtables.CtEstablished
	if m.MatchPacket(st) || st.HotDrop {
		t.Errorf("assured B sees more than 2 (hotdrop %v)", st.HotDrop)
	}
	// When every connection of a key is gone, an assured packet finds an
	// empty list: count 0, dropped (connlimit_mt's hotdrop).
	b.IsClosed = true
	step(10)
	if m.MatchPacket(st) || !st.HotDrop {
		t.Error("empty list for an assured packet: not dropped")
	}
	if n == 0 {
		t.Fatal("no packets")
	}
}

func TestConnlimitUptoAndDaddr(t *testing.T) {
	env := &kt.Env{NowNs: 5e9}
	m := kt.Match(t, v4, "-m", "connlimit", "--connlimit-upto", "1", "--connlimit-daddr")
	for i, want := range []bool{true, false, false} {
		c := kt.Flow(17, "10.0.0.1", uint16(5000+i), "10.9.9.9", 53)
		pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.9.9.9", Proto: 17, Sport: uint16(5000 + i), Dport: 53})
		st := kt.State(v4, xtables.HookInput, pk, env)
		st.Ct, st.CtInfo = c, xtables.CtNew
		if got := m.MatchPacket(st); got != want {
			t.Errorf("connection %d: upto 1 = %v", i+1, got)
		}
		env.AddConn(c)
		env.NowNs += 1e7
	}
	// Untracked packets count by their own tuple, found in the table
	// when there.
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.7", Dst: "10.9.9.8", Proto: 17, Sport: 1, Dport: 2})
	st := kt.State(v4, xtables.HookInput, pk, env)
	st.CtInfo = xtables.CtUntracked
	if !m.MatchPacket(st) {
		t.Error("untracked packet of a new destination: upto 1")
	}
	// Without conntrack look-ups the count is unknown: no match.
	st = kt.State(v4, xtables.HookInput, pk, bareEnv{env})
	if m.MatchPacket(st) {
		t.Error("matched without a host to count with")
	}
}
