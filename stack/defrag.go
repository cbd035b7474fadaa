package stack

import (
	"github.com/iptwin/iptwin/defrag"
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The host's reassemblers: IPv4's one fqdir serves conntrack's defrag
// hook and local delivery; IPv6 has conntrack's (nf_conntrack_reasm) and
// the IP layer's (reassembly.c, after INPUT).
type reassemblers struct {
	v4, v6ct, v6local *defrag.Queue
}

func (h *Host) fragQueue(k defrag.Kind) *defrag.Queue {
	r := &h.reasm
	var q **defrag.Queue
	var timeout int64
	switch k {
	case defrag.IPv4:
		q, timeout = &r.v4, int64(h.sysctlInt("net.ipv4.ipfrag_time", 30))*1e9
	case defrag.IPv6Conntrack:
		q, timeout = &r.v6ct, int64(h.sysctlInt("net.netfilter.nf_conntrack_frag6_timeout", 60))*1e9
	default:
		q, timeout = &r.v6local, int64(h.sysctlInt("net.ipv6.ip6frag_time", 60))*1e9
	}
	if *q == nil {
		*q = defrag.New(defrag.Config{Kind: k, Timeout: timeout, IsLocal: h.isLocal})
	}
	return *q
}

// expireFragments runs the reassemblers' timers up to now; a queue that
// expired with its first fragment answers with ICMP time exceeded.
func (h *Host) expireFragments() {
	for _, q := range []*defrag.Queue{h.reasm.v4, h.reasm.v6ct, h.reasm.v6local} {
		if q == nil {
			continue
		}
		q.Expire(h.Now, h.fragTimeout)
	}
}

func (h *Host) fragTimeout(first []byte) {
	fam := xtables.IPv4
	if len(first) > 0 && first[0]>>4 == 6 {
		fam = xtables.IPv6
	}
	r := h.newSkb(fam)
	var o icmpgen.Options
	if err := r.setBytes(first); err == nil {
		o = h.replyOptions(r)
	}
	var ok bool
	r.buf, ok = icmpgen.ReassemblyTimeout(r.buf[:0], first, o)
	h.queueReply(r, ok, "reassembly timeout")
}

// defragStep is nf_defrag_ipv4 / nf_ct_frag6_gather at priority -400
// (only while conntrack is in use): fragments are held until the
// datagram is whole, which then continues in their place.
func (h *Host) defragStep(s *skb, hook int) (verdict, bool) {
	if !s.pkt.IsFragment() || s.ct.untracked {
		return verdict{}, true
	}
	k := defrag.IPv4
	if s.v6() {
		k = defrag.IPv6Conntrack
	}
	m := defrag.Meta{Conntrack: true, Out: hook == xtables.HookOutput}
	if l := h.link(s.in); l != nil {
		m.IfIndex = l.Index
	}
	return h.reassemble(s, k, m)
}

// reassemble adds s to a queue; ok says the packet goes on (whole, or
// let through), otherwise the verdict says it was held or dropped.
func (h *Host) reassemble(s *skb, k defrag.Kind, m defrag.Meta) (verdict, bool) {
	q := h.fragQueue(k)
	whole, maxFrag, done, err := q.AddMeta(s.buf, &s.pkt, h.Now, m)
	if err != nil {
		if h.Obs != nil {
			h.Obs.Note("defrag", "fragment dropped: "+err.Error())
		}
		return verdict{code: xtables.VerdictCodeDrop, reason: "defrag: " + err.Error()}, false
	}
	if !done {
		if h.Obs != nil {
			h.Obs.Note("defrag", "fragment held for reassembly")
		}
		return verdict{code: xtables.VerdictCodeStolen, reason: "fragment held for reassembly"}, false
	}
	if maxFrag > 0 {
		s.buf = append(s.buf[:0], whole...)
		if err := s.redecode(); err != nil {
			return verdict{code: xtables.VerdictCodeDrop, reason: "reassembled datagram undecodable"}, false
		}
		s.fragMax = maxFrag
		if h.Obs != nil {
			h.Obs.Note("defrag", "reassembled: "+s.pkt.String())
		}
	}
	return verdict{}, true
}

// localReassemble is the IP layer's reassembly on local delivery: IPv4
// in ip_local_deliver before INPUT; IPv6 after INPUT, when the fragment
// header is processed (ipv6_frag_rcv).
func (h *Host) localReassemble(s *skb) (verdict, bool) {
	if !s.pkt.IsFragment() {
		return verdict{}, true
	}
	k := defrag.IPv4
	if s.v6() {
		k = defrag.IPv6Local
	}
	m := defrag.Meta{}
	if l := h.link(s.in); l != nil {
		m.IfIndex = l.Index
	}
	return h.reassemble(s, k, m)
}

var _ = packet.ProtoUDP
