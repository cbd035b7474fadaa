package l4

import "github.com/iptwin/iptwin/xtables"

// checkProto is the check x_tables makes for a match registered with a
// protocol (xt_check_match): the rule must be for exactly that protocol,
// not inverted. Through nft_compat the kernel takes it from the rule's -p.
func checkProto(ctx *xtables.Context, proto uint8) error {
	h := ctx.Header
	if h == nil {
		return nil
	}
	if h.Proto != proto || h.Inv&xtables.InvProto != 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// appendSaveRange prints " [!] --opt lo[:hi]" (the save form of spi and
// port ranges).
func appendSaveRange(b []byte, opt string, lo, hi uint64, inv bool) []byte {
	b = xtables.AppendInv(b, inv)
	b = append(b, ' ')
	b = append(b, opt...)
	b = append(b, ' ')
	b = xtables.AppendUint(b, lo)
	if lo != hi {
		b = append(b, ':')
		b = xtables.AppendUint(b, hi)
	}
	return b
}

// appendSpis is print_spis of libxt_esp/libxt_ipcomp/libip6t_ah:
// "spi:N" or "spis:N:M", "!" after the colon, nothing for the full range.
func appendSpis(b []byte, name string, lo, hi uint32, inv bool) []byte {
	if lo == 0 && hi == 0xffffffff && !inv {
		return b
	}
	b = append(b, name...)
	if lo == hi {
		b = append(b, ':')
	} else {
		b = append(b, "s:"...)
	}
	if inv {
		b = append(b, '!')
	}
	b = xtables.AppendUint(b, uint64(lo))
	if lo != hi {
		b = append(b, ':')
		b = xtables.AppendUint(b, uint64(hi))
	}
	return b
}

// setRange32 stores an UINT32RC value as XTOPT_PUT does, followed by the
// "nvals == 1 means lo == hi" rule of the spi matches.
func setRange32(dst *[2]uint32, v *xtables.Value) {
	for i := 0; i < v.NVals && i < 2; i++ {
		dst[i] = uint32(v.Range[i])
	}
	if v.NVals == 1 {
		dst[1] = dst[0]
	}
}
