package xfrm

import (
	"net/netip"
	"sort"
)

// DB is a host's SPD and SAD (net->xfrm): policies and states in the order
// the kernel's dumps list them (newest first: policy_all, state_all), the
// policy index generator and the default policies.
type DB struct {
	States   []*State  `json:"states"`
	Policies []*Policy `json:"policies"`
	// IdxGen is net->xfrm.idx_generator (xfrm_gen_index).
	IdxGen uint32 `json:"idx_generator,omitempty"`
	// Seq numbers policies by creation (lookup ties go to the oldest).
	Seq uint64 `json:"seq,omitempty"`
	// DefaultBlock is net->xfrm.policy_default[dir] == XFRM_USERPOLICY_BLOCK
	// (ip xfrm policy setdefault), indexed by Dir.
	DefaultBlock [numDirs]bool `json:"default_block"`
	// Hthresh are the policy hash thresholds (ip xfrm policy set):
	// local and remote bits for IPv4, then IPv6; zero means the defaults
	// (32 32 128 128).
	Hthresh [4]uint8 `json:"hthresh"`
	// MIB are the namespace's xfrm statistics (/proc/net/xfrm_stat),
	// indexed by MIB.
	MIB [NumMIB]uint64 `json:"mib,omitzero"`

	// byDir holds the policies of each type and direction in lookup order
	// (priority, then age); count the policies per direction.
	byDir [2][numDirs][]*Policy
	count [numDirs]int
}

// NewDB returns an empty database.
func NewDB() *DB { return &DB{} }

// reindex rebuilds the lookup order after a change.
func (db *DB) reindex() {
	for t := range db.byDir {
		for d := range db.byDir[t] {
			db.byDir[t][d] = db.byDir[t][d][:0]
		}
	}
	db.count = [numDirs]int{}
	for _, p := range db.Policies {
		if p.Dir >= numDirs || p.Type > TypeSub {
			continue
		}
		db.byDir[p.Type][p.Dir] = append(db.byDir[p.Type][p.Dir], p)
		db.count[p.Dir]++
	}
	for t := range db.byDir {
		for d := range db.byDir[t] {
			l := db.byDir[t][d]
			sort.SliceStable(l, func(i, j int) bool {
				if l[i].Priority != l[j].Priority {
					return l[i].Priority < l[j].Priority
				}
				return l[i].Seq < l[j].Seq
			})
		}
	}
}

// Count returns the number of policies per direction (xfrm_spd_getinfo:
// incnt, outcnt, fwdcnt).
func (db *DB) Count() (in, out, fwd int) {
	return db.count[DirIn], db.count[DirOut], db.count[DirFwd]
}

// ---- states ----

// StateRequest is an XFRM_MSG_NEWSA / UPDSA message: struct
// xfrm_usersa_info and the attributes ip xfrm state add sends.
type StateRequest struct {
	Dst          netip.Addr
	SPI          uint32
	Proto        uint8
	Src          netip.Addr
	Family       Family
	Mode         Mode
	Reqid        uint32
	ReplayWindow uint32
	Flags        uint8
	ExtraFlags   uint32
	Sel          Selector
	Lft          LifetimeCfg
	KmSeq        uint32
	// The algorithm attributes: name as given, key, and for AuthTrunc the
	// truncation, for AEAD the ICV length (bits).
	Auth, AuthTrunc, Crypt, AEAD, Comp *Algo
	Encap                              *Encap
	Coaddr                             netip.Addr
	Mark, SetMark                      Mark
	IfID                               uint32
	TFCPad                             uint32
	// ReplayVal is XFRMA_REPLAY_VAL (initial seq and oseq), ReplayESN
	// XFRMA_REPLAY_ESN_VAL (Window, BmpLen via len(Bmp), seq values).
	ReplayVal *Replay
	ReplayESN *Replay
}

