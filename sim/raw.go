package sim

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/xtables"
)

// raw and trace put one packet, written in pktspec's notation (as
// `iptwin trace` takes it), into a host: "in IFACE" arrives on that
// interface from its link (and shows in the link's capture), "out" is
// sent by one of the host's sockets; without either, a packet from one
// of the host's addresses is sent, any other arrives by the interface of
// the route back to its source. raw prints the packet's fate, trace
// every hook, rule and decision on the way.

func parseRawSpec(text string) (pktspec.Spec, error) {
	return pktspec.Parse(text)
}

type rawApp struct {
	n     *Network
	sh    *simHost
	spec  pktspec.Spec
	trace bool
	res   string
}

func (n *Network) newRaw(sh *simHost, text string, trace bool) app {
	sp, err := parseRawSpec(text)
	if err != nil {
		return n.failApp(err.Error(), 2)
	}
	return &rawApp{n: n, sh: sh, spec: sp, trace: trace}
}

func (a *rawApp) start() {
	n, sh, sp := a.n, a.sh, &a.spec
	ip, err := sp.Append(nil)
	if err != nil {
		a.fail(err.Error())
		return
	}
	dir, dev := sp.Dir, sp.Iface
	if dir == pktspec.DirUnset {
		if sh.h.AddrType(sp.Src) == xtables.RTNLocal {
			dir = pktspec.DirOut
		} else {
			r, _, err := sh.h.Net.Lookup(sp.Src, netip.Addr{}, "", "", 0)
			if err != nil || sh.h.Net.LinkByIndex(r.Dev) == nil {
				a.fail(fmt.Sprintf("no route back to %s to choose the interface: say \"in IFACE\" or \"out\"", sp.Src))
				return
			}
			dir, dev = pktspec.DirIn, sh.h.Net.LinkByIndex(r.Dev).Name
		}
	}
	var tr *stack.Trace
	if a.trace {
		tr = stack.NewTrace(sh.st.Names())
		sh.h.Obs = tr
		defer func() { sh.h.Obs = nil }()
	}
	sh.h.Now = n.now
	var res stack.Result
	if dir == pktspec.DirOut {
		if tr != nil {
			tr.Start("output", "", ip)
		}
		res, err = sh.h.Send(ip, nil)
	} else {
		ifc := sh.ifBy[dev]
		if ifc == nil {
			a.fail(fmt.Sprintf("host %s has no interface %q", sh.name, dev))
			return
		}
		frame := make([]byte, 14, 14+len(ip))
		dmac, smac := ifc.mac, peerMAC(ifc)
		if sp.HasMAC {
			dmac, smac = sp.DstMAC, sp.SrcMAC
		}
		copy(frame[0:6], dmac[:])
		copy(frame[6:12], smac[:])
		if sp.IsIPv6() {
			frame[12], frame[13] = 0x86, 0xdd
		} else {
			frame[12], frame[13] = 0x08, 0x00
		}
		frame = append(frame, ip...)
		if ifc.link != nil {
			n.capture(ifc.link, frame)
		}
		if tr != nil {
			tr.Start("input", dev, ip)
		}
		res, err = sh.h.Receive(dev, frame)
	}
	if err != nil {
		a.fail(err.Error())
		return
	}
	if tr != nil {
		tr.Finish(res)
		var b bytes.Buffer
		tr.WriteText(&b)
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			n.out(l)
		}
	} else {
		n.out(fateText(&res))
	}
	a.res = res.Fate.String()
}

func (a *rawApp) fail(msg string) {
	a.n.out("raw: " + msg)
	a.res = "error"
}

// fateText says what became of a packet.
func fateText(r *stack.Result) string {
	var b strings.Builder
	b.WriteString("fate: " + r.Fate.String())
	if r.Decision.Chain != nil {
		fmt.Fprintf(&b, " by %s %s", r.Table, r.Decision.Chain.Name)
		if r.Decision.Rule != nil {
			fmt.Fprintf(&b, " rule %d", r.Decision.Num)
		} else {
			b.WriteString(" policy")
		}
	}
	if r.Dev != "" {
		b.WriteString(" via " + r.Dev)
	}
	if r.Reason != "" {
		b.WriteString(" (" + r.Reason + ")")
	}
	return b.String()
}

// peerMAC is the source of an injected frame: the first other interface
// on the link, else a fixed locally administered address.
func peerMAC(ifc *iface) [6]byte {
	if ifc.link != nil {
		for _, e := range ifc.link.ends {
			if e != ifc {
				return e.mac
			}
		}
	}
	return [6]byte{0x02, 0, 0, 0, 0, 0x01}
}

func (a *rawApp) done() bool      { return true }
func (a *rawApp) finish()         {}
func (a *rawApp) outcome() string { return a.res }
