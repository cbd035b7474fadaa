package mangle
