package mangle

import (
	"math"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// Kernel errors of checkentry. The core renders them when the rule is
// committed.
var (
	errInval  = xtables.ErrInvalidArgument
	errNoEnt  = &xtables.KernelError{Errno: "No such file or directory"}
	errNotSup = &xtables.KernelError{Errno: "Operation not supported"}
)

// parseValMask is xtables_parse_mark_mask (xtables_parse_val_mask without a
// name map), for XTTYPE_MARKMASK32 options: "value[/mask]", mask defaulting
// to 0xffffffff. It is done here because the wording differs from the
// core's typed parse.
func parseValMask(c *xtables.OptionCall) (val, mask uint32, err error) {
	bad := xtables.Errorf("%s: bad integer value for option \"--%s\", or out of range.\n", c.Ext, c.Opt.Name)
	v, rest, ok := xtables.StrToUint(c.Arg, 0, math.MaxUint32)
	if !ok {
		return 0, 0, bad
	}
	if rest == "" {
		return uint32(v), math.MaxUint32, nil
	}
	if rest[0] != '/' {
		return 0, 0, xtables.Errorf("%s: trailing garbage after value for option \"--%s\".\n", c.Ext, c.Opt.Name)
	}
	m, rest, ok := xtables.StrToUint(rest[1:], 0, math.MaxUint32)
	if !ok {
		return 0, 0, bad
	}
	if rest != "" {
		return 0, 0, xtables.Errorf("%s: trailing garbage after value for option \"--%s\".\n", c.Ext, c.Opt.Name)
	}
	return uint32(v), uint32(m), nil
}

// putString is the XTOPT_PUT of a string into a char[size] field: longer
// arguments are cut to size-1 bytes.
func putString(s string, size int) string {
	if len(s) >= size {
		return s[:size-1]
	}
	return s
}

// hooksOutside reports whether the chain's hooks, when known, include one
// outside allowed (a bitmask of 1<<xtables.Hook*). User chains (Hooks 0) pass:
// nft_compat does not re-check targets through jumps.
func hooksOutside(ctx *xtables.Context, allowed uint) bool {
	return ctx.Hooks&^allowed != 0
}

// isProto reports whether the rule matches exactly the protocol p (-p p,
// not inverted), as checkentry's e->ip.proto tests do.
func isProto(ctx *xtables.Context, p uint8) bool {
	h := ctx.Header
	return h != nil && h.Proto == p && h.Inv&xtables.InvProto == 0
}

// appendHexN appends 0x%0Nx.
func appendHexN(b []byte, v uint64, n int) []byte {
	const digits = "0123456789abcdef"
	var tmp [16]byte
	i := len(tmp)
	for v != 0 || i == len(tmp) {
		i--
		tmp[i] = digits[v&0xf]
		v >>= 4
	}
	b = append(b, "0x"...)
	for k := len(tmp) - i; k < n; k++ {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// equalFoldPrefix is strncasecmp(s, name, len(name)) == 0.
func equalFoldPrefix(s, name string) bool {
	return len(s) >= len(name) && strings.EqualFold(s[:len(name)], name)
}

const (
	protoTCP = 6
	protoUDP = 17
)
