package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/sim/ike"
	"github.com/iptwin/iptwin/stack"
)

// ipsecd is charon running on a host: the ike.Daemon and what joins it
// to the simulator (its sockets, its timer, the "ipsec up" commands
// waiting for its lines, what it installed in the kernel).
type ipsecd struct {
	sh   *simHost
	env  *HostEnv
	spec *ipsecSpec
	d    *ike.Daemon
	gen  int // starts, for the daemon's seed

	running bool
	closers []func()
	cancel  func() // the pending timer
	timerAt int64
	// cmds are the "ipsec up" commands printing their IKE_SA's lines.
	cmds map[int]*ipsecUp
	// idents are the IPv4 ID generators of the host's unconnected UDP
	// sockets, by address pair (__ip_select_ident).
	idents map[ipIdentKey]*ipIdent
	idRnd  rng
	rnd    rng // worker thread numbers of the log lines

	kern ipsecKernel // what charon installed (ipsec_kernel.go)
	// sockPols are its sockets' bypass policies (ipsec_sockpol.go).
	sockPols []sockPolicies
}

// start is "ipsec start": charon reads its files, opens its sockets and
// initiates the auto=start conns.
func (ih *ipsecd) start() error {
	sh, n := ih.sh, ih.sh.n
	ih.gen++
	ih.d = ike.New(ike.Options{Transport: ih, Net: ih, Installer: ih, Query: ih, Resolve: ih.resolve,
		Seed:  hostSeed(n.seed, sh.name, fmt.Sprintf("charon-%d", ih.gen)),
		Epoch: n.start, ConfFile: ipsecConfFile, SecretsFile: ipsecSecretsFile, SwconfFile: ipsecSwconfFile,
		Files: ih.spec.files})
	if err := ih.d.Load(ih.spec.conf, ih.spec.secrets, ih.spec.swconf, n.now); err != nil {
		// Checked when the file was read: only the kernel can still
		// complain (the routing rule).
		ih.syslog(ih.thread(), "CFG", err.Error())
	}
	s := ih.d.Settings()
	for _, port := range []uint16{s.Port, s.PortNATT} {
		// charon's sockets carry bypass policies (socket_default_socket.c
		// and kernel-netlink's bypass_socket): IKE is never transformed
		// nor held to the host's IPsec policies.
		closeFn, err := ih.env.HandleUDPSocket(stack.Socket{Port: port, XfrmBypass: true}, ih.datagram)
		if err != nil {
			ih.stopSockets()
			return fmt.Errorf("charon: unable to bind socket to port %d: %v", port, err)
		}
		ih.closers = append(ih.closers, closeFn)
	}
	ih.addSocketPolicies([]uint16{s.Port, s.PortNATT})
	ih.running = true
	// starter: "ipsec up" for every auto=start conn; nobody reads the
	// lines but syslog.
	for _, c := range ih.d.Conns() {
		if c.Auto == "start" {
			ih.emit(ih.d.Up(c.Name, n.now))
		}
	}
	ih.rearm()
	return nil
}

// stop is "ipsec stop": charon's SAs, policies, routes and rule leave the
// kernel and its sockets close. (charon would send each peer a DELETE
// first; the model does not.)
func (ih *ipsecd) stop() {
	for cmd, up := range ih.cmds {
		up.detach()
		delete(ih.cmds, cmd)
	}
	if ih.cancel != nil {
		ih.cancel()
		ih.cancel = nil
	}
	ih.stopSockets()
	ih.uninstallAll()
	ih.d = nil
	ih.running = false
}

func (ih *ipsecd) stopSockets() {
	for _, c := range ih.closers {
		c()
	}
	ih.closers = nil
	ih.deleteSocketPolicies()
}