// verifyNewSA is verify_newsa_info.
func verifyNewSA(r *StateRequest) *Error {
	if r.Family != Inet && r.Family != Inet6 {
		return kerr(EINVAL, "Invalid address family")
	}
	fam := r.Sel.Family
	if fam == Unspec && r.Flags&StateAFUnspec == 0 {
		fam = r.Family
	}
	switch fam {
	case Unspec:
	case Inet:
		if r.Sel.DstLen > 32 || r.Sel.SrcLen > 32 {
			return kerr(EINVAL, "Invalid prefix length in selector (must be <= 32 for IPv4)")
		}
	case Inet6:
		if r.Sel.DstLen > 128 || r.Sel.SrcLen > 128 {
			return kerr(EINVAL, "Invalid prefix length in selector (must be <= 128 for IPv6)")
		}
	default:
		return kerr(EINVAL, "Invalid address family in selector")
	}
	auth := r.Auth != nil || r.AuthTrunc != nil
	switch r.Proto {
	case ProtoAH:
		if !auth {
			return kerr(EINVAL, "Missing required attribute for AH: AUTH_TRUNC or AUTH")
		}
		if r.AEAD != nil || r.Crypt != nil || r.Comp != nil || r.TFCPad != 0 {
			return kerr(EINVAL, "Invalid attributes for AH: AEAD, CRYPT, COMP, TFCPAD")
		}
	case ProtoESP:
		if r.Comp != nil {
			return kerr(EINVAL, "Invalid attribute for ESP: COMP")
		}
		if !auth && r.Crypt == nil && r.AEAD == nil {
			return kerr(EINVAL, "Missing required attribute for ESP: at least one of AUTH, AUTH_TRUNC, CRYPT, AEAD")
		}
		if (auth || r.Crypt != nil) && r.AEAD != nil {
			return kerr(EINVAL, "Invalid attribute combination for ESP: AEAD can't be used with AUTH, AUTH_TRUNC, CRYPT")
		}
		if r.TFCPad != 0 && r.Mode != ModeTunnel {
			return kerr(EINVAL, "TFC padding can only be used in tunnel mode")
		}
	case ProtoComp:
		if r.Comp == nil {
			return kerr(EINVAL, "Missing required attribute for COMP: COMP")
		}
		if r.AEAD != nil || auth || r.Crypt != nil || r.TFCPad != 0 {
			return kerr(EINVAL, "Invalid attributes for COMP: AEAD, AUTH, AUTH_TRUNC, CRYPT, TFCPAD")
		}
		if r.SPI >= 0x10000 {
			return kerr(EINVAL, "SPI is too large for COMP (must be < 0x10000)")
		}
	case ProtoDstOpts, ProtoRouting:
		if r.Comp != nil || auth || r.AEAD != nil || r.Crypt != nil || r.Encap != nil || r.TFCPad != 0 {
			return kerr(EINVAL, "Invalid attributes for DSTOPTS/ROUTING")
		}
		if !r.Coaddr.IsValid() {
			return kerr(EINVAL, "Missing required COADDR attribute for DSTOPTS/ROUTING")
		}
	default:
		return kerr(EINVAL, "Unsupported protocol")
	}
	// verify_replay
	if r.ReplayESN == nil {
		if r.Flags&StateESN != 0 {
			return kerr(EINVAL, "Missing required attribute for ESN")
		}
	} else {
		if len(r.ReplayESN.Bmp) > ReplayESNMax/32 {
			return kerr(EINVAL, "ESN bitmap length must be <= 128")
		}
		if r.Proto != ProtoESP && r.Proto != ProtoAH {
			return kerr(EINVAL, "ESN only supported for ESP and AH")
		}
		if r.ReplayWindow != 0 {
			return kerr(EINVAL, "ESN not compatible with legacy replay_window")
		}
	}
	switch r.Mode {
	case ModeTransport, ModeTunnel, ModeRO, ModeBEET:
	default:
		return kerr(EINVAL, "Unsupported mode")
	}
	return nil
}

// modeExists is xfrm_get_mode: the modes built for a family (route
// optimization and in_trigger are IPv6's, Mobile IPv6).
func modeExists(m Mode, f Family) bool {
	switch m {
	case ModeTransport, ModeTunnel, ModeBEET:
		return f == Inet || f == Inet6
	case ModeRO, ModeInTrigger:
		return f == Inet6
	}
	return false
}

