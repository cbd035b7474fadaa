package cli

import (
	"fmt"
	"strings"
)

// getopts is glibc's getopt_long as the save and restore tools call it
// (permuting operands to the end). It returns the options met, in order;
// an error is an entry with c '?' whose arg is the line glibc prints on
// stderr, so that the caller acts on the options before it first, as the
// tools do.
type flagSpec struct {
	short  byte
	long   string
	hasArg int // 0 none, 1 required, 2 optional, 3 optional that also takes a following plain word (-w/-W of the restore tools)
}

type flagVal struct {
	c   byte
	arg string
}

func getopts(prog string, args []string, specs []flagSpec) (flags []flagVal, operands []string) {
	fail := func(format string, a ...any) ([]flagVal, []string) {
		return append(flags, flagVal{'?', prog + ": " + fmt.Sprintf(format, a...)}), operands
	}
	plain := func(i int) bool {
		return i < len(args) && args[i] != "" && args[i][0] != '-' && args[i][0] != '!'
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(operands, args[i+1:]...)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			var found *flagSpec
			var cands []string
			for j := range specs {
				s := &specs[j]
				if s.long == "" || !strings.HasPrefix(s.long, name) {
					continue
				}
				if s.long == name {
					found, cands = s, nil
					break
				}
				cands = append(cands, "'--"+s.long+"'")
				if found == nil {
					found = s
				}
			}
			if len(cands) > 1 {
				return fail("option '--%s' is ambiguous; possibilities: %s", name, strings.Join(cands, " "))
			}
			if found == nil {
				return fail("unrecognized option '--%s'", name)
			}
			fv := flagVal{c: found.short}
			switch found.hasArg {
			case 0:
				if hasVal {
					return fail("option '--%s' doesn't allow an argument", found.long)
				}
			case 1:
				if hasVal {
					fv.arg = val
				} else if i+1 < len(args) {
					i++
					fv.arg = args[i]
				} else {
					return fail("option '--%s' requires an argument", found.long)
				}
			case 2:
				fv.arg = val
			case 3:
				fv.arg = val
				if !hasVal && plain(i+1) {
					i++
				}
			}
			flags = append(flags, fv)
		case len(a) > 1 && a[0] == '-':
			for k := 1; k < len(a); k++ {
				var found *flagSpec
				for j := range specs {
					if specs[j].short == a[k] {
						found = &specs[j]
					}
				}
				if found == nil {
					return fail("invalid option -- '%c'", a[k])
				}
				fv := flagVal{c: found.short}
				switch found.hasArg {
				case 1:
					if k+1 < len(a) {
						fv.arg = a[k+1:]
					} else if i+1 < len(args) {
						i++
						fv.arg = args[i]
					} else {
						return fail("option requires an argument -- '%c'", a[k])
					}
					k = len(a)
				case 3:
					// declared without an argument in the option string;
					// the tool skips a following plain word itself
					if k == len(a)-1 && plain(i+1) {
						i++
					}
				}
				flags = append(flags, fv)
			}
		default:
			operands = append(operands, a)
		}
	}
	return flags, operands
}