// datagram is a datagram delivered to port 500 or 4500; charon reads it
// once the host is done with the packet.
func (ih *ipsecd) datagram(p *packet.Packet) {
	// On 4500 the decoder splits the non-ESP marker (or an ESP header)
	// off the payload: the datagram is all that follows the UDP header.
	var payload []byte
	if len(p.Transport) > 8 {
		payload = append(payload, p.Transport[8:]...)
	}
	payload = append(payload, p.Payload...)
	ih.touchSocketPolicy(p.Dst().Is6(), p.UDP.DstPort, true)
	dg := ike.Datagram{
		Src:     netip.AddrPortFrom(p.Src(), p.UDP.SrcPort),
		Dst:     netip.AddrPortFrom(p.Dst(), p.UDP.DstPort),
		Payload: payload,
	}
	d := ih.d
	ih.sh.n.schedule(ih.sh.n.now, func() {
		if ih.d != d {
			return // charon restarted meanwhile
		}
		ih.emit(d.Handle(dg, ih.sh.n.now))
		ih.rearm()
	})
}

// rearm sets the timer to the daemon's next deadline (retransmissions):
// virtual time, and a pending timer does not keep a step running.
func (ih *ipsecd) rearm() {
	if ih.d == nil {
		return
	}
	at, ok := ih.d.NextTimer()
	if ih.cancel != nil && (!ok || at != ih.timerAt) {
		ih.cancel()
		ih.cancel = nil
	}
	if !ok || ih.cancel != nil {
		return
	}
	now := ih.sh.n.now
	ih.timerAt = at
	ih.cancel = ih.env.After(time.Duration(max(at-now, 0)), func() {
		ih.cancel = nil
		ih.emit(ih.d.Tick(ih.sh.n.now))
		ih.rearm()
	})
}

// emit hands charon's lines to the "ipsec up" printing them, the others
// to syslog (the responder's, those of auto=start, those after an
// "ipsec up" gave up waiting).
func (ih *ipsecd) emit(out []ike.Output) {
	th := ih.thread()
	for _, o := range out {
		if up := ih.cmds[o.Cmd]; o.Cmd != 0 && up != nil {
			up.output(o)
			continue
		}
		if o.Done || o.Line == "" {
			continue
		}
		ih.syslog(th, o.Group, o.Line)
	}
}

// thread is the worker thread charon runs a job on (01-16): the number
// its log lines carry.
func (ih *ipsecd) thread() int { return 1 + int(ih.rnd.next()%16) }

// syslog writes a line as charon's syslog logger does (daemon facility):
// "charon: 11[NET] received packet: ...".
func (ih *ipsecd) syslog(thread int, group, line string) {
	if group == "" {
		group = "DMN"
	}
	ih.env.Syslog("charon", fmt.Sprintf("%02d[%s] %s", thread, group, line))
}

// ---- what charon asks of the host (ike.Transport, ike.Net, Resolve) ----

// Send sends a datagram from charon's socket on src's port: an IP packet
// through the host's OUTPUT and POSTROUTING, as the kernel builds it
// for an unconnected UDP socket.
func (ih *ipsecd) Send(src, dst netip.AddrPort, payload []byte) {
	sh := ih.sh
	if !src.Addr().IsValid() || !dst.Addr().IsValid() {
		return // sendmsg fails: no route, nothing leaves
	}
	var h packet.Headers
	h.Proto = packet.ProtoUDP
	h.UDP = packet.UDP{SrcPort: src.Port(), DstPort: dst.Port()}
	h.Payload = payload
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if d.Is4() {
		ttl, _ := atoi(sh.h.Net.Sysctl["net.ipv4.ip_default_ttl"])
		h.Layers = packet.LayerIPv4 | packet.LayerUDP
		h.IPv4 = packet.IPv4{IHL: 5, TTL: uint8(ttl), Src: s, Dst: d}
		// IP_PMTUDISC_WANT: DF when the datagram fits the route's MTU,
		// else the kernel fragments it (__ip_make_skb).
		if len(payload)+28 <= sh.routeMTU(d, "") {
			h.IPv4.Flags = packet.IPv4DF
		}
		h.IPv4.ID = ih.ipID(s, d)
	} else {
		// ip6_dst_hoplimit: the output device's hop_limit
		hl, _ := atoi(sh.h.Net.Sysctl["net.ipv6.conf.all.hop_limit"])
		if _, _, dev, ok := ih.Route(d); ok {
			if v, ok := sh.h.Net.Sysctl["net.ipv6.conf."+dev+".hop_limit"]; ok {
				hl, _ = atoi(v)
			}
		}
		h.Layers = packet.LayerIPv6 | packet.LayerUDP
		h.IPv6 = packet.IPv6{HopLimit: uint8(hl), Src: s, Dst: d}
		if sh.h.Net.Sysctl["net.ipv6.auto_flowlabels"] != "0" {
			h.IPv6.FlowLabel = ih.flowLabel(src, dst)
		}
	}
	ip, err := h.Append(nil, packet.FixAll)
	if err != nil {
		return
	}
	ih.touchSocketPolicy(d.Is6(), src.Port(), false)
	ih.env.Send(ip, &stack.Socket{Proto: packet.ProtoUDP, Port: src.Port(), XfrmBypass: true})
}

