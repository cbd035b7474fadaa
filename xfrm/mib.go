package xfrm

import "errors"

// MIB is one of the namespace's xfrm statistics (LINUX_MIB_XFRM*, what
// /proc/net/xfrm_stat lists), in the kernel's order.
type MIB uint8

const (
	MIBInError MIB = iota
	MIBInBufferError
	MIBInHdrError
	MIBInNoStates
	MIBInStateProtoError
	MIBInStateModeError
	MIBInStateSeqError
	MIBInStateExpired
	MIBInStateMismatch
	MIBInStateInvalid
	MIBInTmplMismatch
	MIBInNoPols
	MIBInPolBlock
	MIBInPolError
	MIBOutError
	MIBOutBundleGenError
	MIBOutBundleCheckError
	MIBOutNoStates
	MIBOutStateProtoError
	MIBOutStateModeError
	MIBOutStateSeqError
	MIBOutStateExpired
	MIBOutPolBlock
	MIBOutPolDead
	MIBOutPolError
	MIBFwdHdrError
	MIBOutStateInvalid
	MIBAcquireError
	MIBOutStateDirError
	MIBInStateDirError
	MIBInIptfsError
	MIBOutNoQueueSpace
	// NumMIB is the number of counters.
	NumMIB
)

// mibNames are the names /proc/net/xfrm_stat prints (xfrm_mib_list,
// Linux 6.18).
var mibNames = [NumMIB]string{
	"XfrmInError", "XfrmInBufferError", "XfrmInHdrError", "XfrmInNoStates",
	"XfrmInStateProtoError", "XfrmInStateModeError", "XfrmInStateSeqError", "XfrmInStateExpired",
	"XfrmInStateMismatch", "XfrmInStateInvalid", "XfrmInTmplMismatch", "XfrmInNoPols",
	"XfrmInPolBlock", "XfrmInPolError", "XfrmOutError", "XfrmOutBundleGenError",
	"XfrmOutBundleCheckError", "XfrmOutNoStates", "XfrmOutStateProtoError", "XfrmOutStateModeError",
	"XfrmOutStateSeqError", "XfrmOutStateExpired", "XfrmOutPolBlock", "XfrmOutPolDead",
	"XfrmOutPolError", "XfrmFwdHdrError", "XfrmOutStateInvalid", "XfrmAcquireError",
	"XfrmOutStateDirError", "XfrmInStateDirError", "XfrmInIptfsError", "XfrmOutNoQueueSpace",
}

func (m MIB) String() string {
	if m < NumMIB {
		return mibNames[m]
	}
	return "XfrmUnknown"
}

// Inc counts one event (XFRM_INC_STATS).
func (db *DB) Inc(m MIB) {
	if m < NumMIB {
		db.MIB[m]++
	}
}

// AppendStat appends /proc/net/xfrm_stat: every counter as
// "%-24s\t%lu\n" (xfrm_statistics_seq_show).
func (db *DB) AppendStat(b []byte) []byte {
	for i, name := range mibNames {
		b = append(b, name...)
		for n := len(name); n < 24; n++ {
			b = append(b, ' ')
		}
		b = append(b, '\t')
		b = appendUint(b, db.MIB[i])
		b = append(b, '\n')
	}
	return b
}

// CountOutError counts an error of State.Encapsulate under the counter
// xfrm_output_one increments for it.
func (db *DB) CountOutError(err error) {
	switch {
	case errors.Is(err, ErrExpired):
		db.Inc(MIBOutStateExpired)
	case errors.Is(err, ErrSeqOverflow):
		db.Inc(MIBOutStateSeqError)
	case errors.Is(err, ErrUnsupported), errors.Is(err, ErrBadPacket):
		db.Inc(MIBOutStateModeError)
	default:
		db.Inc(MIBOutError)
	}
}

// countInError counts an error of Decapsulate under the counter
// xfrm_input increments for it; keepalives and IKE are not errors.
func (db *DB) countInError(err error) {
	var m MIB
	switch err {
	case ErrNotESP, ErrKeepalive, nil:
		return
	case ErrNoState:
		m = MIBInNoStates
	case ErrStateInvalid:
		m = MIBInStateInvalid
	case ErrEncapType:
		m = MIBInStateMismatch
	case ErrReplay:
		m = MIBInStateSeqError
	case ErrIntegrity, ErrProto:
		m = MIBInStateProtoError
	case ErrInnerMode, ErrUnsupported:
		m = MIBInStateModeError
	case ErrSecPathFull:
		m = MIBInBufferError
	case ErrExpired:
		m = MIBInStateExpired
	case ErrBadPacket:
		m = MIBInHdrError
	default:
		m = MIBInError
	}
	db.Inc(m)
}