// constructState is xfrm_state_construct: the state a request describes,
// with the algorithm lookups, __xfrm_init_state and xfrm_init_replay.
func constructState(r *StateRequest, now int64) (*State, *Error) {
	x := &State{
		Dst: r.Dst, SPI: r.SPI, Proto: r.Proto, Src: r.Src, Family: r.Family,
		Mode: r.Mode, Reqid: r.Reqid, Flags: r.Flags, ExtraFlags: r.ExtraFlags,
		Sel: r.Sel, Lft: r.Lft, KmSeq: r.KmSeq, Mark: r.Mark, SetMark: r.SetMark,
		IfID: r.IfID, TFCPad: r.TFCPad, Coaddr: r.Coaddr,
	}
	// copy_from_user_state: the legacy window is at most 32 bits.
	x.ReplayWindow = r.ReplayWindow
	if x.ReplayWindow > 32 {
		x.ReplayWindow = 32
	}
	if x.Sel.Family == Unspec && r.Flags&StateAFUnspec == 0 {
		x.Sel.Family = r.Family
	}
	if r.AEAD != nil {
		d := LookupAlgo(KindAEAD, r.AEAD.Name, r.AEAD.ICVLen)
		if d == nil {
			return nil, kerr(ENOSYS, "Requested AEAD algorithm not found")
		}
		x.AEAD = &Algo{Name: d.Name, Key: r.AEAD.Key, KeyBits: r.AEAD.KeyBits, ICVLen: r.AEAD.ICVLen}
	}
	if r.AuthTrunc != nil {
		d := LookupAlgo(KindAuth, r.AuthTrunc.Name, 0)
		if d == nil {
			return nil, kerr(ENOSYS, "Requested AUTH algorithm not found")
		}
		if r.AuthTrunc.TruncLen > d.FullBits {
			return nil, kerr(EINVAL, "Invalid length requested for truncated ICV")
		}
		t := r.AuthTrunc.TruncLen
		if t == 0 {
			t = d.TruncBits
		}
		x.Auth = &Algo{Name: d.Name, Key: r.AuthTrunc.Key, KeyBits: r.AuthTrunc.KeyBits, TruncLen: t}
	}
	if x.Auth == nil && r.Auth != nil {
		d := LookupAlgo(KindAuth, r.Auth.Name, 0)
		if d == nil {
			return nil, kerr(ENOSYS, "Requested AUTH algorithm not found")
		}
		x.Auth = &Algo{Name: d.Name, Key: r.Auth.Key, KeyBits: r.Auth.KeyBits, TruncLen: d.TruncBits}
	}
	if r.Crypt != nil {
		d := LookupAlgo(KindCrypt, r.Crypt.Name, 0)
		if d == nil {
			return nil, kerr(ENOSYS, "Requested CRYPT algorithm not found")
		}
		x.Enc = &Algo{Name: d.Name, Key: r.Crypt.Key, KeyBits: r.Crypt.KeyBits}
	}
	if r.Comp != nil {
		d := LookupAlgo(KindComp, r.Comp.Name, 0)
		if d == nil {
			return nil, kerr(ENOSYS, "Requested COMP algorithm not found")
		}
		x.Comp = &Algo{Name: d.Name, Key: r.Comp.Key, KeyBits: r.Comp.KeyBits}
	}
	if r.Encap != nil {
		e := *r.Encap
		x.Encap = &e
	}
	// xfrm_smark_init: an output mark without a mask has the full mask.
	if x.SetMark.V != 0 && x.SetMark.M == 0 {
		x.SetMark.M = 0xffffffff
	}
	// __xfrm_init_state
	if x.Sel.Family != Unspec {
		if !modeExists(x.Mode, x.Sel.Family) {
			return nil, kerr(EPROTONOSUPPORT, "Requested mode not found")
		}
		tunnel := x.Mode == ModeTunnel || x.Mode == ModeBEET
		if !tunnel && x.Family != x.Sel.Family {
			return nil, kerr(EINVAL, "Only tunnel modes can accommodate a change of family")
		}
	} else if !modeExists(x.Mode, x.Family) {
		return nil, kerr(EPROTONOSUPPORT, "Requested mode not found")
	}
	switch x.Proto {
	case ProtoESP, ProtoAH, ProtoComp:
	default:
		// Mobile IPv6 (route2, hao) is not built, as on the kernel the
		// goldens were recorded on.
		return nil, kerr(EPROTONOSUPPORT, "Requested type not found")
	}
	switch x.Proto {
	case ProtoAH:
		if x.Auth == nil {
			return nil, kerr(EINVAL, "AH requires a state with an AUTH algorithm")
		}
		if x.Encap != nil {
			return nil, kerr(EINVAL, "AH is not compatible with encapsulation")
		}
		if d := LookupAlgo(KindAuth, x.Auth.Name, 0); d == nil || !d.keyOK(len(x.Auth.Key)) {
			return nil, kerr(EINVAL, "Kernel was unable to initialize cryptographic operations")
		}
	case ProtoComp:
		if x.Encap != nil {
			return nil, kerr(EINVAL, "IPComp is not compatible with encapsulation")
		}
	}
	if err := x.prepare(); err != nil {
		return nil, err
	}
	if !modeExists(x.Mode, x.Family) {
		return nil, kerr(EPROTONOSUPPORT, "Requested mode not found")
	}
	// xfrm_alloc_replay_state_esn, xfrm_init_replay
	if e := r.ReplayESN; e != nil {
		if e.Window > uint32(len(e.Bmp))*32 {
			return nil, kerr(EINVAL, "ESN replay window is too large for the chosen bitmap size")
		}
		if x.Flags&StateESN != 0 && e.Window == 0 {
			return nil, kerr(EINVAL, "ESN replay window must be > 0")
		}
		x.Replay = Replay{ESN: true, Seq: e.Seq, OSeq: e.OSeq, SeqHi: e.SeqHi, OSeqHi: e.OSeqHi,
			Window: e.Window, Bmp: append([]uint32(nil), e.Bmp...)}
	}
	if v := r.ReplayVal; v != nil && !x.Replay.ESN {
		x.Replay.Seq, x.Replay.OSeq, x.Replay.Bitmap = v.Seq, v.OSeq, v.Bitmap
	}
	x.Cur.AddTime = now
	return x, nil
}

