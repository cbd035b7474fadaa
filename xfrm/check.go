package xfrm

// SecPath is skb->sp: the states that decapsulated a packet, in the order
// they were applied (SAs[0] the outermost).
type SecPath struct {
	SAs [MaxDepth]*State
	Len int
	// Verified is sp->verified_cnt: the entries a passed policy check
	// has accounted for, which a later check of the same packet (a
	// nested tunnel) takes as optional.
	Verified int
}

// Reset empties the path (a packet without IPsec history).
func (sp *SecPath) Reset() { *sp = SecPath{} }

// push appends a state (xfrm_input: sp->xvec[sp->len++] = x); false when
// the path is full (XFRM_MAX_DEPTH).
func (sp *SecPath) push(x *State) bool {
	if sp.Len >= MaxDepth {
		return false
	}
	sp.SAs[sp.Len] = x
	sp.Len++
	return true
}

// AppendInfo appends what `-m policy --dir in` reads of the path.
func (sp *SecPath) AppendInfo(dst []SAInfo) []SAInfo {
	for i := 0; i < sp.Len; i++ {
		dst = append(dst, sp.SAs[i].Info())
	}
	return dst
}

// HasTunnel reports whether a state of the path is not in transport mode
// (secpath_has_nontransport from 0).
func (sp *SecPath) HasTunnel() bool { return sp.hasNonTransport(0) }

// hasNonTransport is secpath_has_nontransport from index k.
func (sp *SecPath) hasNonTransport(k int) bool {
	for ; k < sp.Len; k++ {
		if sp.SAs[k].Mode != ModeTransport {
			return true
		}
	}
	return false
}

// CheckResult says why the policy check let a packet through or not (the
// LINUX_MIB_XFRMIN* counter the kernel increments on a drop).
type CheckResult uint8

const (
	// CheckOK: the packet passes.
	CheckOK CheckResult = iota
	// CheckStateMismatch: an SA of the path does not take this flow by
	// its selector (XfrmInStateMismatch).
	CheckStateMismatch
	// CheckNoPolicy: no policy and the path holds a tunnel-mode SA, or the
	// default policy of the direction blocks (XfrmInNoPols).
	CheckNoPolicy
	// CheckBlocked: the policy's action is block (XfrmInPolBlock).
	CheckBlocked
	// CheckTmplMismatch: the policy's templates are not satisfied by the
	// path, e.g. the packet arrived in clear (XfrmInTmplMismatch).
	CheckTmplMismatch
)

func (r CheckResult) String() string {
	switch r {
	case CheckOK:
		return "ok"
	case CheckStateMismatch:
		return "XfrmInStateMismatch"
	case CheckNoPolicy:
		return "XfrmInNoPols"
	case CheckBlocked:
		return "XfrmInPolBlock"
	case CheckTmplMismatch:
		return "XfrmInTmplMismatch"
	}
	return "?"
}

// Check is xfrm4_policy_check / xfrm6_policy_check (__xfrm_policy_check)
// for a received packet in direction in (delivered locally, after INPUT,
// where the protocol takes it) or fwd (at the start of ip_forward): the
// secpath's states must take the flow, and the policy that matches the
// flow must be satisfied by the path, template by template from the last
// (outermost) to the first. A packet without IPsec history passes when no
// policy of the direction exists. The flow is the packet's as
// __xfrm_decode_session reads it, with the caller's nf_nat_decode_session
// applied: after a DNAT of the connection the original destination (and
// port), after an SNAT of the reply direction the original source. now
// becomes the policy's use time. It allocates nothing.
func (db *DB) Check(dir Dir, fl *Flow, sp *SecPath, now int64) CheckResult {
	r := db.check(dir, fl, sp, now)
	db.countCheck(r)
	return r
}

// countCheck counts a refused packet under its LINUX_MIB_XFRMIN* counter.
func (db *DB) countCheck(r CheckResult) {
	switch r {
	case CheckStateMismatch:
		db.Inc(MIBInStateMismatch)
	case CheckNoPolicy:
		db.Inc(MIBInNoPols)
	case CheckBlocked:
		db.Inc(MIBInPolBlock)
	case CheckTmplMismatch:
		db.Inc(MIBInTmplMismatch)
	}
}

// CheckBypass is __xfrm_policy_check for a socket whose per-socket
// policy allows without templates (the bypass an IKE daemon sets on its
// sockets, xfrm_sk_policy_lookup): the states must take the flow, and a
// tunnel-mode state in the path is not allowed by the empty template
// list.
func (db *DB) CheckBypass(fl *Flow, sp *SecPath) CheckResult {
	r := CheckOK
	for i := sp.Len - 1; i >= 0; i-- {
		if !sp.SAs[i].Sel.Match(fl) {
			r = CheckStateMismatch
			break
		}
	}
	if r == CheckOK && sp.hasNonTransport(0) {
		r = CheckTmplMismatch
	}
	db.countCheck(r)
	return r
}

