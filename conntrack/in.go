package conntrack

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Verdict is what conntrack decides about a packet beyond its state: the
// kernel's nf_conntrack_in returns NF_ACCEPT (the packet goes on, with or
// without an entry) or NF_DROP.
type Verdict uint8

const (
	Accept Verdict = iota
	Drop
)

func (v Verdict) String() string {
	if v == Drop {
		return "DROP"
	}
	return "ACCEPT"
}

// In is nf_conntrack_in at PREROUTING (ipv4_conntrack_in): the packet's
// entry and state. See InHook.
func (t *Table) In(p *packet.Packet, zone uint16, now int64) (*Conn, xtables.CtInfo, Verdict) {
	return t.InHook(p, xtables.HookPrerouting, zone, now)
}

// InHook is nf_conntrack_in at hook (PREROUTING for received packets,
// OUTPUT for locally generated ones; only PREROUTING verifies checksums).
//
// An ICMP or ICMPv6 error gets the entry of the packet it quotes (RELATED;
// INVALID when there is none). Other packets are looked up by their tuple
// in either direction; an unknown one gets a new, unconfirmed entry
// (CtNew) that the caller confirms with Confirm when the packet leaves
// POSTROUTING or INPUT, or gives back with Discard when the packet dies.
// The protocol's tracker then checks the packet and moves the entry's
// state. An INVALID packet returns (nil, CtInvalid); ICMPv6 neighbour
// discovery and MLD return (nil, CtUntracked). The verdict is Drop when
// the table is full and no entry could be evicted, or when TCP cannot
// reopen a connection. c.Reply() tells the packet's direction.
//
// Looking up an existing entry allocates nothing.
func (t *Table) InHook(p *packet.Packet, hook int, zone uint16, now int64) (c *Conn, info xtables.CtInfo, v Verdict) {
	t.now = now
	t.invalid = ""
	l, ok := getL4(p.Data)
	if !ok {
		t.invalid = "no transport header"
		return nil, xtables.CtInvalid, Accept
	}
	if l.proto == packet.ProtoICMP && !l.v6 || l.proto == packet.ProtoICMPv6 && l.v6 {
		c, info, r := t.icmpError(&l, hook, zone, now)
		switch r {
		case errRelated:
			return c, info, Accept
		case errInvalid:
			return nil, xtables.CtInvalid, Accept
		case errUntracked:
			return nil, xtables.CtUntracked, Accept
		}
	}
	for {
		c, info, res := t.resolve(&l, zone, now)
		switch res {
		case resolveDrop:
			t.invalid = "table full"
			return nil, xtables.CtInvalid, Drop
		case resolveNone:
			if t.invalid == "" {
				t.invalid = "no connection"
			}
			return nil, xtables.CtInvalid, Accept
		}
		switch t.handlePacket(c, &l, hook, now) {
		case l4Invalid:
			t.Discard(c) // frees an entry just allocated
			return nil, xtables.CtInvalid, Accept
		case l4Drop:
			t.Discard(c)
			return nil, xtables.CtInvalid, Drop
		case l4Repeat:
			continue
		}
		if c.reply {
			c.status |= xtables.IPSSeenReply
		}
		return c, info, Accept
	}
}

type resolveResult uint8

const (
	resolveOK resolveResult = iota
	resolveNone
	resolveDrop
)

// resolve is resolve_normal_ct: the entry of the packet's tuple, or a new
// one (init_conntrack).
func (t *Table) resolve(l *l4, zone uint16, now int64) (*Conn, xtables.CtInfo, resolveResult) {
	tp, ok := l.tuple()
	if !ok {
		t.invalid = "cannot read the protocol header"
		return nil, 0, resolveNone
	}
	k := makeKey(tp, zone)
	hash := k.hash(t.seed)
	if h := t.lookup(&k, hash, now); h != nil {
		c := h.conn()
		if h.dir == Reply {
			c.reply = true
			return c, xtables.CtEstablished, resolveOK
		}
		c.reply = false
		switch {
		case c.status&xtables.IPSSeenReply != 0:
			return c, xtables.CtEstablished, resolveOK
		case c.status&xtables.IPSExpected != 0:
			return c, xtables.CtRelated, resolveOK
		}
		return c, xtables.CtNew, resolveOK
	}
	rt, ok := Invert(tp)
	if !ok {
		t.invalid = "no reply tuple"
		return nil, 0, resolveNone
	}
	c, ok := t.alloc(k, makeKey(rt, zone), now)
	if !ok {
		return nil, 0, resolveDrop
	}
	return c, xtables.CtNew, resolveOK
}

type errResult uint8

