package xfrm

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// A pair of SAs (sender, receiver) with the given replay configuration.
func replayPair(t *testing.T, window uint32, esn bool) (tx, rx *State) {
	t.Helper()
	var sts [2]*State
	for i := range sts {
		db := NewDB()
		r := saReq(d2addr, d3addr, 0x77, key1, auth1)
		if window > 32 || esn {
			r.ReplayWindow = 0
			r.ReplayESN = &Replay{Window: window, Bmp: make([]uint32, (window+31)/32)}
			if esn {
				r.Flags |= StateESN
			}
		} else {
			r.ReplayWindow = window
		}
		if err := db.AddState(r, false, 0); err != nil {
			t.Fatal(err)
		}
		sts[i] = db.States[0]
	}
	return sts[0], sts[1]
}

// receive decapsulates one packet the sender made with sequence number
// seq (the sender's counter set just before).
func replayOne(t *testing.T, tx, rx *State, lo, hi uint32) error {
	t.Helper()
	tx.Replay.OSeq, tx.Replay.OSeqHi = lo-1, hi
	tx.ExtraFlags = 0
	if lo == 0 {
		tx.Replay.OSeq, tx.Replay.OSeqHi = 0xffffffff, hi-1
		tx.ExtraFlags = ExtraOSeqMayWrap
	}
	in := echo(netip.MustParseAddr("192.168.200.1"), netip.MustParseAddr("192.168.201.1"), 64, 0, 1)
	out, err := tx.Encapsulate(nil, in, &EncapParams{TTL: 64})
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(out[24:]); got != lo {
		t.Fatalf("sent seq %d, want %d", got, lo)
	}
	db := &DB{States: []*State{rx}}
	_, _, err = db.Decapsulate(nil, out, &DecapParams{}, &SecPath{})
	return err
}

func TestReplayWindows(t *testing.T) {
	for _, c := range []struct {
		name   string
		window uint32
		esn    bool
	}{{"legacy 32", 32, false}, {"bitmap 64", 64, false}, {"esn 128", 128, true}} {
		t.Run(c.name, func(t *testing.T) {
			tx, rx := replayPair(t, c.window, c.esn)
			ok := func(seq uint32) {
				t.Helper()
				if err := replayOne(t, tx, rx, seq, 0); err != nil {
					t.Errorf("seq %d: %v", seq, err)
				}
			}
			bad := func(seq uint32) {
				t.Helper()
				if err := replayOne(t, tx, rx, seq, 0); !errors.Is(err, ErrReplay) {
					t.Errorf("seq %d: %v, want a replay drop", seq, err)
				}
			}
			ok(1)
			ok(3)
			ok(2)
			bad(2)
			bad(3)
			ok(1000)
			ok(1000 - c.window + 1) // the oldest the window holds
			if c.esn {
				// below the window an ESN receiver infers the next high
				// half (xfrm_replay_seqhi): the ICV does not verify
				if err := replayOne(t, tx, rx, 1000-c.window, 0); !errors.Is(err, ErrIntegrity) {
					t.Errorf("below the window: %v", err)
				}
			} else {
				bad(1000 - c.window) // just outside
			}
			ok(999)
			bad(999)
			if c.esn {
				return
			}
			bad(0) // sequence number 0 never arrives
		})
	}
	// a window of 0 checks nothing
	tx, rx := replayPair(t, 0, false)
	for i := 0; i < 2; i++ {
		if err := replayOne(t, tx, rx, 5, 0); err != nil {
			t.Errorf("window 0: %v", err)
		}
	}
}

// Extended sequence numbers: the high half is inferred from the window
// and covered by the ICV; the sender counts on through 2^32.
func TestESNHighHalf(t *testing.T) {
	tx, rx := replayPair(t, 64, true)
	for _, seq := range []uint32{1000, 0xffffff00, 0xfffffff0} {
		if err := replayOne(t, tx, rx, seq, 0); err != nil {
			t.Fatalf("seq %#x: %v", seq, err)
		}
	}
	if err := replayOne(t, tx, rx, 5, 1); err != nil {
		t.Fatalf("wrapped: %v", err)
	}
	if rx.Replay.SeqHi != 1 || rx.Replay.Seq != 5 {
		t.Errorf("receiver at %d:%d", rx.Replay.SeqHi, rx.Replay.Seq)
	}
	// a packet of the old half inside the window still passes
	if err := replayOne(t, tx, rx, 0xfffffff8, 0); err != nil {
		t.Errorf("late packet of the old half: %v", err)
	}
	// the sender's counter carries into the high half
	tx.Replay.OSeq, tx.Replay.OSeqHi = 0xffffffff, 3
	lo, hi, err := tx.nextSeq()
	if err != nil || lo != 0 || hi != 4 {
		t.Errorf("next after 3:ffffffff: %d:%d %v", hi, lo, err)
	}
}
