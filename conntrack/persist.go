package conntrack

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/iptwin/iptwin/xtables"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// The table between two runs of a twin host (iptwin trace saves it in the
// state directory): Save writes every confirmed, unexpired entry with all
// that the trackers and NAT read of it, Load puts them back into an empty
// table, after which the next packets meet exactly the table they would
// have met had the host never stopped.
//
// # Format (version 1)
//
// A text file of lines; blank lines and lines starting with "#" are
// ignored. Fields are KEY=VALUE separated by spaces, each key once, in
// any order; numbers are decimal unless written 0x….
//
//	iptwin-conntrack 1
//	table seed=0x2a next-id=7 last-gc=-
//	conn id=3 zone=0 proto=6 orig=ipv4,10.0.0.2,40000,192.0.2.9,80 reply=ipv4,192.0.2.9,80,192.0.2.1,40000 status=0x19e ...
//
// The first line names the format and its version. "table" comes once,
// before the entries:
//
//	seed     the hash seed (0x…, 64 bits): entries keep their buckets
//	next-id  the id the next new entry takes after this one
//	last-gc  when a full table last collected expired entries, in
//	         jiffies relative to the time of the save ("-": never)
//
// Each "conn" line is one entry, in confirmation order (oldest first, the
// order of conntrack -L):
//
//	id         the entry's id (ctnetlink's CTA_ID)
//	zone       conntrack zone, 0-65535
//	proto      transport protocol number of both tuples
//	orig       the original tuple: FAMILY,SRC,SPORT,DST,DPORT with FAMILY
//	reply      ipv4 or ipv6 and ports 0-65535 (ICMP: SPORT is the id,
//	           DPORT type<<8|code); the reply tuple as NAT altered it
//	status     the IPS_* bits (0x…); IPS_CONFIRMED must be set, IPS_DYING not
//	mark       ct->mark
//	labels     the connlabel bits 0-63 and 64-127: 0x…,0x…
//	expires    the jiffies (HZ=250) left before the entry times out, > 0
//	dir        direction of the last packet: orig or reply
//	acct       "-" (no nf_conntrack_acct) or PACKETS,BYTES,PACKETS,BYTES
//	           of the original then the reply direction
//	masq-dev   ifindex of a MASQUERADE mapping's device (0: none)
//	nat-src    "-", or the entry's place in nf_nat_bysource among the
//	           entries of its source (0 the oldest)
//	udp-stream "-" or the jiffies, relative to the save, from which a
//	           replied UDP flow counts as a stream
//	tcp        (TCP only) the state: NONE, SYN_SENT, … SYN_SENT2
//	tcp-orig   (TCP only) what tcp_in_window knows of each direction:
//	tcp-reply  END,MAXEND,MAXWIN,MAXACK,SCALE,FLAGS
//	tcp-last   (TCP only) the last packet seen:
//	           DIR,RETRANS,INDEX,SEQ,ACK,END,WIN,WSCALE,FLAGS
//
// Times are relative to the host clock given to Save and Load, so a file
// keeps its meaning however the clock it is loaded with was kept. The
// table's settings (sysctls) are not in the file: the table loaded into
// has its own. Unconfirmed entries (a packet in flight) and expired ones
// (which the kernel's GC worker collects) are not written.

// persistMagic is the first line of a version 1 file.
const persistMagic = "iptwin-conntrack 1"

// maxRelJiffies bounds the relative times of a file (about 35,000 years)
// so that adding the clock cannot overflow.
const maxRelJiffies = 1 << 48

