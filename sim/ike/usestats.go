package ike

import (
	"fmt"
	"net/netip"
	"time"
)

// Querier reads back what the kernel counts for the SAs and policies
// charon installed (kernel_netlink_ipsec.c query_sa and query_policy).
// Without one, statusall's counters stay at 0 as with a kernel
// interface that cannot be queried.
type Querier interface {
	// QuerySA is XFRM_MSG_GETSA for (dst, spi, proto): the SA's
	// curlft.bytes and curlft.packets; ok false when the kernel has no
	// such SA. (Its curlft.use_time is the first use, which charon
	// ignores: the last use is the policies'.)
	QuerySA(dst netip.Addr, spi uint32, proto uint8) (bytes, packets uint64, ok bool)
	// QueryPolicy is XFRM_MSG_GETPOLICY for the selector and direction
	// ("in", "out", "fwd") of a main policy: how many seconds ago the
	// kernel last used it (time(NULL) - curlft.use_time), used false
	// while its use_time is 0; ok false when there is no such policy.
	QueryPolicy(src, dst netip.Prefix, dir string) (idle int64, used, ok bool)
}

// useStats is what a CHILD_SA remembers of one direction's traffic
// (child_sa.c my_usebytes/my_usepackets/my_usetime and other_*).
type useStats struct {
	bytes, packets uint64
	// time is charon's monotonic clock in seconds at the last use; 0:
	// none known.
	time int64
}

// monoSecs is time_monotonic(NULL) at the daemon's time now: seconds
// since the host booted, some time before the network's time 0 (never
// 0, which means "no use" to child_sa.c; only differences show).
func monoSecs(now int64) int64 { return now/int64(time.Second) + monoBoot }

const monoBoot = 100

// usestats is child_sa.c get_usestats as log_child_sa calls it (the
// time, bytes and packets wanted): the counters are read from the SA,
// and only when its byte count grew since the last query is the use
// time read from the policies; otherwise the remembered values are
// shown again.
func (sa *ikeSA) usestats(ch *childSA, inbound bool, now int64) useStats {
	u := &ch.otherUse
	if inbound {
		u = &ch.myUse
	}
	if sa.updateUsebytes(ch, inbound, u) {
		sa.updateUsetime(ch, inbound, u, now)
	}
	return *u
}

// updateUsebytes is update_usebytes: query_sa on the inbound SA (to us,
// our SPI) or the outbound one; true (SUCCESS) only when its byte count
// exceeds the one remembered.
func (sa *ikeSA) updateUsebytes(ch *childSA, inbound bool, u *useStats) bool {
	q := sa.d.opt.Query
	if q == nil {
		return false
	}
	dst, spi := sa.other.Addr(), ch.spiOut
	if inbound {
		dst, spi = sa.me.Addr(), ch.spiIn
	}
	if spi == 0 {
		return false
	}
	bytes, packets, ok := q.QuerySA(dst, spi, 50)
	if !ok || bytes <= u.bytes {
		return false
	}
	u.bytes, u.packets = bytes, packets
	return true
}

// updateUsetime is update_usetime: the latest use of the CHILD_SA's
// policies in that direction (in and, except in transport mode, fwd for
// inbound; out for outbound), converted to charon's monotonic clock as
// query_policy does (time_monotonic - (time(NULL) - use_time)).
// Unchanged when no policy was used.
func (sa *ikeSA) updateUsetime(ch *childSA, inbound bool, u *useStats, now int64) {
	q := sa.d.opt.Query
	mono := monoSecs(now)
	var last int64
	use := func(src, dst netip.Prefix, dir string) {
		idle, used, ok := q.QueryPolicy(src, dst, dir)
		if !ok {
			return
		}
		t := int64(0)
		if used {
			t = mono - idle
		}
		last = max(last, t)
	}
	for _, l := range ch.localTS {
		for _, r := range ch.remoteTS {
			if inbound {
				use(r, l, "in")
				if ch.mode != "transport" {
					use(r, l, "fwd")
				}
			} else {
				use(l, r, "out")
			}
		}
	}
	if last != 0 {
		u.time = last
	}
}

// useText is one direction in log_child_sa: "84 bytes_i (1 pkt, 2s
// ago)", the parenthesis only once a use time is known.
func useText(u useStats, dir string, now int64) string {
	s := fmt.Sprintf("%d bytes_%s", u.bytes, dir)
	if u.time != 0 {
		pl := "s"
		if u.packets == 1 {
			pl = ""
		}
		s += fmt.Sprintf(" (%d pkt%s, %ds ago)", u.packets, pl, uint64(monoSecs(now)-u.time))
	}
	return s
}
