//go:build linux

package kernelref

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/iptwin/iptwin/packet"
)

// nsRun runs argv in the named namespace (ip netns exec) with stdin and
// returns its standard output; a failure carries standard error.
func nsRun(ns, stdin string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// ipRun runs ip(8) in the root namespace (ip -n NS ... acts on another).
func ipRun(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func setns(fd uintptr) error {
	nr := sysSetns // a variable: the constant is -1 where the number is unknown
	if _, _, e := syscall.RawSyscall(uintptr(nr), fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

// inNetns runs f on an OS thread moved into the named namespace: sockets
// f creates belong to that namespace for their whole life.
func inNetns(ns string, f func() error) error {
	if sysSetns < 0 {
		return errors.New("setns: syscall number unknown on " + runtime.GOARCH)
	}
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/var/run/netns", ns))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %v", ns, err)
	}
	ferr := f()
	if err := setns(self.Fd()); err != nil {
		// The thread stays in the wrong namespace: leave it locked so
		// that the runtime ends it with this goroutine.
		return fmt.Errorf("setns back: %v", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// link is the peer end of one host interface: an AF_PACKET socket that
// captures what the host transmits and injects frames into the host.
type link struct {
	iface   Iface
	fd      int
	ifindex int
}

func openLink(ns, dev string, ifc Iface) (*link, error) {
	l := &link{iface: ifc, fd: -1}
	err := inNetns(ns, func() error {
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
		if err != nil {
			return err
		}
		l.fd = fd
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l.ifindex = ifi.Index
		return syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: ifi.Index})
	})
	if err == nil {
		tv := syscall.NsecToTimeval(int64(20 * time.Millisecond))
		err = syscall.SetsockoptTimeval(l.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	}
	if err == nil {
		err = syscall.SetsockoptInt(l.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<20)
	}
	if err != nil {
		if l.fd >= 0 {
			syscall.Close(l.fd)
		}
		return nil, fmt.Errorf("packet socket on %s in %s: %v", dev, ns, err)
	}
	return l, nil
}

// inject sends an IP packet to the host in an Ethernet frame from the
// peer (or with the spec's MAC addresses).
func (l *link) inject(ip []byte, src, dst [6]byte) error {
	et := uint16(packet.EtherTypeIPv4)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		et = packet.EtherTypeIPv6
	}
	frame := make([]byte, 0, 14+len(ip))
	frame = append(frame, dst[:]...)
	frame = append(frame, src[:]...)
	frame = append(frame, byte(et>>8), byte(et))
	frame = append(frame, ip...)
	sa := &syscall.SockaddrLinklayer{Protocol: htons(et), Ifindex: l.ifindex, Halen: 6}
	copy(sa.Addr[:], dst[:])
	return syscall.Sendto(l.fd, frame, 0, sa)
}

// read passes every frame the host transmitted to out until stop closes,
// leaving out what the peer sent itself and the link's own chatter (see
// noise).
func (l *link) read(out chan<- Frame, stop <-chan struct{}) {
	buf := make([]byte, 65536)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(l.fd, buf, 0)
		if err != nil {
			continue // the receive timeout: look at stop again
		}
		if sa, ok := from.(*syscall.SockaddrLinklayer); ok && sa.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		if noise(buf[:n]) {
			continue
		}
		out <- Frame{Iface: l.iface.Name, Data: append([]byte(nil), buf[:n]...)}
	}
}

// noise reports frames a host sends on its own, not because of the
// injected packets: ARP, IGMP, and ICMPv6 multicast listener and
// neighbour discovery messages.
func noise(f []byte) bool {
	var p packet.Packet
	if p.DecodeEthernet(f) != nil {
		return false
	}
	switch {
	case p.Eth.EtherType == packet.EtherTypeARP:
		return true
	case p.IsIPv4() && p.IPv4.Protocol == 2:
		return true
	case p.Layers&packet.LayerICMPv6 != 0:
		t := p.ICMP.Type
		return t >= 130 && t <= 136 || t == 143
	}
	return false
}

// txChecksumOff turns off transmit checksum offload on a host interface
// (the ETHTOOL_STXCSUM ioctl, ethtool -K DEV tx off). With it on, a veth
// hands TCP and UDP packets over with only the pseudo-header sum in their
// checksum field (CHECKSUM_PARTIAL), which no wire would carry; off, the
// stack computes the checksums (and segments what it would have left to
// TSO), so the peer captures what a real link would.
func txChecksumOff(ns, dev string) error {
	fd, err := socketIn(ns, syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	const ethtoolSTXCSUM = 0x17
	const siocETHTOOL = 0x8946
	val := struct{ cmd, data uint32 }{ethtoolSTXCSUM, 0}
	var ifr struct {
		name [16]byte
		data uintptr
		_    [16]byte
	}
	copy(ifr.name[:], dev)
	ifr.data = uintptr(unsafe.Pointer(&val))
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return fmt.Errorf("ethtool tx off %s: %v", dev, e)
	}
	return nil
}

// socket opens a socket in namespace ns.
func socketIn(ns string, domain, typ, proto int) (int, error) {
	fd := -1
	err := inNetns(ns, func() error {
		var err error
		fd, err = syscall.Socket(domain, typ, proto)
		return err
	})
	return fd, err
}

// listen opens the scenario's listening and bound sockets in the host.
func listen(ns string, l Listen) ([]int, error) {
	addrs := []netip.Addr{l.Addr}
	if !l.Addr.IsValid() {
		addrs = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	}
	var fds []int
	for _, a := range addrs {
		typ := syscall.SOCK_STREAM
		if l.Proto == packet.ProtoUDP {
			typ = syscall.SOCK_DGRAM
		}
		dom := syscall.AF_INET
		var sa syscall.Sockaddr
		if a.Is6() {
			dom = syscall.AF_INET6
			sa = &syscall.SockaddrInet6{Port: int(l.Port), Addr: a.As16()}
		} else {
			sa = &syscall.SockaddrInet4{Port: int(l.Port), Addr: a.As4()}
		}
		fd, err := socketIn(ns, dom, typ, 0)
		if err != nil {
			return fds, err
		}
		fds = append(fds, fd)
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		if a.Is6() {
			syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
		}
		if err := syscall.Bind(fd, sa); err != nil {
			return fds, fmt.Errorf("bind %v port %d: %v", a, l.Port, err)
		}
		if typ == syscall.SOCK_STREAM {
			if err := syscall.Listen(fd, 16); err != nil {
				return fds, err
			}
		}
	}
	return fds, nil
}

// sendLocal sends an IP packet from a raw IPPROTO_RAW socket (the header
// is the packet's own, IP_HDRINCL) in the host.
func sendLocal(fd4, fd6 int, ip []byte) error {
	var p packet.Packet
	if err := p.Decode(ip); err != nil {
		return err
	}
	if p.IsIPv6() {
		return syscall.Sendto(fd6, ip, 0, &syscall.SockaddrInet6{Addr: p.IPv6.Dst.As16()})
	}
	return syscall.Sendto(fd4, ip, 0, &syscall.SockaddrInet4{Addr: p.IPv4.Dst.As4()})
}

// kmsg reads the kernel log from its end at open time.
type kmsg struct{ fd int }

func openKmsg() (*kmsg, error) {
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if _, err := syscall.Seek(fd, 0, 2); err != nil { // SEEK_END: only what comes next
		syscall.Close(fd)
		return nil, err
	}
	return &kmsg{fd}, nil
}

// logLines returns the LOG target's lines logged since the last call.
// Each record is "prio,seq,usec,flags;text"; LOG lines are the kernel's
// (facility 0) and hold "IN=... OUT=".
func (k *kmsg) logLines() []LogLine {
	var out []LogLine
	buf := make([]byte, 16384)
	for {
		n, err := syscall.Read(k.fd, buf)
		if err == syscall.EPIPE {
			continue // records overwritten before we read them
		}
		if err != nil || n <= 0 {
			return out
		}
		rec := string(buf[:n])
		semi := strings.IndexByte(rec, ';')
		if semi < 0 {
			continue
		}
		var prio int
		fmt.Sscanf(rec[:strings.IndexByte(rec, ',')+1], "%d,", &prio)
		text := rec[semi+1:]
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[:i]
		}
		if prio>>3 != 0 || !isLogLine(text) {
			continue
		}
		out = append(out, LogLine{Level: uint8(prio & 7), Text: text})
	}
}

func (k *kmsg) close() { syscall.Close(k.fd) }

func isLogLine(s string) bool {
	i := strings.Index(s, "IN=")
	return i >= 0 && strings.Contains(s[i:], " OUT=")
}

// lockKmsg takes the lock every helper holds while it reads LOG lines
// from the shared kernel log (flock /tmp/iptw-kmsg.lock).
func lockKmsg() (func(), error) {
	fd, err := syscall.Open("/tmp/iptw-kmsg.lock", syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return func() { syscall.Flock(fd, syscall.LOCK_UN); syscall.Close(fd) }, nil
}
