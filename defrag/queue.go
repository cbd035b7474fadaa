package defrag

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

var be = binary.BigEndian

// Kind is which of the kernel's reassemblers a Queue is (a struct fqdir:
// its own queues, timeout and memory).
type Kind uint8

const (
	// IPv4 is net->ipv4.fqdir, shared by local delivery and conntrack.
	IPv4 Kind = iota
	// IPv6Conntrack is nf_conntrack_reasm's fqdir.
	IPv6Conntrack
	// IPv6Local is net->ipv6.fqdir (reassembly.c).
	IPv6Local
)

// Config is a reassembler's sysctls and environment.
type Config struct {
	Kind Kind
	// Timeout in nanoseconds: net.ipv4.ipfrag_time (30 s),
	// net.netfilter.nf_conntrack_frag6_timeout (60 s),
	// net.ipv6.ip6frag_time (60 s). 0 means the default.
	Timeout int64
	// HighThresh is ipfrag_high_thresh / nf_conntrack_frag6_high_thresh /
	// ip6frag_high_thresh in bytes (4 MiB); 0 means the default, below 0
	// refuses every fragment.
	HighThresh int64
	// MaxDist is net.ipv4.ipfrag_max_dist (64; IPv4 only): a queue is
	// emptied when more fragments than this from the same source arrived
	// between two of its fragments. 0 means the default, below 0 off.
	MaxDist int
	// Truesize is the memory the kernel charges a queued fragment that
	// arrived in a frame of n bytes (link header included); nil means
	// what a veth charges (VethTruesize).
	Truesize func(frame int) int
	// IsLocal says whether an address is the host's: an expired IPv4
	// conntrack queue answers with time exceeded only when its
	// destination is (ip_expire). Nil: never.
	IsLocal func(netip.Addr) bool
}

// Meta is what keys a fragment beyond its headers.
type Meta struct {
	// Conntrack says conntrack's defrag hook gathers the fragment (user
	// IP_DEFRAG_CONNTRACK_IN / _OUT + Zone); otherwise the IP layer's
	// local delivery does. Out is for the OUTPUT hook's user.
	Conntrack, Out bool
	Zone           uint16
	// IfIndex is the input interface (IPv6 conntrack queues are per
	// interface; local ones only for link-local and multicast
	// destinations). VIF is the L3 master device (VRF) for IPv4, 0 if
	// none.
	IfIndex, VIF int
}

// VethTruesize is the truesize of an skb holding a frame of n bytes
// received on a veth from a packet socket, as Linux 6.18 charges it
// (measured from /proc/net/sockstat with icmpgen/internal/record
// -probe-frag-mem): 768 up to 240 bytes, 1216 up to 688, 2240 up to
// 1712; beyond, the frame plus 576 bytes of struct overhead, rounded to
// 1 KiB (an estimate).
func VethTruesize(n int) int {
	switch {
	case n <= 240:
		return 768
	case n <= 688:
		return 1216
	case n <= 1712:
		return 2240
	}
	return (n + 576 + 1023) &^ 1023
}

// Queue costs: sizeof(struct ipq) and sizeof(struct frag_queue) as the
// kernel charges them (measured with VethTruesize).
const (
	queueCost4 = 264
	queueCost6 = 248
)

const (
	flagFirst = 1 // INET_FRAG_FIRST_IN
	flagLast  = 2 // INET_FRAG_LAST_IN
)

// key is struct frag_v4_compare_key / frag_v6_compare_key.
type key struct {
	src, dst netip.Addr
	id       uint32
	user     uint32
	dev      int // vif (IPv4) or iif (IPv6)
	proto    uint8
}

// frag is one queued fragment: its data [off, end) stored at pos in the
// queue's store.
type frag struct{ off, end, pos int }

// run is a run of adjacent fragments that arrived in order (a node of the
// kernel's rb-tree with its frag_run_len).
type run struct{ start, end int }

// fq is one datagram being reassembled (struct ipq / frag_queue).
type fq struct {
	key        key
	expires    int64
	flags      uint8
	length     int // q.len: the datagram's payload length as known
	meat       int
	ecn        uint8
	maxSize    int
	maxDFSize  int
	rid        uint32
	peer       *peer
	head       []byte // the first fragment's headers, up to its data
	nhoff      int    // IPv6: the next-header byte before the fragment header
	frags      []frag // by offset
	runs       []run  // by start
	store      []byte
	mem        int64
	prev, next *fq // expiry order
}

// peer counts the fragments from one source (inet_peer's rid) for
// ipfrag_max_dist; refs is the number of queues holding it.
type peer struct {
	rid  uint32
	refs int
}

type peerKey struct {
	src netip.Addr
	vif int
}

