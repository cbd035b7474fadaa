package defrag

import "strconv"

// Reason says why a fragment was not queued.
type Reason uint8

const (
	// ReasonNone: no error.
	ReasonNone Reason = iota
	// ReasonDuplicate: the data is already queued; the fragment is
	// dropped, the datagram kept.
	ReasonDuplicate
	// ReasonOverlap: the fragment overlaps queued data; the datagram is
	// discarded.
	ReasonOverlap
	// ReasonCorrupt: the fragment contradicts the datagram's length (data
	// beyond a known end, a second different end); the datagram is
	// discarded.
	ReasonCorrupt
	// ReasonEmpty: the fragment carries no data.
	ReasonEmpty
	// ReasonTooBig: the datagram would exceed 65535 bytes.
	ReasonTooBig
	// ReasonECN: the fragments mix ECN-capable and not ECN-capable
	// transport; the datagram is discarded.
	ReasonECN
	// ReasonNoMemory: the reassembler's memory is over its high
	// threshold.
	ReasonNoMemory
	// ReasonUnaligned: a non-last IPv6 fragment's length is not a
	// multiple of 8.
	ReasonUnaligned
	// ReasonTruncated: an IPv6 first fragment without the whole transport
	// header (RFC 8200 4.5).
	ReasonTruncated
	// ReasonNotFragment: the packet is not a fragment.
	ReasonNotFragment
	// ReasonMalformed: the headers cannot be read.
	ReasonMalformed
)

var reasonNames = [...]string{"", "duplicate fragment", "overlapping fragment", "fragment beyond the datagram's end",
	"empty fragment", "datagram too big", "mixed ECN", "fragment memory exhausted", "unaligned fragment",
	"first fragment without transport header", "not a fragment", "malformed fragment"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason " + strconv.Itoa(int(r))
}

// Error is why a fragment was dropped. ICMP says the kernel answers the
// sender with an ICMPv6 parameter problem of code Code pointing at byte
// Pointer of the fragment (IPv6 local delivery only).
type Error struct {
	Reason  Reason
	ICMP    bool
	Code    uint8
	Pointer uint32
}

func (e *Error) Error() string { return "defrag: " + e.Reason.String() }

// Is matches errors of the same reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason
}

// Sentinels for errors.Is.
var (
	ErrDuplicate   = &Error{Reason: ReasonDuplicate}
	ErrOverlap     = &Error{Reason: ReasonOverlap}
	ErrCorrupt     = &Error{Reason: ReasonCorrupt}
	ErrEmpty       = &Error{Reason: ReasonEmpty}
	ErrTooBig      = &Error{Reason: ReasonTooBig}
	ErrECN         = &Error{Reason: ReasonECN}
	ErrNoMemory    = &Error{Reason: ReasonNoMemory}
	ErrUnaligned   = &Error{Reason: ReasonUnaligned}
	ErrTruncated   = &Error{Reason: ReasonTruncated}
	ErrNotFragment = &Error{Reason: ReasonNotFragment}
	ErrMalformed   = &Error{Reason: ReasonMalformed}
)