// locate is __xfrm_state_locate: the state with the same identity (by SPI
// for ESP, AH and IPComp, else by addresses) whose mark matches.
func (db *DB) locate(x *State) int {
	mark := x.Mark.V & x.Mark.M
	for i, s := range db.States {
		if s.Family != x.Family || s.Proto != x.Proto || !addrBytesEqual(s.Dst, x.Dst) || !s.Mark.matches(mark) {
			continue
		}
		if isIPsecProto(x.Proto) {
			// only states with an SPI are in the byspi hash
			if s.SPI == x.SPI && s.SPI != 0 {
				return i
			}
		} else if addrBytesEqual(s.Src, x.Src) {
			return i
		}
	}
	return -1
}

// AddState is xfrm_add_sa: it checks the request as the kernel does and
// adds the state (update false: xfrm_state_add, EEXIST when it exists) or
// updates the existing one (xfrm_state_update: only the encapsulation,
// the selector of non-SPI protocols, the lifetimes, the output mark and
// the interface id change; ESRCH when there is none). now is the wall
// clock in seconds.
func (db *DB) AddState(r *StateRequest, update bool, now int64) *Error {
	if err := verifyNewSA(r); err != nil {
		return err
	}
	x, err := constructState(r, now)
	if err != nil {
		return err
	}
	// __xfrm_state_insert sanitizes the mark.
	i := db.locate(x)
	x.Mark.V &= x.Mark.M
	if !update {
		if i >= 0 {
			return kerr(EEXIST, "")
		}
		// xfrm_state_add: the larval state this one completes goes (by the
		// key manager's sequence number, else by the SA's parameters).
		larval := -1
		if isIPsecProto(x.Proto) {
			if x.KmSeq != 0 {
				larval = db.acqBySeq(x.Mark.V&x.Mark.M, x.KmSeq)
				if larval >= 0 && (db.States[larval].Proto != x.Proto || !addrBytesEqual(db.States[larval].Dst, x.Dst)) {
					larval = -1
				}
			}
			if larval < 0 {
				larval = db.findAcq(x.Mark, x.Family, x.Mode, x.Reqid, x.IfID, x.Proto, x.Dst, x.Src)
			}
		}
		if larval >= 0 {
			db.States = append(db.States[:larval], db.States[larval+1:]...)
		}
		db.States = append([]*State{x}, db.States...)
		return nil
	}
	if i < 0 {
		return kerr(ESRCH, "")
	}
	old := db.States[i]
	if old.Larval {
		// xfrm_state_update of a larval state: the new one replaces it.
		db.States = append(db.States[:i], db.States[i+1:]...)
		db.States = append([]*State{x}, db.States...)
		return nil
	}
	switch {
	case x.Encap != nil && old.Encap != nil && x.Encap.Type == old.Encap.Type:
		*old.Encap = *x.Encap
	case x.Encap != nil || old.Encap != nil:
		return kerr(EINVAL, "")
	}
	if !isIPsecProto(x.Proto) {
		old.Sel = x.Sel
	}
	old.Lft = x.Lft
	old.Dying = false
	if x.SetMark.V|x.SetMark.M != 0 {
		old.SetMark = x.SetMark
	}
	if x.IfID != 0 {
		old.IfID = x.IfID
	}
	return nil
}

// acqBySeq is __xfrm_find_acq_byseq.
func (db *DB) acqBySeq(mark, seq uint32) int {
	for i, s := range db.States {
		if s.KmSeq == seq && s.Larval && s.Mark.matches(mark) {
			return i
		}
	}
	return -1
}

// findAcq is __find_acq_core without creation: the larval state without
// an SPI for these parameters.
func (db *DB) findAcq(m Mark, f Family, mode Mode, reqid, ifid uint32, proto uint8, daddr, saddr netip.Addr) int {
	mark := m.V & m.M
	for i, s := range db.States {
		if s.Larval && s.Reqid == reqid && s.Mode == mode && s.Family == f && s.SPI == 0 &&
			s.Proto == proto && s.Mark.matches(mark) && s.IfID == ifid &&
			addrBytesEqual(s.Dst, daddr) && addrBytesEqual(s.Src, saddr) {
			return i
		}
	}
	return -1
}

// AllocRequest is XFRM_MSG_ALLOCSPI (struct xfrm_userspi_info).
type AllocRequest struct {
	Dst, Src netip.Addr
	Family   Family
	Proto    uint8
	Mode     Mode
	Reqid    uint32
	KmSeq    uint32
	Mark     Mark
	IfID     uint32
	Min, Max uint32
}

// AcqExpires is net.core.xfrm_acq_expires: a larval state's life.
const AcqExpires = 30