// Queue is one reassembler. It is not safe for concurrent use.
type Queue struct {
	cfg   Config
	qs    map[key]*fq
	first *fq // oldest
	last  *fq
	free  []*fq
	peers map[peerKey]*peer
	// freePeers recycles peers no queue holds any more: a new one starts
	// counting from 0, as a new inet_peer does.
	freePeers []*peer
	mem       int64
	out       []byte
	sizes     []int
	err       Error
}

// New returns an empty reassembler.
func New(cfg Config) *Queue {
	if cfg.Timeout == 0 {
		cfg.Timeout = 30e9
		if cfg.Kind != IPv4 {
			cfg.Timeout = 60e9
		}
	}
	if cfg.HighThresh == 0 {
		cfg.HighThresh = 4 << 20
	}
	if cfg.MaxDist == 0 {
		cfg.MaxDist = 64
	}
	if cfg.Truesize == nil {
		cfg.Truesize = VethTruesize
	}
	return &Queue{cfg: cfg, qs: make(map[key]*fq)}
}

// Len is the number of datagrams being reassembled.
func (q *Queue) Len() int { return len(q.qs) }

// Mem is the memory charged, as /proc/net/sockstat's FRAG memory.
func (q *Queue) Mem() int64 { return q.mem }

// Sizes are the data lengths of the fragments the datagram the last Add
// reassembled was made of, in offset order (the skbs of its frag_list,
// which Refragment4 and Refragment6 reuse); empty when it reassembled
// nothing. Valid until the next call.
func (q *Queue) Sizes() []int { return q.sizes }

// Add adds a fragment (the IP packet frag, p its decoding or nil) arriving
// at time now (nanoseconds) to the local-delivery reassembler of its
// family, or to conntrack's for an IPv6Conntrack Queue; see AddMeta.
func (q *Queue) Add(frag []byte, p *packet.Packet, now int64) (whole []byte, maxFrag int, done bool, err error) {
	return q.AddMeta(frag, p, now, Meta{Conntrack: q.cfg.Kind == IPv6Conntrack})
}

// AddMeta adds a fragment with its key beyond the headers. done reports
// that a packet continues on the path: the reassembled datagram in whole
// (valid until the next call) with maxFrag the largest fragment's size,
// or the packet itself where the kernel lets it through (not a fragment,
// or a fragment IPv6 conntrack cannot use; maxFrag 0). Otherwise the
// fragment is held (err nil) or dropped (err an *Error). Expire must have
// run for now before: a queue past its time is gone in the kernel.
func (q *Queue) AddMeta(frag []byte, p *packet.Packet, now int64, m Meta) (whole []byte, maxFrag int, done bool, err error) {
	q.sizes = q.sizes[:0]
	b := frag
	if p != nil && len(p.Data) > 0 {
		b = p.Data
	}
	if q.cfg.Kind == IPv4 {
		return q.add4(b, now, m)
	}
	return q.add6(b, now, m)
}

func (q *Queue) fail(r Reason) error {
	q.err = Error{Reason: r}
	return &q.err
}

func (q *Queue) paramProblem(r Reason, code uint8, ptr int) error {
	q.err = Error{Reason: r, ICMP: true, Code: code, Pointer: uint32(ptr)}
	return &q.err
}

// find is inet_frag_find: nil when memory is over the threshold.
func (q *Queue) find(k key, now int64) *fq {
	if q.cfg.HighThresh < 0 || q.mem > q.cfg.HighThresh {
		return nil
	}
	if f := q.qs[k]; f != nil {
		if f.expires > now {
			return f
		}
		q.kill(f) // its timer has run: the caller did not call Expire
	}
	var f *fq
	if n := len(q.free); n > 0 {
		f = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		f = new(fq)
	}
	f.key = k
	f.expires = now + q.cfg.Timeout
	f.mem = queueCost4
	if q.cfg.Kind != IPv4 {
		f.mem = queueCost6
	}
	q.mem += f.mem
	q.qs[k] = f
	q.link(f)
	return f
}

// link appends f to the expiry list.
func (q *Queue) link(f *fq) {
	f.prev, f.next = q.last, nil
	if q.last != nil {
		q.last.next = f
	} else {
		q.first = f
	}
	q.last = f
}

func (q *Queue) unlink(f *fq) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		q.first = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		q.last = f.prev
	}
	f.prev, f.next = nil, nil
}

// kill is inet_frag_kill and the destruction that follows: the queue
// leaves the table and its memory is released; the struct is recycled.
func (q *Queue) kill(f *fq) {
	delete(q.qs, f.key)
	q.unlink(f)
	q.mem -= f.mem
	if f.peer != nil {
		if f.peer.refs--; f.peer.refs == 0 {
			delete(q.peers, peerKey{f.key.src, f.key.dev})
			q.freePeers = append(q.freePeers, f.peer)
		}
	}
	*f = fq{head: f.head[:0], frags: f.frags[:0], runs: f.runs[:0], store: f.store[:0]}
	q.free = append(q.free, f)
}