func (db *DB) check(dir Dir, fl *Flow, sp *SecPath, now int64) CheckResult {
	if dir >= numDirs {
		return CheckNoPolicy
	}
	var none SecPath
	if sp == nil {
		sp = &none
	}
	if db.count[dir] == 0 && sp.Len == 0 && !db.DefaultBlock[dir] {
		return CheckOK
	}
	for i := sp.Len - 1; i >= 0; i-- {
		x := sp.SAs[i]
		if !x.Sel.Match(fl) {
			return CheckStateMismatch
		}
	}
	pol := db.Lookup(fl, dir)
	if pol == nil {
		if db.DefaultBlock[dir] {
			return CheckNoPolicy
		}
		if sp.hasNonTransport(0) {
			return CheckNoPolicy
		}
		return CheckOK
	}
	pol.Cur.UseTime = now
	var pols [2]*Policy
	pols[0] = pol
	n := 1
	if pol.Type != TypeMain {
		if m := db.lookupType(TypeMain, fl, DirIn, fl.IfID); m != nil {
			m.Cur.UseTime = now
			pols[1], n = m, 2
		}
	}
	if pol.Action != Allow {
		return CheckBlocked
	}
	var tp [2 * MaxDepth]*Tmpl
	nt := 0
	for i := 0; i < n; i++ {
		if pols[i] != pol && pols[i].Action != Allow {
			return CheckBlocked
		}
		if nt+len(pols[i].Tmpls) >= MaxDepth {
			return CheckBlocked
		}
		for j := range pols[i].Tmpls {
			tp[nt] = &pols[i].Tmpls[j]
			nt++
		}
	}
	k := 0
	for i := nt - 1; i >= 0; i-- {
		k = policyOK(tp[i], sp, k, fl.IfID)
		if k < 0 {
			return CheckTmplMismatch
		}
	}
	if sp.hasNonTransport(k) {
		return CheckTmplMismatch
	}
	sp.Verified = k
	return CheckOK
}

// policyOK is xfrm_policy_ok: the index after the path entry that
// satisfies the template, start when an optional transport template is
// skipped, or -1.
func policyOK(t *Tmpl, sp *SecPath, start int, ifid uint32) int {
	idx := start
	if t.Optional != 0 {
		if t.Mode == ModeTransport {
			return start
		}
	} else {
		start = -1
	}
	for ; idx < sp.Len; idx++ {
		if stateOK(t, sp.SAs[idx], ifid) {
			return idx + 1
		}
		if sp.SAs[idx].Mode != ModeTransport {
			if idx < sp.Verified {
				// verified by an earlier check: optional here
				continue
			}
			if start == -1 {
				start = -2 - idx
			}
			break
		}
	}
	return start
}

// stateOK is xfrm_state_ok: the state is what the template asks for
// (tunnel addresses included, for a tunnel-mode state).
func stateOK(t *Tmpl, x *State, ifid uint32) bool {
	return x.Proto == t.Proto &&
		(x.SPI == t.SPI || t.SPI == 0) &&
		(x.Reqid == t.Reqid || t.Reqid == 0) &&
		x.Mode == t.Mode &&
		(t.AAlgos == ^uint32(0) && t.EAlgos == ^uint32(0) && t.CAlgos == ^uint32(0) ||
			t.AAlgos&(1<<aalgID(x)) != 0 || !isIPsecProto(t.Proto)) &&
		!(x.Mode != ModeTransport && !tmplAddrOK(t, x)) &&
		(ifid == 0 || ifid == x.IfID)
}

// tmplAddrOK is !xfrm_state_addr_cmp: a template's set addresses equal
// the state's.
func tmplAddrOK(t *Tmpl, x *State) bool {
	return (isAny(t.Dst) || addrBytesEqual(t.Dst, x.Dst)) && (isAny(t.Src) || addrBytesEqual(t.Src, x.Src))
}

// aalgID is props.aalgo, the PF_KEY id of the state's authentication
// algorithm (what a template's auth-mask selects).
func aalgID(x *State) uint {
	if x.Auth == nil {
		return 0
	}
	switch x.Auth.Name {
	case "digest_null":
		return 251
	case "hmac(md5)":
		return 2
	case "hmac(sha1)":
		return 3
	case "hmac(sha256)":
		return 5
	case "hmac(sha384)":
		return 6
	case "hmac(sha512)":
		return 7
	case "xcbc(aes)":
		return 9
	case "hmac(sm3)":
		return 10
	}
	return 0
}