// AllocSPI is xfrm_alloc_userspi: the larval state for the parameters (an
// existing one found by sequence number, else a new one, first in the
// listing, expiring after AcqExpires seconds) gets an SPI in [Min, Max]
// that no state of the destination uses. A range of one is the kernel's
// choice exactly; in a wider one the kernel draws at random, the twin
// draws from a hash of the request (deterministic).
func (db *DB) AllocSPI(r *AllocRequest, now int64) (*State, *Error) {
	switch r.Proto {
	case ProtoAH, ProtoESP:
	case ProtoComp:
		if r.Max >= 0x10000 {
			return nil, kerr(EINVAL, "IPCOMP SPI must be <= 65535")
		}
	default:
		return nil, kerr(EINVAL, "Invalid protocol, must be one of AH, ESP, IPCOMP")
	}
	if r.Min > r.Max {
		return nil, kerr(EINVAL, "Invalid SPI range: min > max")
	}
	mark := r.Mark.V & r.Mark.M
	var x *State
	if r.KmSeq != 0 {
		if i := db.acqBySeq(mark, r.KmSeq); i >= 0 && addrBytesEqual(db.States[i].Dst, r.Dst) {
			x = db.States[i]
		}
	}
	if x == nil {
		if i := db.findAcq(r.Mark, r.Family, r.Mode, r.Reqid, r.IfID, r.Proto, r.Dst, r.Src); i >= 0 {
			x = db.States[i]
		}
	}
	if x == nil {
		bits := uint8(32)
		if r.Family == Inet6 {
			bits = 128
		}
		x = &State{Dst: r.Dst, Src: r.Src, Family: r.Family, Proto: r.Proto, Mode: r.Mode, Reqid: r.Reqid,
			IfID: r.IfID, Mark: r.Mark, Larval: true, KmSeq: r.KmSeq,
			Sel: Selector{Src: r.Src, Dst: r.Dst, SrcLen: bits, DstLen: bits}}
		x.Lft = DefaultLifetime()
		x.Lft.HardAdd = AcqExpires
		x.Cur.AddTime = now
		x.Mark.V &= x.Mark.M
		db.States = append([]*State{x}, db.States...)
	}
	if x.SPI != 0 {
		return x, nil
	}
	var spi uint32
	if r.Min == r.Max {
		if db.LookupSPI(x.Dst, r.Min, x.Proto, mark) == nil {
			spi = r.Min
		}
	} else {
		n := uint64(r.Max-r.Min) + 1
		h := mix64(uint64(r.Min)<<32 | uint64(r.Max) ^ uint64(len(db.States))*golden ^ keyHash(addrSlice(x.Dst), x.Proto))
		for i := uint64(0); i < n && i < 1<<20; i++ {
			c := r.Min + uint32((h+i*golden)%n)
			if db.LookupSPI(x.Dst, c, x.Proto, mark) == nil {
				spi = c
				break
			}
		}
	}
	if spi == 0 {
		return nil, kerr(ENOENT, "No SPI available in the requested range")
	}
	x.SPI = spi
	return x, nil
}

func addrSlice(a netip.Addr) []byte {
	b := addrBytes(a)
	return b[:]
}

// Acquire is what xfrm_state_find does when a key manager listens and no
// state serves a template (NoState): a larval state for the flow's
// session (xfrm_init_tempsel: a selector of exactly this flow), with the
// template's protocol, SPI, mode, reqid and addresses, first in the
// listing, expiring after AcqExpires seconds, that the key manager's SA
// will replace. It returns nil when the bundle holds no acquire or a
// larval state for it exists already (acquire in progress).
func (db *DB) Acquire(b *Bundle, fl *Flow, now int64) *State {
	t := b.Acquire
	if t == nil || b.AcquirePolicy == nil {
		return nil
	}
	pol := b.AcquirePolicy
	mark := pol.Mark.V & pol.Mark.M
	for _, x := range db.States {
		if x.Larval && x.Family == t.Family && x.Reqid == t.Reqid && x.Mark.matches(mark) &&
			x.IfID == pol.IfID && addrCheck(x, b.AcquireDst, b.AcquireSrc) && x.Mode == t.Mode &&
			x.Proto == t.Proto && (t.SPI == 0 || t.SPI == x.SPI) {
			return nil
		}
	}
	bits := uint8(32)
	if fl.Family == Inet6 {
		bits = 128
	}
	x := &State{Dst: b.AcquireDst, SPI: t.SPI, Proto: t.Proto, Src: b.AcquireSrc, Family: t.Family,
		Mode: t.Mode, Reqid: t.Reqid, Mark: pol.Mark, IfID: pol.IfID, Larval: true,
		Sel: Selector{Family: fl.Family, Src: fl.Src, Dst: fl.Dst, SrcLen: bits, DstLen: bits, Proto: fl.Proto,
			Sport: fl.Sport, SportMask: 0xffff, Dport: fl.Dport, DportMask: 0xffff, Ifindex: fl.Oif}}
	if isAny(t.Dst) {
		x.Dst = b.AcquireDst
	}
	x.Lft = DefaultLifetime()
	x.Lft.HardAdd = AcqExpires
	x.Cur.AddTime = now
	db.States = append([]*State{x}, db.States...)
	return x
}