// purge empties an IPv4 queue (ip_frag_reinit).
func (q *Queue) purge(f *fq) {
	q.mem -= f.mem
	f.mem = queueCost4
	q.mem += f.mem
	f.flags, f.length, f.meat, f.ecn = 0, 0, 0, 0
	f.frags, f.runs, f.store, f.head = f.frags[:0], f.runs[:0], f.store[:0], f.head[:0]
}

// insert is inet_frag_queue_insert: where [off, end) goes among the
// queued runs.
func (f *fq) insert(off, end int) Reason {
	n := len(f.runs)
	switch {
	case n == 0:
		f.runs = append(f.runs, run{off, end})
	case f.runs[n-1].end < end:
		// The common case: after everything queued. The last run's end is
		// the end of fragments_tail, the highest of all.
		last := &f.runs[n-1]
		switch {
		case off < last.end:
			return ReasonOverlap
		case off == last.end:
			last.end = end
		default:
			f.runs = append(f.runs, run{off, end})
		}
	default:
		// Binary search in the kernel; the runs are disjoint, so the first
		// intersecting one decides: inside it, a duplicate; across its
		// edge, an overlap.
		i := 0
		for i < n && f.runs[i].end <= off {
			i++
		}
		if i < n && f.runs[i].start < end {
			r := f.runs[i]
			if off >= r.start && end <= r.end {
				return ReasonDuplicate
			}
			return ReasonOverlap
		}
		// A run of its own, before the tail run (never the new tail).
		f.runs = append(f.runs, run{})
		copy(f.runs[i+1:], f.runs[i:])
		f.runs[i] = run{off, end}
	}
	return ReasonNone
}

// store copies a fragment's data into the queue.
func (f *fq) keep(off, end int, data []byte) {
	pos := len(f.store)
	f.store = append(f.store, data...)
	i := len(f.frags)
	for i > 0 && f.frags[i-1].off > off {
		i--
	}
	f.frags = append(f.frags, frag{})
	copy(f.frags[i+1:], f.frags[i:])
	f.frags[i] = frag{off, end, pos}
}

// ecnTable is ip_frag_ecn_table, indexed by the OR of 1 << (tos & 3) over
// all fragments: the ECN bits to OR into the datagram, or 0xff to drop it.
var ecnTable = [16]uint8{
	0x8 | 0x4: 3, 0x8 | 0x2: 3, 0x8 | 0x4 | 0x2: 3,
	0x1 | 0x8: 0xff, 0x1 | 0x4: 0xff, 0x1 | 0x2: 0xff, 0x1 | 0x4 | 0x2: 0xff,
	0x1 | 0x8 | 0x4: 0xff, 0x1 | 0x8 | 0x2: 0xff, 0x1 | 0x8 | 0x4 | 0x2: 0xff,
}

// assemble writes the datagram's data in offset order after hdr into
// q.out and records the fragment sizes.
func (q *Queue) assemble(f *fq, hdr []byte) []byte {
	q.out = append(q.out[:0], hdr...)
	q.sizes = q.sizes[:0]
	for _, fr := range f.frags {
		n := fr.end - fr.off
		q.out = append(q.out, f.store[fr.pos:fr.pos+n]...)
		q.sizes = append(q.sizes, n)
	}
	return q.out
}

// Expire ends the queues whose time has come at now, oldest first, and
// calls fn with the first fragment (its headers and its data as queued)
// of each that the kernel answers with an ICMP time exceeded "fragment
// reassembly time exceeded" (ip_expire: the first fragment arrived, and
// for a conntrack queue the destination is local; ip6frag_expire_frag_
// queue: the first fragment arrived). first is valid during the call.
func (q *Queue) Expire(now int64, fn func(first []byte)) {
	for f := q.first; f != nil && f.expires <= now; f = q.first {
		if fn != nil && f.flags&flagFirst != 0 && q.answersExpiry(f) {
			fr := f.frags[0]
			fn(append(append(q.out[:0], f.head...), f.store[fr.pos:fr.pos+fr.end-fr.off]...))
		}
		q.kill(f)
	}
}

func (q *Queue) answersExpiry(f *fq) bool {
	if q.cfg.Kind != IPv4 || f.key.user == userLocal4 {
		return true
	}
	return q.cfg.IsLocal != nil && q.cfg.IsLocal(f.key.dst)
}

// NextExpiry is when the oldest queue expires, ok false when none is
// queued.
func (q *Queue) NextExpiry() (at int64, ok bool) {
	if q.first == nil {
		return 0, false
	}
	return q.first.expires, true
}
