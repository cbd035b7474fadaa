package stack

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/ext/rate"
	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/nflog"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// Family indexes (v4 = 0, v6 = 1) of per-family arrays.
const (
	v4 = 0
	v6 = 1
)

func famIndex(f xtables.Family) int {
	if f == xtables.IPv6 {
		return v6
	}
	return v4
}

// Socket is a local socket that receives packets: a listening TCP socket
// or a bound UDP socket. An unspecified address listens on every address
// of its family.
type Socket struct {
	Proto uint8 // packet.ProtoTCP or packet.ProtoUDP
	Addr  netip.Addr
	Port  uint16
	// UID and GID own the socket (the owner match sees them on packets it
	// sends).
	UID, GID uint32
	// XfrmBypass is a per-socket IPsec policy that allows without
	// templates in and out (IP_XFRM_POLICY, as an IKE daemon sets on its
	// sockets): what it sends is never transformed, what it receives is
	// not held to the host's policies (xfrm_input.go).
	XfrmBypass bool
}

// Host is one twin host and its packet path. It is not safe for
// concurrent use: a host handles one packet at a time, as a single CPU
// would, which keeps every run deterministic.
type Host struct {
	// Name is the host name syslog lines carry.
	Name string
	Net  *host.Net
	// Rules are the IPv4 and IPv6 rule sets; call Reload after changing
	// them.
	Rules   [2]*xtables.Ruleset
	Sockets []Socket

	// Now is the host's clock in nanoseconds; the caller advances it.
	Now int64
	// WallBase is the wall clock (Unix ns) at Now 0: what the times the
	// kernel keeps as dates (the xfrm SAs' add and use times) are made of.
	WallBase int64

	// Emit receives every frame the host transmits: the device and the
	// frame from its Ethernet header. The slice is only valid during the
	// call.
	Emit func(dev string, frame []byte)
	// Log receives every kernel LOG line (the text dmesg shows after the
	// timestamp) with its syslog level. Only valid during the call.
	Log func(level uint8, line []byte)
	// Neigh resolves a next hop to a MAC address on a device (the
	// neighbour table, ARP/NDP); nil or false: unresolved, the frame is
	// not sent.
	Neigh func(dev string, addr netip.Addr) ([6]byte, bool)
	// Deliver, when set, sees every packet delivered to the host itself
	// after INPUT (and reassembly), before the host's protocols answer
	// it: what an application on the host would read (a ping's echo
	// replies, a client's SYN-ACK). It returns true when an application
	// socket took the packet: the stack then does not answer it (no RST
	// for a client connection's segment). Only valid during the call.
	Deliver func(in string, p *packet.Packet) bool
	// Obs, when set, sees every step of every packet (iptwin trace).
	Obs Observer

	progs [2][numSlots]*xtables.Program
	// ctUsed says whether conntrack's hooks are registered for a family:
	// some rule needs connection tracking (nf_ct_netns_get).
	ctUsed [2]bool
	rng    uint64

	txbuf []byte // the frame being transmitted
	reasm reassemblers
	ct    *conntrack.Table
	tcp   map[tcpKey]*tcpConn
	// conf and fwd6 are the per-packet sysctls (cacheConf); Reload
	// takes changes of Net.Sysctl.
	conf map[string]linkConf
	fwd6 bool
	// Xfrm is the host's IPsec policies and states (nil: none).
	Xfrm *xfrm.DB
	// Acquire, when set, is a key manager listening for ACQUIRE: it is
	// called with the larval state made for a packet a policy requires
	// an SA for that does not exist yet (xfrm_state_find, km_query). The
	// packet is lost all the same (xfrm_larval_drop). It must not hand
	// the host packets during the call.
	Acquire func(larval *xfrm.State)
	xfrm    xfrmState
	// redirects is the per-peer state of the redirect rate limits.
	redirects map[netip.Addr]*redirectPeer
	rate      *rate.Shared
	pmtu      map[netip.Addr]pmtuEntry // learned path MTUs (pmtu.go)
	logBuf    []byte
	logMeta   nflog.Meta
	// limiter is the namespace's ICMP rate limit.
	limiter *icmpgen.Limiter
	queue   []*skb
	free    []*skb
	env     env
}

