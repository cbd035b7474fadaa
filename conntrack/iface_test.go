package conntrack

import (
	"github.com/iptwin/iptwin/ext/ctmatch"
	"github.com/iptwin/iptwin/xtables"
)

// The views the extensions take of an entry and of the table.
var (
	_ xtables.Conn       = (*Conn)(nil)
	_ ctmatch.ConnZone   = (*Conn)(nil)
	_ ctmatch.ConnMaster = (*Conn)(nil)
	_ ctmatch.ConnClosed = (*Conn)(nil)
	_ ctmatch.ConnFinder = (*Table)(nil)
)
