package stack

import (
	"github.com/iptwin/iptwin/ext/iphdr"
	"github.com/iptwin/iptwin/xtables"
)

// Hook priorities (enum nf_ip_hook_priorities; IPv6 uses the same values).
const (
	PriConntrackDefrag  = -400
	PriRaw              = -300
	PriConntrack        = -200
	PriMangle           = -150
	PriNATDst           = -100
	PriFilter           = 0
	PriSecurity         = 50
	PriNATSrc           = 100
	PriConntrackHelper  = 300
	PriConntrackConfirm = 1<<31 - 1
)

// step is one function registered on a hook.
type step uint8

const (
	stepDefrag step = iota
	stepRaw
	stepConntrack
	stepMangle
	stepNATDst
	stepFilter
	stepSecurity
	stepNATSrc
	stepConfirm
)

// hookSteps are the functions of each hook in priority order. The
// conntrack ones run only when conntrack is in use for the family.
var hookSteps = [xtables.NumHooks][]step{
	xtables.HookPrerouting:  {stepDefrag, stepRaw, stepConntrack, stepMangle, stepNATDst},
	xtables.HookInput:       {stepMangle, stepFilter, stepSecurity, stepNATSrc, stepConfirm},
	xtables.HookForward:     {stepMangle, stepFilter, stepSecurity},
	xtables.HookOutput:      {stepDefrag, stepRaw, stepConntrack, stepMangle, stepNATDst, stepFilter, stepSecurity},
	xtables.HookPostrouting: {stepMangle, stepNATSrc, stepConfirm},
}

var stepSlot = [...]int{stepRaw: slotRaw, stepMangle: slotMangle, stepNATDst: slotNAT, stepFilter: slotFilter,
	stepSecurity: slotSecurity, stepNATSrc: slotNAT, stepDefrag: -1, stepConntrack: -1, stepConfirm: -1}

// verdict is the outcome of a hook for the path.
type verdict struct {
	code     xtables.VerdictCode
	table    string
	decision xtables.Decision
	reason   string // drops by conntrack/defrag
}

// hook runs every function registered on a hook, in priority order, as
// nf_hook_slow does. It returns Accept to let the packet continue; a
// packet the defrag step keeps (a fragment waiting for the rest) comes
// back as Stolen.
func (h *Host) hook(s *skb, hook int) verdict {
	f := famIndex(s.fam)
	ct := h.ctUsed[f]
	if h.Obs != nil {
		h.Obs.Hook(s.fam, hook)
	}
	for _, stp := range hookSteps[hook] {
		switch stp {
		case stepDefrag:
			if !ct {
				continue
			}
			if v, ok := h.defragStep(s, hook); !ok {
				return v
			}
			continue
		case stepConntrack:
			if !ct {
				continue
			}
			if v, ok := h.conntrackIn(s, hook); !ok {
				return v
			}
			continue
		case stepConfirm:
			if !ct {
				continue
			}
			if v, ok := h.confirm(s); !ok {
				return v
			}
			continue
		}
		p := h.progs[f][stepSlot[stp]]
		if stp == stepNATDst || stp == stepNATSrc {
			// Once the nat table has a chain, nf_nat registers its
			// function on all four hooks (nf_nat_ipv4_ops): connections
			// get their bindings, and replies their reverse mapping,
			// also where the table has no chain.
			if p == nil || !p.Table.Present || !ct {
				continue
			}
			if v, ok := h.natStep(s, hook, p); !ok {
				return v
			}
			if v, ok := h.xfrmNATHarder(s, hook); !ok {
				return v
			}
			continue
		}
		if p == nil || !p.HasHook(hook) {
			continue
		}
		if v, ok := h.walk(s, hook, p); !ok {
			return v
		}
	}
	return verdict{code: xtables.VerdictCodeAccept}
}

// walk runs one table's chain and carries the packet's state back.
func (h *Host) walk(s *skb, hook int, p *xtables.Program) (verdict, bool) {
	st := h.prepare(s)
	var tr xtables.Tracer
	if h.Obs != nil {
		tr = h.Obs
	}
	code, d := p.Run(st, hook, tr)
	h.absorb(s, st)
	switch code {
	case xtables.VerdictCodeAccept:
		return verdict{}, true
	case xtables.VerdictCodeQueue:
		// No queue listener in a twin host: nf_queue fails and the
		// packet is dropped (NFQUEUE --queue-bypass returns ACCEPT
		// itself).
		code = xtables.VerdictCodeDrop
	}
	return verdict{code: code, table: p.Table.Name, decision: d}, false
}

// prepare fills the reused PacketState for a walk over s.
func (h *Host) prepare(s *skb) *xtables.PacketState {
	st := &h.env.st
	st.Reset()
	st.Env = &h.env
	st.Pkt = &s.pkt
	st.In, st.Out = s.in, s.out
	if s.hasMAC {
		st.MAC = s.mac[:]
	}
	st.Mark = s.mark
	st.FragOff = xtables.FragOffset(&s.pkt.Headers)
	if s.v6() {
		proto, _, _, err := iphdr.IPv6FindHdr(s.pkt.Data, -1, true)
		if err != 0 {
			proto = -1
		}
		st.L4Proto = proto
	} else {
		st.L4Proto = int(s.pkt.IPv4.Protocol)
	}
	st.HasSock, st.UID, st.GID = s.sock != sockNone, s.uid, s.gid
	st.SockNoFile = s.sock == sockCtl
	st.Trace = s.trace
	h.ctPrepare(s, st)
	h.env.cur = s
	return st
}

// absorb takes back what targets changed.
func (h *Host) absorb(s *skb, st *xtables.PacketState) {
	s.mark = st.Mark
	s.trace = st.Trace
	h.ctAbsorb(s, st)
	// A target may have grown the packet in place (TCPMSS inserting an
	// option): the packet is what Data now spans.
	if len(s.pkt.Data) != len(s.buf) && len(s.pkt.Data) > 0 {
		s.buf = s.pkt.Data
	}
	h.env.cur = nil
}
