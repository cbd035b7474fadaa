package rate

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// The recent tables outlive a packet in the kernel (they are the
// network namespace's, /proc/net/xt_recent/NAME); a twin host kept in a
// state directory saves them between invocations so that, say, the
// fourth SSH attempt traced by a fourth `iptwin trace` meets a
// --hitcount 4 rule as it would on the machine. Their stamps are jiffies
// of the host's clock, which the state directory keeps too.
//
// Format (version 1): a header line, then per table (by name)
//
//	table MASK NSTAMPSMASK NAME
//	e FAMILY ADDR TTL INDEX NSTAMPS STAMP...
//
// with MASK and ADDR in hex (16 bytes), NAME the rest of its line (it may
// hold spaces) and the entries oldest first.

const recentFileHeader = "iptwin recent tables 1"

// HasRecent says whether the host has any recent table.
func (s *Shared) HasRecent() bool { return s != nil && len(s.recent) > 0 }

// SaveRecent writes the host's recent tables.
func (s *Shared) SaveRecent(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, recentFileHeader)
	names := make([]string, 0, len(s.recent))
	for n := range s.recent {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := s.recent[n]
		fmt.Fprintf(bw, "table %s %d %s\n", hex.EncodeToString(t.mask[:]), t.nstampsMask, n)
		for _, e := range t.entries {
			fmt.Fprintf(bw, "e %d %s %d %d %d", e.family, hex.EncodeToString(e.addr[:]), e.ttl, e.index, e.nstamps)
			for _, st := range e.stamps {
				fmt.Fprintf(bw, " %d", st)
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// LoadRecent replaces the host's recent tables with those r holds. A
// damaged file is an error naming its line; nothing is changed then.
func (s *Shared) LoadRecent(r io.Reader) error {
	tables := map[string]*recentTable{}
	var cur *recentTable
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	fail := func(format string, a ...any) error {
		return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, a...))
	}
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if line == 1 {
			if sc.Text() != recentFileHeader {
				return fail("not a recent tables file (%q)", sc.Text())
			}
			continue
		}
		switch {
		case len(f) >= 4 && f[0] == "table":
			t := &recentTable{}
			m, err := hex.DecodeString(f[1])
			n, err2 := strconv.ParseUint(f[2], 10, 16)
			parts := strings.SplitN(sc.Text(), " ", 4)
			if err != nil || err2 != nil || len(m) != 16 || n+1 > recentMaxStamps || n&(n+1) != 0 || len(parts) != 4 {
				return fail("bad table line")
			}
			name := parts[3]
			if _, dup := tables[name]; dup || name == "" {
				return fail("table %q twice", name)
			}
			copy(t.mask[:], m)
			t.nstampsMask = uint16(n)
			tables[name] = t
			cur = t
		case len(f) >= 6 && f[0] == "e" && cur != nil:
			nums := make([]uint64, 0, len(f)-1)
			for i, x := range f[1:] {
				if i == 1 {
					continue
				}
				v, err := strconv.ParseUint(x, 10, 64)
				if err != nil {
					return fail("bad number %q", x)
				}
				nums = append(nums, v)
			}
			a, err := hex.DecodeString(f[2])
			fam, ttl, index, nstamps, stamps := nums[0], nums[1], nums[2], nums[3], nums[4:]
			if err != nil || len(a) != 16 || (fam != uint64(xtables.IPv4) && fam != uint64(xtables.IPv6)) ||
				ttl > 255 || len(stamps) != int(cur.nstampsMask)+1 || index > uint64(len(stamps)) ||
				nstamps > uint64(len(stamps)) || len(cur.entries) >= ipListTot {
				return fail("bad entry")
			}
			e := &recentEntry{family: xtables.Family(fam), ttl: uint8(ttl), index: uint16(index), nstamps: uint16(nstamps), stamps: stamps}
			copy(e.addr[:], a)
			cur.entries = append(cur.entries, e)
		default:
			return fail("unexpected %q", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if line == 0 {
		return fmt.Errorf("line 1: empty file")
	}
	s.recent = tables
	return nil
}
