//go:build linux

package main

const sysSetns = 308
