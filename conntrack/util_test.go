package conntrack

import (
	"strings"
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/xtables"
)

const sec = int64(1e9)

// pkt builds a packet from the trace notation (pktspec).
func pkt(t testing.TB, spec string) *packet.Packet {
	t.Helper()
	s, err := pktspec.Parse(spec)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	b, err := s.Append(nil)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	p := new(packet.Packet)
	if err := p.Decode(b); err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return p
}

// host is a table with a clock: each step sends one packet through
// conntrack (PREROUTING) and confirms a new entry.
type host struct {
	t   *testing.T
	tbl *Table
	now int64
}

func newHost(t *testing.T, cfg Config) *host {
	return &host{t: t, tbl: New(cfg, 42), now: 1000 * sec}
}

// send runs spec through In and Confirm; it returns the entry and state.
func (h *host) send(spec string) (*Conn, xtables.CtInfo) {
	h.t.Helper()
	c, info, v := h.tbl.In(pkt(h.t, spec), 0, h.now)
	if v != Accept {
		h.t.Fatalf("%s: verdict %v", spec, v)
	}
	if c != nil && !h.tbl.Confirm(c, h.now) {
		h.t.Fatalf("%s: not confirmed", spec)
	}
	return c, info
}

// list is the table as conntrack -L prints it.
func (h *host) list() string { return string(h.tbl.AppendList(nil, h.now)) }

func ctName(i xtables.CtInfo) string {
	return [...]string{"INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED"}[i]
}

// expect checks a step: the state the packet got, the reply flag, and
// (when not "") the entry's listing.
func (h *host) expect(spec, info string, reply bool, listing string) *Conn {
	h.t.Helper()
	c, got := h.send(spec)
	if ctName(got) != info {
		h.t.Errorf("%s: state %s, want %s (%s)", spec, ctName(got), info, h.tbl.InvalidReason())
	}
	if c != nil && c.Reply() != reply {
		h.t.Errorf("%s: reply %v, want %v", spec, c.Reply(), reply)
	}
	if listing != "" {
		if got := strings.TrimSuffix(h.list(), "\n"); got != listing {
			h.t.Errorf("after %s:\n got %s\nwant %s", spec, got, listing)
		}
	}
	return c
}
