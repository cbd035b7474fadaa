package ipset

import _ "embed"

// helpText is what `ipset help` prints: the commands, the options and
// the set types with their revisions, as ipset v7.17 on the reference
// kernel lists them.
//
//go:embed help.txt
var helpText string