// Save writes the table's confirmed, unexpired entries at host time now
// in the format above.
func (t *Table) Save(w io.Writer, now int64) error {
	bw := bufio.NewWriter(w)
	j := jiffies(now)
	b := make([]byte, 0, 512)
	b = append(b, persistMagic...)
	b = append(b, "\ntable seed=0x"...)
	b = strconv.AppendUint(b, t.seed, 16)
	b = append(b, " next-id="...)
	b = strconv.AppendUint(b, uint64(t.nextID), 10)
	b = append(b, " last-gc="...)
	b = appendRel(b, t.lastGC, j)
	b = append(b, '\n')
	if _, err := bw.Write(b); err != nil {
		return err
	}
	// The place of each entry in its source's nf_nat_bysource chain,
	// counted from the oldest (the chain's tail).
	natPos := map[*Conn]int{}
	for _, head := range t.bysrc {
		n := 0
		for c := head; c != nil; c = c.natNext {
			n++
		}
		for c := head; c != nil; c = c.natNext {
			n--
			natPos[c] = n
		}
	}
	for c := t.first; c != nil; c = c.next {
		if c.expired(now) {
			continue
		}
		b = c.appendPersist(b[:0], j, natPos)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendRel appends an absolute jiffy time relative to j, or "-" for 0
// (never).
func appendRel(b []byte, v, j int64) []byte {
	if v == 0 {
		return append(b, '-')
	}
	return strconv.AppendInt(b, v-j, 10)
}

func (c *Conn) appendPersist(b []byte, j int64, natPos map[*Conn]int) []byte {
	b = append(b, "conn id="...)
	b = strconv.AppendUint(b, uint64(c.id), 10)
	b = append(b, " zone="...)
	b = strconv.AppendUint(b, uint64(c.zone), 10)
	b = append(b, " proto="...)
	b = strconv.AppendUint(b, uint64(c.th[Original].k.proto), 10)
	b = append(b, " orig="...)
	b = appendPersistKey(b, &c.th[Original].k)
	b = append(b, " reply="...)
	b = appendPersistKey(b, &c.th[Reply].k)
	b = append(b, " status=0x"...)
	b = strconv.AppendUint(b, uint64(c.status), 16)
	b = append(b, " mark="...)
	b = strconv.AppendUint(b, uint64(c.mark), 10)
	b = append(b, " labels=0x"...)
	b = strconv.AppendUint(b, c.labels[0], 16)
	b = append(b, ",0x"...)
	b = strconv.AppendUint(b, c.labels[1], 16)
	b = append(b, " expires="...)
	b = strconv.AppendInt(b, c.timeout-j, 10)
	b = append(b, " dir="...)
	if c.reply {
		b = append(b, "reply"...)
	} else {
		b = append(b, "orig"...)
	}
	b = append(b, " acct="...)
	if c.hasAcct {
		b = appendUints(b, c.acct[0].packets, c.acct[0].bytes, c.acct[1].packets, c.acct[1].bytes)
	} else {
		b = append(b, '-')
	}
	b = append(b, " masq-dev="...)
	b = strconv.AppendInt(b, int64(c.masqDev), 10)
	b = append(b, " nat-src="...)
	if p, ok := natPos[c]; ok {
		b = strconv.AppendInt(b, int64(p), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, " udp-stream="...)
	b = appendRel(b, c.udpStream, j)
	if c.th[Original].k.proto == 6 {
		tc := &c.tcp
		b = append(b, " tcp="...)
		b = append(b, TCPStateName(tc.state)...)
		for d, name := range [2]string{" tcp-orig=", " tcp-reply="} {
			s := &tc.seen[d]
			b = append(b, name...)
			b = appendUints(b, uint64(s.end), uint64(s.maxEnd), uint64(s.maxWin), uint64(s.maxAck),
				uint64(s.scale), uint64(s.flags))
		}
		b = append(b, " tcp-last="...)
		b = appendUints(b, uint64(tc.lastDir), uint64(tc.retrans), uint64(tc.lastIndex),
			uint64(tc.lastSeq), uint64(tc.lastAck), uint64(tc.lastEnd), uint64(tc.lastWin),
			uint64(tc.lastWscale), uint64(tc.lastFlags))
	}
	return append(b, '\n')
}

func appendUints(b []byte, v ...uint64) []byte {
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, x, 10)
	}
	return b
}

// appendPersistKey writes a key's family, addresses and ports. The
// addresses are written from all 16 bytes the key holds, so a key made
// from an IPv4-mapped IPv6 address reads back as the same key.
func appendPersistKey(b []byte, k *key) []byte {
	if k.v6 {
		b = append(b, "ipv6,"...)
	} else {
		b = append(b, "ipv4,"...)
	}
	b = persistAddr(k.v6, &k.src).AppendTo(b)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(k.sport), 10)
	b = append(b, ',')
	b = persistAddr(k.v6, &k.dst).AppendTo(b)
	b = append(b, ',')
	return strconv.AppendUint(b, uint64(k.dport), 10)
}

