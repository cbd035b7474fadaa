package defrag

import "net/netip"

// IPv4 defrag users (enum ip_defrag_users): local delivery, conntrack in
// and out (each plus the zone).
const (
	userLocal4         = 0
	userConntrackIn4   = 2
	userConntrackOut4  = userConntrackIn4 + 0xffff + 1
	userConntrackOut4E = userConntrackOut4 + 0xffff
)

func user4(m Meta) uint32 {
	switch {
	case !m.Conntrack:
		return userLocal4
	case m.Out:
		return userConntrackOut4 + uint32(m.Zone)
	}
	return userConntrackIn4 + uint32(m.Zone)
}

// add4 is ip_defrag and ip_frag_queue.
func (q *Queue) add4(b []byte, now int64, m Meta) ([]byte, int, bool, error) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return nil, 0, false, q.fail(ReasonMalformed)
	}
	ihl := int(b[0]&0xf) * 4
	tot := int(be.Uint16(b[2:]))
	if ihl < 20 || tot < ihl || tot > len(b) {
		return nil, 0, false, q.fail(ReasonMalformed)
	}
	b = b[:tot]
	fw := be.Uint16(b[6:])
	if fw&0x3fff == 0 {
		return b, 0, true, nil // not a fragment
	}
	k := key{src: netip.AddrFrom4([4]byte(b[12:16])), dst: netip.AddrFrom4([4]byte(b[16:20])),
		id: uint32(be.Uint16(b[4:])), proto: b[9], user: user4(m), dev: m.VIF}
	f := q.find(k, now)
	if f == nil {
		return nil, 0, false, q.fail(ReasonNoMemory)
	}
	if q.cfg.MaxDist > 0 {
		if f.peer == nil {
			f.peer = q.peerOf(k)
		}
		// ip_frag_too_far: more than MaxDist fragments from this source
		// since this queue's last one empties it (ip_frag_reinit), which
		// also restarts its timer; its largest sizes are kept.
		start := f.rid
		f.peer.rid++
		f.rid = f.peer.rid
		if len(f.frags) > 0 && f.rid-start > uint32(q.cfg.MaxDist) {
			q.purge(f)
			f.expires = now + q.cfg.Timeout
			q.unlink(f)
			q.link(f)
		}
	}
	tos := b[1]
	off := int(fw&0x1fff) * 8
	end := off + tot - ihl
	if fw&0x2000 == 0 {
		if end < f.length || f.flags&flagLast != 0 && end != f.length {
			q.kill(f)
			return nil, 0, false, q.fail(ReasonCorrupt)
		}
		f.flags |= flagLast
		f.length = end
	} else {
		end &^= 7 // a non-last fragment is cut to a multiple of 8
		if end > f.length {
			if f.flags&flagLast != 0 {
				q.kill(f)
				return nil, 0, false, q.fail(ReasonCorrupt)
			}
			f.length = end
		}
	}
	if end == off {
		q.kill(f)
		return nil, 0, false, q.fail(ReasonEmpty)
	}
	switch r := f.insert(off, end); r {
	case ReasonDuplicate:
		return nil, 0, false, q.fail(r)
	case ReasonOverlap:
		q.kill(f)
		return nil, 0, false, q.fail(r)
	}
	f.keep(off, end, b[ihl:ihl+end-off])
	f.meat += end - off
	f.ecn |= 1 << (tos & 3)
	ts := int64(q.cfg.Truesize(tot + 14))
	f.mem += ts
	q.mem += ts
	if off == 0 {
		f.flags |= flagFirst
		f.head = append(f.head[:0], b[:ihl]...)
	}
	size := end - off + ihl
	f.maxSize = max(f.maxSize, size)
	if fw&0x4000 != 0 {
		f.maxDFSize = max(f.maxDFSize, size)
	}
	if f.flags != flagFirst|flagLast || f.meat != f.length {
		return nil, 0, false, nil
	}
	return q.reasm4(f)
}

func (q *Queue) peerOf(k key) *peer {
	if q.peers == nil {
		q.peers = make(map[peerKey]*peer)
	}
	pk := peerKey{k.src, k.dev}
	p := q.peers[pk]
	if p == nil {
		if n := len(q.freePeers); n > 0 {
			p = q.freePeers[n-1]
			q.freePeers = q.freePeers[:n-1]
		} else {
			p = new(peer)
		}
		*p = peer{}
		q.peers[pk] = p
	}
	p.refs++
	return p
}

// reasm4 is ip_frag_reasm.
func (q *Queue) reasm4(f *fq) ([]byte, int, bool, error) {
	ecn := ecnTable[f.ecn]
	if ecn == 0xff {
		q.kill(f)
		return nil, 0, false, q.fail(ReasonECN)
	}
	hl := len(f.head)
	if hl+f.length > 65535 {
		q.kill(f)
		return nil, 0, false, q.fail(ReasonTooBig)
	}
	w := q.assemble(f, f.head)
	be.PutUint16(w[2:], uint16(hl+f.length))
	w[1] |= ecn
	// DF only if the largest fragment had it (IPSKB_FRAG_PMTU): then
	// refragmenting keeps DF (Refragment4).
	var fo uint16
	if f.maxDFSize == f.maxSize {
		fo = 0x4000
	}
	be.PutUint16(w[6:], fo)
	w[10], w[11] = 0, 0
	be.PutUint16(w[10:], checksum(w[:hl]))
	maxFrag := max(f.maxDFSize, f.maxSize)
	q.kill(f)
	return w, maxFrag, true, nil
}