// New returns a host with the given network configuration and rule sets
// and a random source seeded from seed.
func New(name string, net *host.Net, r4, r6 *xtables.Ruleset, seed uint64) (*Host, error) {
	h := &Host{Name: name, Net: net, rng: seed, logBuf: make([]byte, 0, nflog.MaxLine)}
	h.Rules[v4], h.Rules[v6] = r4, r6
	h.env.h = h
	if err := h.Reload(); err != nil {
		return nil, err
	}
	return h, nil
}

// Table slots in the order of their priorities within a hook; nat runs
// twice (DNAT at -100 on PREROUTING/OUTPUT, SNAT at 100 on INPUT/
// POSTROUTING), from the same program.
const (
	slotRaw = iota
	slotMangle
	slotNAT
	slotFilter
	slotSecurity
	numSlots
)

var slotTables = [numSlots]string{"raw", "mangle", "nat", "filter", "security"}

// Reload compiles the rule sets again and rereads the sysctls the path
// consults per packet (after a change of rules or of Net.Sysctl).
func (h *Host) Reload() error {
	for f, rs := range h.Rules {
		h.ctUsed[f] = false
		for i, name := range slotTables {
			h.progs[f][i] = nil
			if rs == nil {
				continue
			}
			t := rs.Table(name)
			if t == nil {
				continue
			}
			p, err := xtables.Compile(t, rs.Family, false)
			if err != nil {
				return err
			}
			h.progs[f][i] = p
			if name == "nat" && t.Present || needsConntrack(t) {
				h.ctUsed[f] = true
			}
		}
	}
	if h.rate != nil {
		h.rate.Prune(h.ruleInfos())
	}
	h.cacheConf()
	return nil
}

// linkConf is what the path reads of a device's sysctls for every
// packet, taken from the sysctl map once (Reload) rather than built into
// keys per packet.
type linkConf struct {
	forwarding, disableIPv6, sendRedirects bool
	xfrm                                   xfrmConf // disable_xfrm, disable_policy
}

func (h *Host) cacheConf() {
	h.conf = make(map[string]linkConf, len(h.Net.Links))
	allRedirects := h.sysctl("net.ipv4.conf.all.send_redirects") == "1"
	for _, l := range h.Net.Links {
		h.conf[l.Name] = linkConf{
			forwarding:    h.sysctl("net.ipv4.conf."+l.Name+".forwarding") == "1",
			disableIPv6:   h.sysctl("net.ipv6.conf."+l.Name+".disable_ipv6") == "1",
			sendRedirects: allRedirects || h.sysctl("net.ipv4.conf."+l.Name+".send_redirects") == "1",
			xfrm:          h.xfrmLinkConf(l.Name),
		}
	}
	h.fwd6 = h.sysctl("net.ipv6.conf.all.forwarding") == "1"
}

// ruleInfos lists the match and target data of every rule of the host.
func (h *Host) ruleInfos() []any {
	var infos []any
	for _, rs := range h.Rules {
		if rs == nil {
			continue
		}
		for _, t := range rs.Tables {
			for _, c := range t.Chains {
				for _, r := range c.Rules {
					for _, m := range r.Matches {
						infos = append(infos, m.Info)
					}
					if r.Target != nil && r.Target.Info != nil {
						infos = append(infos, r.Target.Info)
					}
				}
			}
		}
	}
	return infos
}

// ctExtensions are the extensions whose kernel modules take a reference
// on conntrack in the namespace (nf_ct_netns_get in their checkentry),
// which registers conntrack's hooks for the family.
var ctExtensions = map[string]bool{
	"state": true, "conntrack": true, "connmark": true, "CONNMARK": true, "connbytes": true,
	"connlabel": true, "connlimit": true, "helper": true, "CT": true, "NOTRACK": true,
	"cluster": true, "CONNSECMARK": true, "SNAT": true, "DNAT": true, "MASQUERADE": true,
	"REDIRECT": true, "NETMAP": true, "ipvs": true,
}

func needsConntrack(t *xtables.Table) bool {
	if !t.Present {
		return false
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			for _, m := range r.Matches {
				if ctExtensions[m.Type.Name] {
					return true
				}
			}
			if r.Target != nil && r.Target.Type != nil && ctExtensions[r.Target.Type.Name] {
				return true
			}
		}
	}
	return false
}