// ipIdentKey is a bucket of the kernel's IP ID generator.
type ipIdentKey struct{ src, dst netip.Addr }

type ipIdent struct {
	next  uint16
	stamp int64 // jiffies of the last use
}

// ipID is __ip_select_ident for an unconnected socket (measured on
// Linux 6.18: DF datagrams from one socket to one peer get 18770,
// 18771, 18772 ...): a per-destination counter from a random start that
// also jumps by a random amount below the jiffies elapsed since its last
// use (ip_idents_reserve; HZ=250 as Debian builds it). The seed's LOG
// lines show it: ID=8099, 8314 after 4 s, 8982 after 7.2 s.
func (ih *ipsecd) ipID(src, dst netip.Addr) uint16 {
	const jiffy = int64(4 * time.Millisecond)
	now := ih.sh.n.now / jiffy
	k := ipIdentKey{src, dst}
	st := ih.idents[k]
	if st == nil {
		st = &ipIdent{next: ih.idRnd.u16(), stamp: now}
		ih.idents[k] = st
	}
	if el := now - st.stamp; el > 0 {
		st.next += uint16(ih.idRnd.next() % uint64(el))
	}
	st.stamp = now
	id := st.next
	st.next++
	return id
}

// flowLabel is the automatic flow label of an IPv6 flow: a hash of its
// addresses and ports, the same for every datagram of the flow
// (ip6_make_flowlabel with auto_flowlabels 1).
func (ih *ipsecd) flowLabel(src, dst netip.AddrPort) uint32 {
	h := fnv.New32a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], hostSeed(ih.sh.n.seed, ih.sh.name, "flowlabel"))
	h.Write(b[:])
	a, _ := src.MarshalBinary()
	h.Write(a)
	a, _ = dst.MarshalBinary()
	h.Write(a)
	return h.Sum32() & 0xfffff
}

// Addrs lists the host's addresses as charon's kernel interface sees
// them: interfaces in index order, up, not loopback; IPv6 link-local
// addresses left out.
func (ih *ipsecd) Addrs() []netip.Addr {
	nt := ih.sh.h.Net
	var out []netip.Addr
	for _, l := range nt.Links {
		if !l.Up || l.Kind == host.Loopback {
			continue
		}
		for _, v6 := range []bool{false, true} {
			for _, a := range nt.Addrs {
				ad := a.Prefix.Addr()
				if a.Dev != l.Index || ad.Is6() != v6 || ad.IsLinkLocalUnicast() && v6 {
					continue
				}
				out = append(out, ad)
			}
		}
	}
	return out
}

// Route is the FIB's answer for dst: preferred source, gateway, device.
func (ih *ipsecd) Route(dst netip.Addr) (src, gateway netip.Addr, dev string, ok bool) {
	nt := ih.sh.h.Net
	r, s, err := nt.Lookup(dst, netip.Addr{}, "", "", 0)
	if err != nil || r == nil {
		return netip.Addr{}, netip.Addr{}, "", false
	}
	if l := nt.LinkByIndex(r.Dev); l != nil {
		dev = l.Name
	}
	return s, r.Gw, dev, true
}

// resolve looks a name of left=/right= up in the host's hosts file.
func (ih *ipsecd) resolve(name string) (netip.Addr, bool) {
	a, err := ih.sh.resolve(name, false)
	return a, err == nil
}
