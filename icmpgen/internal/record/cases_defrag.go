//go:build linux

package main

// defragCases are filled in with the defrag package.
func defragCases() []tcase { return nil }
