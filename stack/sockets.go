package stack

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/state"
)

// socketsFile lists a host's listening sockets, one per line:
// "tcp 22", "udp 10.0.0.1 53", "tcp6 :: 22", with an optional "uid N gid N".
const socketsFile = "sockets"

// ParseSocket parses one socket line.
func ParseSocket(line string) (Socket, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return Socket{}, fmt.Errorf("%q: want PROTO [ADDRESS] PORT", line)
	}
	var sk Socket
	switch f[0] {
	case "tcp", "tcp6":
		sk.Proto = packet.ProtoTCP
	case "udp", "udp6":
		sk.Proto = packet.ProtoUDP
	default:
		return Socket{}, fmt.Errorf("%q: protocol %q is not tcp or udp", line, f[0])
	}
	rest := f[1:]
	if len(rest) >= 2 {
		if a, err := netip.ParseAddr(rest[0]); err == nil {
			sk.Addr = a
			rest = rest[1:]
		}
	}
	p, err := strconv.ParseUint(rest[0], 10, 16)
	if err != nil || p == 0 {
		return Socket{}, fmt.Errorf("%q: bad port %q", line, rest[0])
	}
	sk.Port = uint16(p)
	rest = rest[1:]
	for len(rest) >= 2 {
		v, err := strconv.ParseUint(rest[1], 10, 32)
		if err != nil {
			return Socket{}, fmt.Errorf("%q: bad %s %q", line, rest[0], rest[1])
		}
		switch rest[0] {
		case "uid":
			sk.UID = uint32(v)
		case "gid":
			sk.GID = uint32(v)
		default:
			return Socket{}, fmt.Errorf("%q: unknown field %q", line, rest[0])
		}
		rest = rest[2:]
	}
	if len(rest) > 0 {
		return Socket{}, fmt.Errorf("%q: unexpected %q", line, rest[0])
	}
	return sk, nil
}

// String renders a socket in the file's form.
func (sk Socket) String() string {
	var b strings.Builder
	if sk.Proto == packet.ProtoTCP {
		b.WriteString("tcp")
	} else {
		b.WriteString("udp")
	}
	if sk.Addr.IsValid() {
		b.WriteString(" " + sk.Addr.String())
	}
	fmt.Fprintf(&b, " %d", sk.Port)
	if sk.UID != 0 || sk.GID != 0 {
		fmt.Fprintf(&b, " uid %d gid %d", sk.UID, sk.GID)
	}
	return b.String()
}

// LoadSockets reads the host's sockets (none when the file is absent).
func LoadSockets(d *state.Dir) ([]Socket, error) {
	path := filepath.Join(d.Path, socketsFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Socket
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sk, err := ParseSocket(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, sk)
	}
	return out, nil
}

// SaveSockets writes the host's sockets atomically.
func SaveSockets(d *state.Dir, socks []Socket) error {
	var b strings.Builder
	for _, sk := range socks {
		b.WriteString(sk.String())
		b.WriteByte('\n')
	}
	return state.WriteAtomic(filepath.Join(d.Path, socketsFile), []byte(b.String()))
}
