// Package examples holds the built-in examples (one directory each, with a
// README), embedded so that `iptwin demo` runs on a fresh machine.
package examples

import "embed"

// FS holds every example's files.
//
//go:embed seed004
var FS embed.FS