func persistAddr(v6 bool, b *[16]byte) netip.Addr {
	a := netip.AddrFrom16(*b)
	if !v6 && a.Is4In6() {
		return a.Unmap()
	}
	return a
}

// Load reads a file written by Save into t, which must be empty (New),
// at host time now. The file's hash seed and id counter replace t's; t's
// settings stay. A damaged file is an error naming its line and field,
// and leaves t empty.
func (t *Table) Load(r io.Reader, now int64) error {
	if t.count != 0 || t.first != nil {
		return errors.New("conntrack state: the table to load into is not empty")
	}
	p := loader{j: jiffies(now), seen: map[key]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("conntrack state: line %d: longer than 64 KiB", p.line+1)
		}
		return fmt.Errorf("conntrack state: %v", err)
	}
	if !p.magic {
		return errors.New("conntrack state: empty file (no \"" + persistMagic + "\" line)")
	}
	if !p.table {
		return errors.New("conntrack state: no \"table\" line")
	}
	t.seed, t.nextID, t.lastGC = p.seed, p.nextID, p.lastGC
	for _, c := range p.conns {
		c.t = t
		c.th[Original].exp, c.th[Reply].exp = c.timeout, c.timeout
		for d := range c.th {
			h := &c.th[d]
			h.hash = h.k.hash(t.seed)
			t.insert(h)
		}
		t.count++
		t.appendConfirmed(c)
	}
	// Rebuild nf_nat_bysource: each chain from its oldest entry, so that
	// the newest heads it again.
	sort.SliceStable(p.nat, func(a, b int) bool { return p.nat[a].pos < p.nat[b].pos })
	for _, n := range p.nat {
		t.AddSourceBinding(n.c)
	}
	return nil
}

// loader is the state of Load between lines.
type loader struct {
	line   int
	j      int64 // jiffies at load
	magic  bool
	table  bool
	seed   uint64
	nextID uint32
	lastGC int64
	conns  []*Conn
	nat    []natPlace
	// seen maps the keys of the entries read to their lines: no two
	// entries may share a tuple.
	seen map[key]int
}

type natPlace struct {
	c   *Conn
	pos int
}

// fieldError is the error of one field of the current line.
func (p *loader) fieldError(field, format string, a ...any) error {
	return fmt.Errorf("conntrack state: line %d: field %s: %s", p.line, field, fmt.Sprintf(format, a...))
}

func (p *loader) lineError(format string, a ...any) error {
	return fmt.Errorf("conntrack state: line %d: %s", p.line, fmt.Sprintf(format, a...))
}

func (p *loader) parseLine(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return nil
	}
	if !p.magic {
		if s != persistMagic {
			if strings.HasPrefix(s, "iptwin-conntrack ") {
				return p.lineError("format %q is not supported (this iptwin reads %q)", s, persistMagic)
			}
			return p.lineError("not a conntrack state file (want %q first)", persistMagic)
		}
		p.magic = true
		return nil
	}
	words := strings.Fields(s)
	fields := map[string]string{}
	var order []string
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return p.lineError("%q is not KEY=VALUE", w)
		}
		if _, dup := fields[k]; dup {
			return p.fieldError(k, "given twice")
		}
		fields[k] = v
		order = append(order, k)
	}
	f := fieldSet{p: p, m: fields}
	var err error
	switch words[0] {
	case "table":
		if p.table {
			return p.lineError("a second \"table\" line")
		}
		err = p.parseTable(&f)
		p.table = true
	case "conn":
		if !p.table {
			return p.lineError("\"conn\" before the \"table\" line")
		}
		err = p.parseConn(&f)
	default:
		return p.lineError("unknown line type %q (want table or conn)", words[0])
	}
	if err != nil {
		return err
	}
	for _, k := range order {
		if !f.used[k] {
			return p.fieldError(k, "unknown field")
		}
	}
	return nil
}

// fieldSet hands out a line's fields and remembers which were read.
type fieldSet struct {
	p    *loader
	m    map[string]string
	used map[string]bool
}