// StateID identifies a state for get and delete (struct xfrm_usersa_id
// with XFRMA_SRCADDR and XFRMA_MARK).
type StateID struct {
	Dst    netip.Addr
	SPI    uint32
	Proto  uint8
	Family Family
	Src    netip.Addr
	HasSrc bool
	Mark   Mark
}

// lookupState is xfrm_user_state_lookup.
func (db *DB) lookupState(id *StateID) (int, *Error) {
	mark := id.Mark.V & id.Mark.M
	if isIPsecProto(id.Proto) {
		for i, s := range db.States {
			if s.Family == id.Family && s.SPI == id.SPI && s.SPI != 0 && s.Proto == id.Proto &&
				addrBytesEqual(s.Dst, id.Dst) && s.Mark.matches(mark) {
				return i, nil
			}
		}
		return -1, kerr(ESRCH, "")
	}
	if !id.HasSrc {
		return -1, kerr(EINVAL, "")
	}
	for i, s := range db.States {
		if s.Family == id.Family && s.Proto == id.Proto && addrBytesEqual(s.Dst, id.Dst) &&
			addrBytesEqual(s.Src, id.Src) && s.Mark.matches(mark) {
			return i, nil
		}
	}
	return -1, kerr(ESRCH, "")
}

// GetState is xfrm_get_sa.
func (db *DB) GetState(id *StateID) (*State, *Error) {
	i, err := db.lookupState(id)
	if err != nil {
		return nil, err
	}
	return db.States[i], nil
}

// DeleteState is xfrm_del_sa.
func (db *DB) DeleteState(id *StateID) *Error {
	i, err := db.lookupState(id)
	if err != nil {
		return err
	}
	db.States = append(db.States[:i], db.States[i+1:]...)
	return nil
}

// FlushStates is xfrm_state_flush: every state whose protocol matches
// proto (0: all, ProtoIPsecAny: ESP, AH and IPComp).
func (db *DB) FlushStates(proto uint8) {
	keep := db.States[:0]
	for _, s := range db.States {
		if !protoMatch(s.Proto, proto) {
			keep = append(keep, s)
		}
	}
	for i := len(keep); i < len(db.States); i++ {
		db.States[i] = nil
	}
	db.States = keep
}

// protoMatch is xfrm_id_proto_match.
func protoMatch(proto, userproto uint8) bool {
	return userproto == 0 || proto == userproto || userproto == ProtoIPsecAny && isIPsecProto(proto)
}

// ---- policies ----

// PolicyRequest is an XFRM_MSG_NEWPOLICY / UPDPOLICY message: struct
// xfrm_userpolicy_info and its attributes.
type PolicyRequest struct {
	Sel      Selector
	Dir      Dir
	Action   Action
	Index    uint32
	Priority uint32
	Flags    uint8
	Share    uint8
	Lft      LifetimeCfg
	// Type is the XFRMA_POLICY_TYPE attribute (TypeMain when absent).
	Type  uint8
	Mark  Mark
	IfID  uint32
	Tmpls []Tmpl
}

// verifyNewPolicy is verify_newpolicy_info and validate_tmpl.
func verifyNewPolicy(r *PolicyRequest) *Error {
	if r.Share > 3 {
		return kerr(EINVAL, "Invalid policy share")
	}
	if r.Action > Block {
		return kerr(EINVAL, "Invalid policy action")
	}
	switch r.Sel.Family {
	case Inet:
		if r.Sel.DstLen > 32 || r.Sel.SrcLen > 32 {
			return kerr(EINVAL, "Invalid prefix length in selector (must be <= 32 for IPv4)")
		}
	case Inet6:
		if r.Sel.DstLen > 128 || r.Sel.SrcLen > 128 {
			return kerr(EINVAL, "Invalid prefix length in selector (must be <= 128 for IPv6)")
		}
	default:
		return kerr(EINVAL, "Invalid selector family")
	}
	if r.Dir >= numDirs {
		return kerr(EINVAL, "Invalid policy direction")
	}
	if r.Index != 0 && Dir(r.Index&7) != r.Dir {
		return kerr(EINVAL, "Policy index doesn't match direction")
	}
	if r.Type > TypeSub {
		return kerr(EINVAL, "Invalid policy type")
	}
	if len(r.Tmpls) > MaxDepth {
		return kerr(EINVAL, "Template count must be <= XFRM_MAX_DEPTH (6)")
	}
	prev := r.Sel.Family
	for i := range r.Tmpls {
		t := &r.Tmpls[i]
		if t.Family == Unspec {
			t.Family = r.Sel.Family
		}
		switch t.Mode {
		case ModeTunnel, ModeBEET:
			if t.Optional != 0 && r.Dir == DirOut {
				return kerr(EINVAL, "Mode in optional template not allowed in outbound policy")
			}
		default:
			if t.Family != prev {
				return kerr(EINVAL, "Mode in template doesn't support a family change")
			}
		}
		if t.Mode >= numModes {
			return kerr(EINVAL, "Mode in template must be < XFRM_MODE_MAX (6)")
		}
		prev = t.Family
		if t.Family != Inet && t.Family != Inet6 {
			return kerr(EINVAL, "Invalid family in template")
		}
		switch t.Proto {
		case ProtoAH, ProtoESP, ProtoComp, ProtoRouting, ProtoDstOpts:
		default:
			return kerr(EINVAL, "Invalid XFRM protocol in template")
		}
	}
	return nil
}

