package packet

import (
	"errors"
	"strconv"
)

// ErrTruncated is matched (errors.Is) by every *Error reporting input that
// ends before a header or a length field says it should.
var ErrTruncated = errors.New("packet truncated")

// Op is the comparison an *Error reports.
type Op uint8

const (
	OpInvalid   Op = iota // the value is not acceptable: "<field> <value> invalid"
	OpLess                // the value is below its minimum: "<field> <value> < <limit>"
	OpGreater             // the value exceeds its maximum: "<field> <value> > <limit>"
	OpTruncated           // the value needs more bytes than there are: "<field> <value> > captured <limit>"
)

// Error describes malformed or truncated input (decoding) or fields that
// cannot be serialised (encoding). It names the layer and the field, e.g.
// "ipv4: header length 4 < 5". The message is built only when Error is
// called, so that reporting an error does not allocate: decoders return a
// pointer to an Error held inside the Packet (valid until the next decode).
type Error struct {
	Layer string // "ipv4", "ipv6", "tcp", "udp", "icmp", "icmp6", "esp", "ah", "ethernet", "ip"
	Field string // "header length", "total length", ...
	Op    Op
	Value int
	Limit int
}

func (e *Error) Error() string {
	b := make([]byte, 0, 64)
	b = append(b, e.Layer...)
	b = append(b, ": "...)
	b = append(b, e.Field...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Value), 10)
	switch e.Op {
	case OpInvalid:
		b = append(b, " invalid"...)
	case OpLess:
		b = append(b, " < "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
	case OpGreater:
		b = append(b, " > "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
	case OpTruncated:
		b = append(b, " > captured "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
	}
	return string(b)
}

// Is reports whether the error is ErrTruncated for truncation errors.
func (e *Error) Is(target error) bool {
	return target == ErrTruncated && e.Op == OpTruncated
}

func (e *Error) set(layer, field string, op Op, value, limit int) *Error {
	*e = Error{Layer: layer, Field: field, Op: op, Value: value, Limit: limit}
	return e
}
