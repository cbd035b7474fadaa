package report

import (
	"github.com/iptwin/iptwin/xtables"
)

// warn prints a line on stderr while the command is parsed, as the C
// extensions do with fprintf(stderr, ...).
//
// The core does not give extensions a way to do that yet (see the
// package's report to the lead); until it does the warning is lost.
func warn(ctx *xtables.Context, msg string) {
	_ = ctx
	_ = msg
}