const (
	errNotError  errResult = iota // not an error message: track it normally
	errRelated                    // the entry of the quoted packet
	errInvalid                    // INVALID
	errUntracked                  // IP_CT_UNTRACKED (ICMPv6 ND/MLD)
)

// icmpError is nf_conntrack_icmpv4_error and nf_conntrack_icmpv6_error.
func (t *Table) icmpError(l *l4, hook int, zone uint16, now int64) (*Conn, xtables.CtInfo, errResult) {
	b := l.data[l.off:]
	if len(b) < 8 {
		t.invalid = "short packet"
		return nil, 0, errInvalid
	}
	if t.checksumHere(hook) && !l.checksumOK() {
		t.invalid = "bad checksum"
		return nil, 0, errInvalid
	}
	typ := b[0]
	_, outerDst := l.addrs()
	if !l.v6 {
		// 18 is the highest known type: RFC 1122 says drop the others.
		if typ > 18 {
			t.invalid = "invalid icmp type"
			return nil, 0, errInvalid
		}
		switch typ {
		case packet.ICMPUnreachable, packet.ICMPSourceQuench, packet.ICMPRedirect,
			packet.ICMPTimeExceeded, packet.ICMPParamProblem:
		default:
			return nil, 0, errNotError
		}
		return t.inetError(b[8:], false, outerDst, zone, now)
	}
	if typ >= 130 && int(typ-130) < len(icmpv6NoCt) && icmpv6NoCt[typ-130] {
		return nil, 0, errUntracked
	}
	if typ == 137 {
		return t.icmpv6Redirect(l, b, outerDst, zone, now)
	}
	if typ >= 128 {
		return nil, 0, errNotError
	}
	return t.inetError(b[8:], true, outerDst, zone, now)
}

// icmpv6NoCt is noct_valid_new: MLD, router and neighbour discovery,
// multicast router discovery; these are not tracked.
var icmpv6NoCt = [...]bool{
	130 - 130: true, 131 - 130: true, 132 - 130: true, 133 - 130: true, 134 - 130: true,
	135 - 130: true, 136 - 130: true, 143 - 130: true, 151 - 130: true, 152 - 130: true,
}

// icmpv6Redirect is nf_conntrack_icmpv6_redirect: a redirect quoting a
// packet in its redirected-header option is RELATED like an error.
func (t *Table) icmpv6Redirect(l *l4, b []byte, outerDst netip.Addr, zone uint16, now int64) (*Conn, xtables.CtInfo, errResult) {
	if len(b) < 40 {
		t.invalid = "short redirect"
		return nil, 0, errInvalid
	}
	if b[1] != 0 {
		return nil, 0, errNotError
	}
	src, _ := l.addrs()
	if l.data[7] != 255 || !src.IsLinkLocalUnicast() {
		t.invalid = "invalid saddr or hoplimit for redirect"
		return nil, 0, errInvalid
	}
	opt := b[40:]
	if len(opt) < 2 || opt[1] == 0 {
		t.invalid = "redirect without options"
		return nil, 0, errInvalid
	}
	if opt[0] != 4 { // ND_OPT_REDIRECT_HDR
		return nil, 0, errNotError
	}
	if len(opt) < 8 {
		t.invalid = "no connection"
		return nil, 0, errInvalid
	}
	return t.inetError(opt[8:], true, outerDst, zone, now)
}

// inetError is nf_conntrack_inet_error: the quoted packet's tuple,
// inverted, must name a confirmed entry whose destination in that
// direction is the error's destination.
func (t *Table) inetError(inner []byte, v6 bool, outerDst netip.Addr, zone uint16, now int64) (*Conn, xtables.CtInfo, errResult) {
	il, ok := getL4Family(inner, v6)
	if !ok {
		t.invalid = "cannot read the quoted packet"
		return nil, 0, errInvalid
	}
	orig, ok := il.tuple()
	if !ok {
		t.invalid = "cannot read the quoted packet"
		return nil, 0, errInvalid
	}
	// The quoted packet went the other way: invert it (the protocol part
	// of an ICMP tuple is kept, as the kernel keeps it).
	inv, ok := Invert(orig)
	if !ok {
		t.invalid = "quoted packet has no reply tuple"
		return nil, 0, errInvalid
	}
	k := makeKey(inv, zone)
	h := t.lookup(&k, k.hash(t.seed), now)
	if h == nil {
		t.invalid = "no connection for the quoted packet"
		return nil, 0, errInvalid
	}
	c := h.conn()
	if c.th[h.dir].k.addr(&c.th[h.dir].k.dst) != outerDst {
		t.invalid = "outer daddr != inner"
		return nil, 0, errInvalid
	}
	c.reply = h.dir == Reply
	return c, xtables.CtRelated, errRelated
}
