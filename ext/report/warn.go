package report

import (
	"github.com/iptwin/iptwin/xtables"
)

// warn prints a line on stderr while the command is parsed, as the C
// extensions do with fprintf(stderr, ...).
func warn(ctx *xtables.Context, msg string) { ctx.Notice(msg) }
