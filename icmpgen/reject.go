package icmpgen

import (
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Reject appends REJECT's reply to orig for --reject-with t (reject_tg,
// reject_tg6) and reports whether the kernel sends one:
//
//   - tcp-reset: nf_send_reset / nf_send_reset6 (see Reset);
//   - the ICMP types: nf_send_unreach / nf_send_unreach6, which verify the
//     transport checksum (unless o.ChecksumValid) and skip non-first
//     fragments, then icmp_send / icmpv6_send (see Error) with type
//     destination unreachable and the type's code (RejectCode).
//
// A type of the other family, and echo-reply, send nothing. REJECT then
// drops orig in either case; the reply goes out through OUTPUT.
func Reject(dst []byte, orig *packet.Packet, t xtables.RejectType, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil {
		return dst, false
	}
	v6 := orig.IsIPv6()
	if t == xtables.RejectTCPReset {
		return Reset(dst, orig, o)
	}
	code, ok := RejectCode(t, v6)
	if !ok {
		return dst, false
	}
	if v6 {
		if !rejectCsumOK6(b, &o) {
			return dst, false
		}
		return error6(dst, b, ICMPv6DestUnreach, code, 0, &o)
	}
	if be.Uint16(b[6:])&0x1fff != 0 || !rejectCsumOK4(b, &o) {
		return dst, false
	}
	return error4(dst, b, ICMPDestUnreach, code, 0, &o)
}
