// Package names answers the look-ups iptables makes through the C library
// (services, protocols, hosts, networks) from files in the formats of
// /etc/services, /etc/protocols, /etc/hosts and /etc/networks, so that a
// twin host resolves names from its own data, as the real one would.
package names

import (
	"bufio"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/iptwin/iptwin/xtables"
)

// Files says where a DB reads its data. Empty paths are skipped.
type Files struct {
	Services  string
	Protocols string
	Hosts     string
	Networks  string
}

// System is the files of the machine iptwin runs on.
var System = Files{
	Services:  "/etc/services",
	Protocols: "/etc/protocols",
	Hosts:     "/etc/hosts",
	Networks:  "/etc/networks",
}

type service struct {
	port  uint16
	proto string
}

// DB implements xtables.Resolver. Files are read on first use.
type DB struct {
	files Files
	once  sync.Once

	servByName map[string][]service    // name or alias -> entries in file order
	servByPort map[service]string      // (port, proto) -> first name
	protoByNm  map[string]int          // name or alias -> number
	protoNames map[uint8]string        // number -> first name
	hostAddrs  map[string][]netip.Addr // name or alias -> addresses in file order
	hostNames  map[netip.Addr]string   // address -> first name
	netByName  map[string]netip.Addr   // network name -> address
	netNames   map[netip.Addr]string   // network address -> name
}

// New returns a DB reading the given files.
func New(f Files) *DB { return &DB{files: f} }

var _ xtables.Resolver = (*DB)(nil)

func (d *DB) load() {
	d.once.Do(func() {
		d.servByName = map[string][]service{}
		d.servByPort = map[service]string{}
		d.protoByNm = map[string]int{}
		d.protoNames = map[uint8]string{}
		d.hostAddrs = map[string][]netip.Addr{}
		d.hostNames = map[netip.Addr]string{}
		d.netByName = map[string]netip.Addr{}
		d.netNames = map[netip.Addr]string{}
		eachLine(d.files.Services, d.addService)
		eachLine(d.files.Protocols, d.addProtocol)
		eachLine(d.files.Hosts, d.addHost)
		eachLine(d.files.Networks, d.addNetwork)
	})
}

func eachLine(path string, fn func(fields []string)) {
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return // a missing file resolves nothing, as with the C library
	}
	defer f.Close()
	ReadFields(f, fn)
}

// ReadFields calls fn with the whitespace-separated fields of each line of
// r, comments ("#" to end of line) removed, blank lines skipped.
func ReadFields(r io.Reader, fn func(fields []string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if f := strings.Fields(line); len(f) > 0 {
			fn(f)
		}
	}
}

func (d *DB) addService(f []string) {
	if len(f) < 2 {
		return
	}
	pp := strings.SplitN(f[1], "/", 2)
	if len(pp) != 2 {
		return
	}
	port, err := strconv.ParseUint(pp[0], 10, 16)
	if err != nil {
		return
	}
	s := service{uint16(port), pp[1]}
	if _, ok := d.servByPort[s]; !ok {
		d.servByPort[s] = f[0]
	}
	for _, n := range append([]string{f[0]}, f[2:]...) {
		d.servByName[n] = append(d.servByName[n], s)
	}
}

func (d *DB) addProtocol(f []string) {
	if len(f) < 2 {
		return
	}
	n, err := strconv.ParseUint(f[1], 10, 8)
	if err != nil {
		return
	}
	if _, ok := d.protoNames[uint8(n)]; !ok {
		d.protoNames[uint8(n)] = f[0]
	}
	for _, name := range append([]string{f[0]}, f[2:]...) {
		if _, ok := d.protoByNm[name]; !ok {
			d.protoByNm[name] = int(n)
		}
	}
}

func (d *DB) addHost(f []string) {
	if len(f) < 2 {
		return
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil {
		return
	}
	a = a.Unmap()
	if _, ok := d.hostNames[a]; !ok {
		d.hostNames[a] = f[1]
	}
	for _, n := range f[1:] {
		d.hostAddrs[n] = append(d.hostAddrs[n], a)
	}
}

func (d *DB) addNetwork(f []string) {
	if len(f) < 2 {
		return
	}
	a, ok := parseNetAddr(f[1])
	if !ok {
		return
	}
	if _, dup := d.netNames[a]; !dup {
		d.netNames[a] = f[0]
	}
	for _, n := range append([]string{f[0]}, f[2:]...) {
		if _, dup := d.netByName[n]; !dup {
			d.netByName[n] = a
		}
	}
}

// parseNetAddr reads a networks(5) address: 1 to 4 dotted parts, the
// missing low parts zero ("10" is 10.0.0.0 as inet_network gives it
// aligned by getnetent).
func parseNetAddr(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

// PortByName implements xtables.Resolver.
func (d *DB) PortByName(name string) int {
	if name != "" && isDigits(name) {
		// getaddrinfo takes any number as a service (strtoul, saturating)
		// and keeps its low 16 bits.
		v, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			v = math.MaxUint64
		}
		return int(v & 0xffff)
	}
	d.load()
	if ss := d.servByName[name]; len(ss) > 0 {
		return int(ss[0].port)
	}
	return -1
}

// ServicePort implements xtables.Resolver.
func (d *DB) ServicePort(name, proto string) int {
	d.load()
	for _, s := range d.servByName[name] {
		if proto == "" || s.proto == proto {
			return int(s.port)
		}
	}
	return -1
}

// ServiceName implements xtables.Resolver.
func (d *DB) ServiceName(port uint16, proto string) string {
	d.load()
	return d.servByPort[service{port, proto}]
}

// ProtoByName implements xtables.Resolver.
func (d *DB) ProtoByName(name string) int {
	d.load()
	if n, ok := d.protoByNm[name]; ok {
		return n
	}
	return -1
}

// ProtoName implements xtables.Resolver.
func (d *DB) ProtoName(num uint8) string {
	d.load()
	return d.protoNames[num]
}

// HostAddrs implements xtables.Resolver.
func (d *DB) HostAddrs(name string, f xtables.Family) []netip.Addr {
	d.load()
	var out []netip.Addr
	for _, a := range d.hostAddrs[name] {
		switch {
		case (f == xtables.IPv4) == a.Is4():
			out = append(out, a)
		case f == xtables.IPv4 && a.Is4In6():
			// glibc's files backend answers an AF_INET query with the
			// IPv4 part of a mapped address, and with 127.0.0.1 for
			// ::1, so "localhost" comes back twice with the usual
			// hosts file.
			out = append(out, a.Unmap())
		case f == xtables.IPv4 && a == netip.IPv6Loopback():
			out = append(out, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
		}
	}
	return out
}

// HostName implements xtables.Resolver.
func (d *DB) HostName(a netip.Addr) string {
	d.load()
	return d.hostNames[a]
}

// NetworkName implements xtables.Resolver.
func (d *DB) NetworkName(a netip.Addr) string {
	d.load()
	return d.netNames[a]
}

// NetworkAddr is getnetbyname.
func (d *DB) NetworkAddr(name string) (netip.Addr, bool) {
	d.load()
	a, ok := d.netByName[name]
	return a, ok
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
