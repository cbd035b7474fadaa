package sim

import (
	"net/netip"

	"github.com/iptwin/iptwin/xfrm"
)

// charon's per-socket bypass policies: kernel-netlink's bypass_socket
// (add_socket_bypass) sets an allow policy out, then in, on every socket
// socket-default opens (open_socketpair: IPv6 then IPv4, charon.port
// then charon.port_nat_t), so that "ip xfrm policy" on a host running
// charon ends with
//
//	src 0.0.0.0/0 dst 0.0.0.0/0
//		socket in priority 0 ptype main
//	src 0.0.0.0/0 dst 0.0.0.0/0
//		socket out priority 0 ptype main
//
// once per socket, newest first (testdata/real/ok/xfrm-policy-a.txt of
// package ike). They are there to be listed: the stack applies them
// itself (stack.Socket.XfrmBypass on charon's sockets and datagrams).
// Their use times follow the datagrams, as the kernel's look-ups set
// them (xfrm_lookup_with_ifid for what charon sends, __xfrm_policy_check
// for what its sockets receive).

// sockPolicies are one socket's two policies, by index.
type sockPolicies struct {
	v6      bool
	port    uint16
	in, out uint32
}

// addSocketPolicies gives charon's sockets on the ports their policies.
func (ih *ipsecd) addSocketPolicies(ports []uint16) {
	db := ih.xfrmDB()
	now := ih.xfrmNow()
	for _, v6 := range []bool{true, false} {
		sel := xfrm.Selector{Family: xfrm.Inet, Src: netip.IPv4Unspecified(), Dst: netip.IPv4Unspecified()}
		if v6 {
			sel = xfrm.Selector{Family: xfrm.Inet6, Src: netip.IPv6Unspecified(), Dst: netip.IPv6Unspecified()}
		}
		for _, port := range ports {
			sp := sockPolicies{v6: v6, port: port}
			for _, dir := range []xfrm.Dir{xfrm.DirOut, xfrm.DirIn} {
				idx, err := db.AddSocketPolicy(&xfrm.PolicyRequest{Sel: sel, Dir: dir, Action: xfrm.Allow}, now)
				if err != nil {
					ih.syslog(ih.thread(), "KNL", "unable to set IPSEC_POLICY on socket: "+err.Error())
					continue
				}
				if dir == xfrm.DirIn {
					sp.in = idx
				} else {
					sp.out = idx
				}
			}
			ih.sockPols = append(ih.sockPols, sp)
		}
	}
	ih.changed()
}

// deleteSocketPolicies: the sockets closed.
func (ih *ipsecd) deleteSocketPolicies() {
	if len(ih.sockPols) == 0 {
		return
	}
	db := ih.xfrmDB()
	for _, sp := range ih.sockPols {
		db.DeleteSocketPolicy(sp.in)
		db.DeleteSocketPolicy(sp.out)
	}
	ih.changed()
	ih.sockPols = nil
}

// touchSocketPolicy records a datagram's use of the policy of the
// socket on port (curlft.use_time): in for one received, out for one
// sent.
func (ih *ipsecd) touchSocketPolicy(v6 bool, port uint16, in bool) {
	if len(ih.sockPols) == 0 {
		return
	}
	db := ih.xfrmDB()
	for _, sp := range ih.sockPols {
		if sp.v6 != v6 || sp.port != port {
			continue
		}
		idx := sp.out
		if in {
			idx = sp.in
		}
		if p := db.SocketPolicy(idx); p != nil {
			p.Cur.UseTime = ih.xfrmNow()
		}
	}
}