func (f *fieldSet) get(k string) (string, error) {
	v, ok := f.m[k]
	if !ok {
		return "", f.p.lineError("field %s is missing", k)
	}
	if f.used == nil {
		f.used = map[string]bool{}
	}
	f.used[k] = true
	return v, nil
}

// uint reads an unsigned field of at most bits bits.
func (f *fieldSet) uint(k string, bits int) (uint64, error) {
	v, err := f.get(k)
	if err != nil {
		return 0, err
	}
	return f.p.parseUint(k, v, bits)
}

func (p *loader) parseUint(field, v string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(v, 0, bits)
	if err != nil {
		return 0, p.fieldError(field, "%q is not a number of %d bits", v, bits)
	}
	return n, nil
}

// rel reads a relative time ("-" allowed when dash) and makes it
// absolute.
func (f *fieldSet) rel(k string, dash bool) (int64, error) {
	v, err := f.get(k)
	if err != nil {
		return 0, err
	}
	if v == "-" && dash {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= -maxRelJiffies || n >= maxRelJiffies {
		return 0, f.p.fieldError(k, "%q is not a time in jiffies", v)
	}
	return f.p.j + n, nil
}

// uints reads a comma-separated list of n numbers of the given bits.
func (f *fieldSet) uints(k string, bits ...int) ([]uint64, error) {
	v, err := f.get(k)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(v, ",")
	if len(parts) != len(bits) {
		return nil, f.p.fieldError(k, "%q has %d values, want %d", v, len(parts), len(bits))
	}
	out := make([]uint64, len(parts))
	for i, s := range parts {
		if out[i], err = f.p.parseUint(k, s, bits[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *loader) parseTable(f *fieldSet) error {
	seed, err := f.uint("seed", 64)
	if err != nil {
		return err
	}
	id, err := f.uint("next-id", 32)
	if err != nil {
		return err
	}
	gc, err := f.rel("last-gc", true)
	if err != nil {
		return err
	}
	p.seed, p.nextID, p.lastGC = seed, uint32(id), gc
	return nil
}

func (p *loader) parseConn(f *fieldSet) error {
	c := &Conn{}
	id, err := f.uint("id", 32)
	if err != nil {
		return err
	}
	zone, err := f.uint("zone", 16)
	if err != nil {
		return err
	}
	proto, err := f.uint("proto", 8)
	if err != nil {
		return err
	}
	c.id, c.zone = uint32(id), uint16(zone)
	for d, name := range [2]string{"orig", "reply"} {
		v, err := f.get(name)
		if err != nil {
			return err
		}
		k, err := p.parseKey(name, v)
		if err != nil {
			return err
		}
		k.proto, k.zone = uint8(proto), c.zone
		c.th[d] = tupleHash{k: k, dir: uint8(d)}
	}
	// No two entries share a tuple (a lookup would find either); one
	// entry's two tuples may be equal (a flow to itself).
	for d, name := range [2]string{"orig", "reply"} {
		k := c.th[d].k
		if l, ok := p.seen[k]; ok {
			return p.fieldError(name, "the tuple is already an entry's, line %d", l)
		}
	}
	p.seen[c.th[Original].k] = p.line
	p.seen[c.th[Reply].k] = p.line
	status, err := f.uint("status", 32)
	if err != nil {
		return err
	}
	if status&xtables.IPSConfirmed == 0 || status&xtables.IPSDying != 0 {
		return p.fieldError("status", "%#x: an entry of the table is confirmed and not dying", status)
	}
	c.status = uint32(status)
	mark, err := f.uint("mark", 32)
	if err != nil {
		return err
	}
	c.mark = uint32(mark)
	labels, err := f.uints("labels", 64, 64)
	if err != nil {
		return err
	}
	c.labels = [2]uint64{labels[0], labels[1]}
	exp, err := f.rel("expires", false)
	if err != nil {
		return err
	}
	if exp <= p.j {
		return p.fieldError("expires", "the entry has expired")
	}
	c.timeout = exp
	dir, err := f.get("dir")
	if err != nil {
		return err
	}
	switch dir {
	case "orig":
	case "reply":
		c.reply = true
	default:
		return p.fieldError("dir", "%q is neither orig nor reply", dir)
	}
	if v, _ := f.get("acct"); v != "-" {
		a, err := f.uints("acct", 64, 64, 64, 64)
		if err != nil {
			return err
		}
		c.hasAcct = true
		c.acct = [2]counter{{a[0], a[1]}, {a[2], a[3]}}
	}
	masq, err := f.uint("masq-dev", 31)
	if err != nil {
		return err
	}
	c.masqDev = int(masq)
	if v, err := f.get("nat-src"); err != nil {
		return err
	} else if v != "-" {
		pos, err := p.parseUint("nat-src", v, 31)
		if err != nil {
			return err
		}
		p.nat = append(p.nat, natPlace{c, int(pos)})
	}
	if c.udpStream, err = f.rel("udp-stream", true); err != nil {
		return err
	}
	if proto == 6 {
		if err := p.parseTCP(f, &c.tcp); err != nil {
			return err
		}
	}
	p.conns = append(p.conns, c)
	return nil
}

// parseTCP reads the TCP tracker's state of an entry.
func (p *loader) parseTCP(f *fieldSet, tc *tcpConn) error {
	name, err := f.get("tcp")
	if err != nil {
		return err
	}
	tc.state = tcpStates
	for s, n := range tcpStateNames {
		if n == name {
			tc.state = uint8(s)
		}
	}
	if tc.state == tcpStates {
		return p.fieldError("tcp", "%q is not a TCP conntrack state", name)
	}
	for d, k := range [2]string{"tcp-orig", "tcp-reply"} {
		v, err := f.uints(k, 32, 32, 32, 32, 8, 8)
		if err != nil {
			return err
		}
		if v[4] > tcpMaxWScale {
			return p.fieldError(k, "window scale %d is above %d", v[4], tcpMaxWScale)
		}
		tc.seen[d] = tcpDir{end: uint32(v[0]), maxEnd: uint32(v[1]), maxWin: uint32(v[2]),
			maxAck: uint32(v[3]), scale: uint8(v[4]), flags: uint8(v[5])}
	}
	v, err := f.uints("tcp-last", 1, 8, 8, 32, 32, 32, 16, 8, 8)
	if err != nil {
		return err
	}
	if v[2] > tcpNoneSet {
		return p.fieldError("tcp-last", "segment kind %d is above %d", v[2], tcpNoneSet)
	}
	if v[7] > tcpMaxWScale {
		return p.fieldError("tcp-last", "window scale %d is above %d", v[7], tcpMaxWScale)
	}
	tc.lastDir, tc.retrans, tc.lastIndex = uint8(v[0]), uint8(v[1]), uint8(v[2])
	tc.lastSeq, tc.lastAck, tc.lastEnd = uint32(v[3]), uint32(v[4]), uint32(v[5])
	tc.lastWin, tc.lastWscale, tc.lastFlags = uint16(v[6]), uint8(v[7]), uint8(v[8])
	return nil
}

// parseKey reads FAMILY,SRC,SPORT,DST,DPORT.
func (p *loader) parseKey(field, v string) (key, error) {
	var k key
	parts := strings.Split(v, ",")
	if len(parts) != 5 {
		return k, p.fieldError(field, "%q is not FAMILY,SRC,SPORT,DST,DPORT", v)
	}
	switch parts[0] {
	case "ipv4":
	case "ipv6":
		k.v6 = true
	default:
		return k, p.fieldError(field, "family %q is neither ipv4 nor ipv6", parts[0])
	}
	for i, dst := range [2]*[16]byte{&k.src, &k.dst} {
		a, err := netip.ParseAddr(parts[1+2*i])
		if err != nil || a.Zone() != "" || k.v6 && a.Is4() {
			return k, p.fieldError(field, "%q is not an %s address", parts[1+2*i], parts[0])
		}
		*dst = a.As16()
	}
	sport, err := p.parseUint(field, parts[2], 16)
	if err != nil {
		return k, err
	}
	dport, err := p.parseUint(field, parts[4], 16)
	if err != nil {
		return k, err
	}
	k.sport, k.dport = uint16(sport), uint16(dport)
	return k, nil
}