// ConntrackInUse reports whether connection tracking runs for a family.
func (h *Host) ConntrackInUse(f xtables.Family) bool { return h.ctUsed[famIndex(f)] }

// random is the host's seeded source (splitmix64).
func (h *Host) random() uint32 {
	h.rng += 0x9e3779b97f4a7c15
	z := h.rng
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return uint32((z ^ z>>31) >> 32)
}

func (h *Host) sysctl(key string) string { return h.Net.Sysctl[key] }

func (h *Host) sysctlInt(key string, def int) int {
	if v, err := strconv.Atoi(h.sysctl(key)); err == nil {
		return v
	}
	return def
}

// link returns the named link or nil.
func (h *Host) link(name string) *host.Link { return h.Net.LinkByName(name) }

// Fate is what became of a packet handed to the host.
type Fate uint8

const (
	FateDropped   Fate = iota // dropped (by a rule, a policy or the stack)
	FateDelivered             // delivered to a local socket or protocol
	FateForwarded             // forwarded and transmitted
	FateSent                  // a local packet transmitted
	FateQueued                // NFQUEUE/QUEUE with a listener (none here)
	FateStolen                // taken by a target
)

var fateNames = [...]string{"dropped", "delivered", "forwarded", "sent", "queued", "stolen"}

func (f Fate) String() string {
	if int(f) < len(fateNames) {
		return fateNames[f]
	}
	return fmt.Sprintf("fate(%d)", f)
}

// Result is the outcome of one packet given to the host (not of the
// packets it generated while handling it, which the Observer and the
// Emit callback see).
type Result struct {
	Fate Fate
	// Reason says why, for drops by the stack (no route, TTL exceeded,
	// bad header …); empty when a rule or policy decided.
	Reason string
	// Table, Hook and Decision name the rule or policy that dropped the
	// packet (Decision.Chain nil otherwise).
	Table    string
	Hook     int
	Decision xtables.Decision
	// Dev is the device it left by (forwarded, sent).
	Dev string
	// SendErr is the error a local sender sees (Send only): "operation
	// not permitted" when a hook dropped it, as sendmsg returns -EPERM.
	SendErr string

	routeErr error // the route look-up's error, for SendErr
}

// errPacket wraps decode errors of packets handed to the host.
type errPacket struct{ err error }

func (e errPacket) Error() string { return "bad packet: " + e.err.Error() }
func (e errPacket) Unwrap() error { return e.err }

// ensure interfaces
var _ xtables.Env = (*env)(nil)

// decodeIP decodes raw IP bytes into s.
func (s *skb) decode() error {
	return s.pkt.Decode(s.buf)
}

var _ = packet.ProtoTCP

// Replace gives the host a new network configuration and rule sets
// (after commands changed them), keeping its clock, connections and
// callbacks.
func (h *Host) Replace(net *host.Net, r4, r6 *xtables.Ruleset) error {
	h.Net = net
	carryRuleState(h.Rules[v4], r4)
	carryRuleState(h.Rules[v6], r6)
	h.Rules[v4], h.Rules[v6] = r4, r6
	return h.Reload()
}

// carryRuleState gives the rules of a new rule set the match and target
// data (which hold limit buckets, quota counters, nth counters …) of the
// same rules in the old one: with nf_tables, "iptables -A" adds a rule
// and leaves the others, with their state, as they are. A rule counts as
// the same when its table, chain and specification are, taken in order.
func carryRuleState(old, cur *xtables.Ruleset) {
	if old == nil || cur == nil {
		return
	}
	for name, nt := range cur.Tables {
		ot := old.Tables[name]
		if ot == nil {
			continue
		}
		ctx := &xtables.Context{Family: cur.Family, Table: name, Numeric: true}
		for _, nc := range nt.Chains {
			oc := ot.Chain(nc.Name)
			if oc == nil {
				continue
			}
			pool := map[string][]*xtables.Rule{}
			for _, r := range oc.Rules {
				k := string(iptables.AppendRuleSpec(nil, r, ctx, false))
				pool[k] = append(pool[k], r)
			}
			for _, r := range nc.Rules {
				k := string(iptables.AppendRuleSpec(nil, r, ctx, false))
				if rs := pool[k]; len(rs) > 0 {
					r.Matches, r.Target = rs[0].Matches, rs[0].Target
					pool[k] = rs[1:]
				}
			}
		}
	}
}
