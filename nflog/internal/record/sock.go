package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

const ethPAll = 0x0003

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// wire is a packet socket on one of A's veth ends: frames written to it
// arrive at B, frames B sends are read from it.
type wire struct {
	fd      int
	ifindex int
}

func openWire(dev string) (*wire, error) {
	w := &wire{}
	err := inNS(nsA, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPAll)))
		if err != nil {
			return err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifi.Index}); err != nil {
			syscall.Close(fd)
			return err
		}
		w.fd, w.ifindex = fd, ifi.Index
		return nil
	})
	return w, err
}

func (w *wire) send(frame []byte) error {
	_, err := syscall.Write(w.fd, frame)
	return err
}

// frames returns what B sent on this link within d (A's own frames are
// skipped).
func (w *wire) frames(d time.Duration) ([][]byte, error) {
	tv := syscall.NsecToTimeval(int64(d))
	if err := syscall.SetsockoptTimeval(w.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}
	var out [][]byte
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		n, from, err := syscall.Recvfrom(w.fd, buf, 0)
		if errors.Is(err, syscall.EINTR) { // the runtime's preemption signal
			continue
		}
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			return nil, err
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		out = append(out, append([]byte(nil), buf[:n]...))
	}
	return out, nil
}

// drain discards what is queued.
func (w *wire) drain() error {
	_, err := w.frames(20 * time.Millisecond)
	return err
}

// sendRaw sends an IP packet from B through a raw socket (IP_HDRINCL),
// so that it goes through B's OUTPUT chain as it is. With cred the
// socket is opened with that fsuid/fsgid: the credentials --log-uid
// prints are the opener's.
func sendRaw(pkt []byte, cred *[2]uint32) error {
	return inNS(nsB, func() error {
		if cred != nil {
			if _, _, e := syscall.RawSyscall(syscall.SYS_SETFSGID, uintptr(cred[1]), 0, 0); e != 0 {
				return e
			}
			if _, _, e := syscall.RawSyscall(syscall.SYS_SETFSUID, uintptr(cred[0]), 0, 0); e != 0 {
				return e
			}
		}
		var fd int
		var err error
		var to syscall.Sockaddr
		if pkt[0]>>4 == 6 {
			fd, err = syscall.Socket(syscall.AF_INET6, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
			to = &syscall.SockaddrInet6{Addr: netip.AddrFrom16([16]byte(pkt[24:40])).As16()}
		} else {
			fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
			to = &syscall.SockaddrInet4{Addr: [4]byte(pkt[16:20])}
		}
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		if err := syscall.Sendto(fd, pkt, 0, to); err != nil {
			return fmt.Errorf("sendto: %v", err)
		}
		return nil
	})
}
