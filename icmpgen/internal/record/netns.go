//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// run runs a command in namespace ns ("" for the current one) and fails
// with its output.
func run(ns string, args ...string) error {
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// sh runs a shell command line in namespace ns.
func sh(ns, line string) error { return run(ns, "sh", "-c", line) }

// inNetns runs f on a thread switched into namespace ns. If the thread
// cannot be switched back it stays locked, so the runtime retires it.
func inNetns(ns string, f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := setns(int(target.Fd())); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", ns, err)
	}
	ferr := f()
	if err := setns(int(orig.Fd())); err != nil {
		return fmt.Errorf("setns back: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func setns(fd int) error {
	_, _, e := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0)
	if e != 0 {
		return e
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// tap is an AF_PACKET socket bound to one interface of one namespace:
// it injects frames and captures what arrives there.
type tap struct {
	ns, dev string
	fd      int
	ifindex int
	mac     net.HardwareAddr
}

func openTap(ns, dev string) (*tap, error) {
	t := &tap{ns: ns, dev: dev, fd: -1}
	err := inNetns(ns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		t.ifindex, t.mac = ifi.Index, ifi.HardwareAddr
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
		if err != nil {
			return err
		}
		t.fd = fd
		if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: t.ifindex}); err != nil {
			syscall.Close(fd)
			return err
		}
		return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<20)
	})
	if err != nil {
		return nil, fmt.Errorf("tap %s/%s: %w", ns, dev, err)
	}
	return t, nil
}

func (t *tap) Close() { syscall.Close(t.fd) }

// send injects an IP packet in a frame to dstMAC.
func (t *tap) send(dstMAC net.HardwareAddr, ip []byte) error {
	et := uint16(0x0800)
	if ip[0]>>4 == 6 {
		et = 0x86dd
	}
	f := make([]byte, 0, 14+len(ip))
	f = append(f, dstMAC...)
	f = append(f, t.mac...)
	f = append(f, byte(et>>8), byte(et))
	f = append(f, ip...)
	_, err := syscall.Write(t.fd, f)
	return err
}

// recv returns the IP packets arriving (not leaving) until quiet for
// the given time after the deadline first passes, skipping neighbour
// discovery and MLD noise.
func (t *tap) recv(until time.Time) ([][]byte, error) {
	var out [][]byte
	buf := make([]byte, 70000)
	for {
		left := time.Until(until)
		if left <= 0 {
			return out, nil
		}
		tv := syscall.NsecToTimeval(left.Nanoseconds())
		if err := syscall.SetsockoptTimeval(t.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
			return out, err
		}
		n, from, err := syscall.Recvfrom(t.fd, buf, 0)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return out, err
		}
		ll, ok := from.(*syscall.SockaddrLinklayer)
		if !ok || ll.Pkttype == syscall.PACKET_OUTGOING || n < 15 {
			continue
		}
		et := uint16(buf[12])<<8 | uint16(buf[13])
		ip := buf[14:n]
		switch et {
		case 0x0800:
		case 0x86dd:
			if noise6(ip) {
				continue
			}
		default:
			continue
		}
		out = append(out, append([]byte(nil), ip...))
	}
}

// drain discards what is queued.
func (t *tap) drain() {
	t.recv(time.Now().Add(20 * time.Millisecond))
}

// noise6 reports ICMPv6 neighbour discovery, router and MLD messages.
func noise6(ip []byte) bool {
	if len(ip) < 41 {
		return false
	}
	nh, off := ip[6], 40
	if nh == 0 && len(ip) >= 48 { // hop-by-hop (MLD router alert)
		nh, off = ip[40], 40+(int(ip[41])+1)*8
	}
	return nh == 58 && off < len(ip) && ip[off] >= 130 && ip[off] <= 143
}

// rawSender sends IP packets from a host's own stack (raw sockets with
// the header included): they take the OUTPUT path.
type rawSender struct{ fd4, fd6 int }

func openRaw(ns string) (*rawSender, error) {
	r := &rawSender{fd4: -1, fd6: -1}
	err := inNetns(ns, func() error {
		var err error
		if r.fd4, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW); err != nil {
			return err
		}
		r.fd6, err = syscall.Socket(syscall.AF_INET6, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
		return err
	})
	return r, err
}

func (r *rawSender) send(ip []byte) error {
	if ip[0]>>4 == 6 {
		var a [16]byte
		copy(a[:], ip[24:40])
		return syscall.Sendto(r.fd6, ip, 0, &syscall.SockaddrInet6{Addr: a})
	}
	var a [4]byte
	copy(a[:], ip[16:20])
	return syscall.Sendto(r.fd4, ip, 0, &syscall.SockaddrInet4{Addr: a})
}

func (r *rawSender) Close() {
	syscall.Close(r.fd4)
	syscall.Close(r.fd6)
}