// samePolicy is the identity xfrm_policy_insert_list and
// xfrm_policy_bysel_ctx compare: type, interface id, selector and mark.
func samePolicy(p *Policy, typ uint8, ifid uint32, sel *Selector, mark Mark) bool {
	return p.Type == typ && p.IfID == ifid && p.Sel.equal(sel) && p.Mark == mark
}

// genIndex is xfrm_gen_index.
func (db *DB) genIndex(dir Dir, index uint32) uint32 {
	for {
		var idx uint32
		if index == 0 {
			idx = db.IdxGen | uint32(dir)
			db.IdxGen += 8
		} else {
			idx, index = index, 0
		}
		if idx == 0 {
			idx = 8
		}
		used := false
		for _, p := range db.Policies {
			if p.Index == idx {
				used = true
				break
			}
		}
		if !used {
			return idx
		}
	}
}

// AddPolicy is xfrm_add_policy: add (update false: EEXIST when a policy
// of the same type, selector, mark and interface id exists in the
// direction) or replace one (update: the new policy takes the old one's
// index and goes to the front of the listing). now is the wall clock in
// seconds.
func (db *DB) AddPolicy(r *PolicyRequest, update bool, now int64) *Error {
	if err := verifyNewPolicy(r); err != nil {
		return err
	}
	old := -1
	for i, p := range db.Policies {
		if p.Dir == r.Dir && samePolicy(p, r.Type, r.IfID, &r.Sel, r.Mark) {
			old = i
			break
		}
	}
	if old >= 0 && !update {
		return kerr(EEXIST, "")
	}
	db.Seq++
	p := &Policy{Sel: r.Sel, Dir: r.Dir, Action: r.Action, Priority: r.Priority, Type: r.Type,
		Flags: r.Flags, Lft: r.Lft, Mark: r.Mark, IfID: r.IfID, Seq: db.Seq,
		Tmpls: append([]Tmpl(nil), r.Tmpls...)}
	p.Cur.AddTime = now
	if old >= 0 {
		o := db.Policies[old]
		p.Index = o.Index
		// The replacement keeps the old one's place among equals: it is
		// inserted where the old one was when the priority is the same.
		if o.Priority == p.Priority {
			p.Seq = o.Seq
		}
		db.Policies = append(db.Policies[:old], db.Policies[old+1:]...)
	} else {
		p.Index = db.genIndex(r.Dir, r.Index)
	}
	db.Policies = append([]*Policy{p}, db.Policies...)
	db.reindex()
	return nil
}

// PolicyID selects a policy for get and delete (struct
// xfrm_userpolicy_id with its attributes): by index when Index is not 0,
// else by selector.
type PolicyID struct {
	Sel   Selector
	Index uint32
	Dir   Dir
	Type  uint8
	Mark  Mark
	IfID  uint32
}

func (db *DB) findPolicy(id *PolicyID) (int, *Error) {
	if id.Dir >= numDirs {
		return -1, kerr(EINVAL, "Invalid policy direction")
	}
	if id.Type > TypeSub {
		return -1, kerr(EINVAL, "Invalid policy type")
	}
	for i, p := range db.Policies {
		if p.Dir != id.Dir {
			continue
		}
		if id.Index != 0 {
			if Dir(id.Index&7) == id.Dir && p.Type == id.Type && p.Index == id.Index &&
				p.IfID == id.IfID && p.Mark == id.Mark {
				return i, nil
			}
			continue
		}
		if samePolicy(p, id.Type, id.IfID, &id.Sel, id.Mark) {
			return i, nil
		}
	}
	return -1, kerr(ENOENT, "")
}

// GetPolicy is xfrm_get_policy.
func (db *DB) GetPolicy(id *PolicyID) (*Policy, *Error) {
	i, err := db.findPolicy(id)
	if err != nil {
		return nil, err
	}
	return db.Policies[i], nil
}

// DeletePolicy is xfrm_get_policy with XFRM_MSG_DELPOLICY.
func (db *DB) DeletePolicy(id *PolicyID) *Error {
	i, err := db.findPolicy(id)
	if err != nil {
		return err
	}
	db.Policies = append(db.Policies[:i], db.Policies[i+1:]...)
	db.reindex()
	return nil
}

