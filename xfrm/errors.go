package xfrm

import "syscall"

// Errno values the xfrm netlink interface answers with.
const (
	EPERM           = syscall.EPERM
	ENOENT          = syscall.ENOENT
	ESRCH           = syscall.ESRCH
	EINVAL          = syscall.EINVAL
	EEXIST          = syscall.EEXIST
	ENOSYS          = syscall.ENOSYS
	ENOBUFS         = syscall.ENOBUFS
	EPROTONOSUPPORT = syscall.EPROTONOSUPPORT
	EAFNOSUPPORT    = syscall.EAFNOSUPPORT
	EOPNOTSUPP      = syscall.EOPNOTSUPP
)

// Error is a kernel answer: an errno and, when the kernel set one, its
// extended ack message (NL_SET_ERR_MSG).
type Error struct {
	Errno syscall.Errno
	Msg   string
}

func kerr(errno syscall.Errno, msg string) *Error { return &Error{Errno: errno, Msg: msg} }

// Error renders it as iproute2 does: "Error: MSG." for an extack message,
// else "RTNETLINK answers: STRERROR".
func (e *Error) Error() string {
	if e.Msg != "" {
		m := "Error: " + e.Msg
		if m[len(m)-1] != '.' {
			m += "."
		}
		return m
	}
	return "RTNETLINK answers: " + Strerror(e.Errno)
}

// Strerror is glibc's strerror for the errnos xfrm uses.
func Strerror(e syscall.Errno) string {
	switch e {
	case EPERM:
		return "Operation not permitted"
	case ENOENT:
		return "No such file or directory"
	case ESRCH:
		return "No such process"
	case EINVAL:
		return "Invalid argument"
	case EEXIST:
		return "File exists"
	case ENOSYS:
		return "Function not implemented"
	case ENOBUFS:
		return "No buffer space available"
	case EPROTONOSUPPORT:
		return "Protocol not supported"
	case EAFNOSUPPORT:
		return "Address family not supported by protocol"
	case EOPNOTSUPP:
		return "Operation not supported"
	}
	return e.Error()
}
