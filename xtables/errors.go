package xtables

import "fmt"

// ExitCode mirrors enum xtables_exittype: the process exit status the real
// tools use for each class of failure.
type ExitCode int

const (
	OtherProblem     ExitCode = 1 // OTHER_PROBLEM
	ParameterProblem ExitCode = 2 // PARAMETER_PROBLEM
	VersionProblem   ExitCode = 3 // VERSION_PROBLEM
	ResourceProblem  ExitCode = 4 // RESOURCE_PROBLEM
)

// Error is an error in the real tool's words. Msg is printed after the
// "iptables v1.8.9 (nf_tables): " prefix exactly as xtables_error formats it
// (some upstream messages end in "\n", which yields an empty line); Code
// decides the trailer ("Try `iptables -h' ..." for ParameterProblem) and the
// exit status.
type Error struct {
	Code ExitCode
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns a ParameterProblem error, the most common kind.
func Errorf(format string, args ...any) error {
	return &Error{Code: ParameterProblem, Msg: fmt.Sprintf(format, args...)}
}

// Problem returns an error of the given class.
func Problem(code ExitCode, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// KernelError is a failure the kernel reports when a rule is committed (the
// real tool prints "iptables: <strerror>." and exits 1, or 4 for EAGAIN).
// Extensions return it from Check for what only the kernel's checkentry
// rejects, e.g. a target used in the wrong table.
type KernelError struct {
	Errno string // nft_strerror text, e.g. "Invalid argument"
	// Dmesg is set for EINVAL, where the real tool adds
	// " Run `dmesg' for more information.".
	Dmesg bool
}

func (e *KernelError) Error() string { return e.Errno }

// ErrInvalidArgument is EINVAL from the kernel.
var ErrInvalidArgument = &KernelError{Errno: "Invalid argument", Dmesg: true}

// Kernel errors with the wording nft_strerror gives them.
var (
	ErrNoChain       = &KernelError{Errno: "No chain/target/match by that name"}
	ErrBadRule       = &KernelError{Errno: "Bad rule (does a matching rule exist in that chain?)"}
	ErrChainExists   = &KernelError{Errno: "Chain already exists"}
	ErrRenameExists  = &KernelError{Errno: "File exists"}
	ErrInsertTooBig  = &KernelError{Errno: "Index of insertion too big"}
	ErrReplaceTooBig = &KernelError{Errno: "Index of replacement too big"}
	ErrDeleteTooBig  = &KernelError{Errno: "Index of deletion too big"}
	ErrBadBuiltin    = &KernelError{Errno: "Bad built-in chain name"}
	ErrBadPolicy     = &KernelError{Errno: "Bad policy name", Dmesg: true}
	ErrLoop          = &KernelError{Errno: "Loop found in table"}
)