// FlushPolicies is xfrm_policy_flush: every policy of a type (the
// sockets' own policies stay: their index's direction is past
// XFRM_POLICY_MAX).
func (db *DB) FlushPolicies(typ uint8) {
	keep := db.Policies[:0]
	for _, p := range db.Policies {
		if p.Type != typ || p.Dir.Socket() {
			keep = append(keep, p)
		}
	}
	for i := len(keep); i < len(db.Policies); i++ {
		db.Policies[i] = nil
	}
	db.Policies = keep
	db.reindex()
}

// AddSocketPolicy is xfrm_sk_policy_insert for a policy set on a socket
// (setsockopt IP_XFRM_POLICY or IPV6_XFRM_POLICY with a struct
// xfrm_userpolicy_info, compiled by xfrm_compile_policy: dir in or out,
// the main type, the request's selector, action, priority and
// lifetimes). The policy joins the dump (policy_all, newest first) with
// the index xfrm_gen_index(XFRM_POLICY_MAX + dir) and add_time now, as
// "socket in" or "socket out"; no look-up, check, count or flush of the
// SPD sees it: the stack applies a socket's own policy itself
// (stack.Socket.XfrmBypass). The index removes it when the socket
// closes (DeleteSocketPolicy).
func (db *DB) AddSocketPolicy(r *PolicyRequest, now int64) (uint32, *Error) {
	if r.Dir > DirOut {
		return 0, kerr(EINVAL, "")
	}
	if err := verifyNewPolicy(r); err != nil {
		return 0, err
	}
	p := &Policy{Sel: r.Sel, Dir: numDirs + r.Dir, Action: r.Action, Priority: r.Priority, Type: TypeMain,
		Flags: r.Flags, Lft: r.Lft, Tmpls: append([]Tmpl(nil), r.Tmpls...)}
	p.Cur.AddTime = now
	p.Index = db.genIndex(p.Dir, 0)
	db.Policies = append([]*Policy{p}, db.Policies...)
	return p.Index, nil
}

// SocketPolicy is the socket's policy of that index (nil when there is
// none), for the stack to record its use (curlft.use_time).
func (db *DB) SocketPolicy(index uint32) *Policy {
	for _, p := range db.Policies {
		if p.Index == index && p.Dir.Socket() {
			return p
		}
	}
	return nil
}

// DeleteSocketPolicy is xfrm_sk_free_policy for one of a closing
// socket's policies.
func (db *DB) DeleteSocketPolicy(index uint32) {
	for i, p := range db.Policies {
		if p.Index == index && p.Dir.Socket() {
			db.Policies = append(db.Policies[:i], db.Policies[i+1:]...)
			return
		}
	}
}

// SocketCount returns the number of per-socket policies per direction
// (xfrm_spd_getinfo's inscnt, outscnt and fwdscnt).
func (db *DB) SocketCount() (in, out, fwd int) {
	for _, p := range db.Policies {
		switch p.Dir {
		case DirSocketIn:
			in++
		case DirSocketOut:
			out++
		}
	}
	return in, out, 0
}

// ---- time ----

// Expired reports what Expire removed.
type Expired struct {
	States   []*State
	Policies []*Policy
}

// Expire runs the lifetime timers up to now (xfrm_timer_handler,
// xfrm_policy_timer): states and policies past a hard time limit are
// removed, states past a soft one become dying (the key manager rekeys),
// states that reached a hard byte or packet limit are removed.
func (db *DB) Expire(now int64) Expired {
	var ex Expired
	keep := db.States[:0]
	for _, s := range db.States {
		use := s.Cur.UseTime
		if use == 0 {
			use = s.Cur.AddTime
		}
		hard := s.Expired ||
			s.Lft.HardAdd != 0 && now >= s.Cur.AddTime+int64(s.Lft.HardAdd) ||
			s.Lft.HardUse != 0 && s.Cur.UseTime != 0 && now >= use+int64(s.Lft.HardUse)
		if hard {
			ex.States = append(ex.States, s)
			continue
		}
		if s.Lft.SoftAdd != 0 && now >= s.Cur.AddTime+int64(s.Lft.SoftAdd) ||
			s.Lft.SoftUse != 0 && s.Cur.UseTime != 0 && now >= use+int64(s.Lft.SoftUse) {
			s.Dying = true
		}
		keep = append(keep, s)
	}
	for i := len(keep); i < len(db.States); i++ {
		db.States[i] = nil
	}
	db.States = keep
	pkeep := db.Policies[:0]
	for _, p := range db.Policies {
		use := p.Cur.UseTime
		if use == 0 {
			use = p.Cur.AddTime
		}
		if p.Lft.HardAdd != 0 && now >= p.Cur.AddTime+int64(p.Lft.HardAdd) ||
			p.Lft.HardUse != 0 && now >= use+int64(p.Lft.HardUse) {
			ex.Policies = append(ex.Policies, p)
			continue
		}
		pkeep = append(pkeep, p)
	}
	for i := len(pkeep); i < len(db.Policies); i++ {
		db.Policies[i] = nil
	}
	db.Policies = pkeep
	if len(ex.Policies) > 0 {
		db.reindex()
	}
	return ex
}
