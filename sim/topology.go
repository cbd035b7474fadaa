package sim

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of a topology file.
const (
	DefaultSeed    = 1
	DefaultLatency = 100 * time.Microsecond
	DefaultMTU     = 1500
)

// DefaultStart is the wall clock at virtual time 0 when the file does not
// say (the date syslog and capture lines show).
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Topology is a parsed topology file: hosts, links and the scenario.
type Topology struct {
	File string // as given
	Dir  string // the directory relative paths are resolved against
	Name string

	Seed    uint64
	Start   time.Time
	Latency time.Duration

	Hosts []*HostSpec
	Links []*LinkSpec
	Steps []*Step
}

// HostSpec is one host of the topology and how it is set up, in the
// order the setup runs: interfaces, addresses, routes, sysctls, the hosts
// file, rule files, commands, script, listening sockets.
type HostSpec struct {
	Name       string
	Hostname   string // syslog's host name (default Name)
	Interfaces []*IfaceSpec
	Routes     []Cmd // arguments of `ip route add`
	Sysctls    []KV
	Hosts      string // the hosts file's text
	Rules      string // iptables-restore file (path relative to the topology)
	Rules6     string
	Commands   []Cmd
	Script     string // a bash script, path relative to the topology
	Listen     []Cmd  // "tcp 22", "udp 10.0.0.1 53"
	// AllowFailures lets the setup go on when a command fails, as the
	// script would on a real machine.
	AllowFailures bool
	// Internet makes the host stand for the rest of the world: it
	// forwards, and every address no route of its own leads elsewhere is
	// one of its own (internet.go).
	Internet   bool
	internetAt node
	// Extra holds the values of the fields other packages registered
	// (RegisterHostField), by field name.
	Extra map[string]any

	at node
}

// IfaceSpec is a host's Ethernet interface.
type IfaceSpec struct {
	Name      string
	MAC       string // aa:bb:cc:dd:ee:ff; default derived from host and name
	MTU       int
	Up        bool
	Addresses []netip.Prefix

	at node
}

// KV is a sysctl setting.
type KV struct {
	Key, Value string
	at         node
}

// Cmd is a command line with where it was written.
type Cmd struct {
	Text string
	at   node
}

// Pos is "file:line" of the command (for errors).
func (c Cmd) Pos() string {
	if c.at.n == nil {
		return c.at.file
	}
	return fmt.Sprintf("%s:%d", c.at.file, c.at.n.Line)
}

// LinkSpec is an L2 segment joining host interfaces.
type LinkSpec struct {
	Name    string
	Ends    []End
	Latency time.Duration

	at node
}

// End is one interface on a link.
type End struct {
	Host, Iface string
}

func (e End) String() string { return e.Host + "." + e.Iface }

// Step is one step of the scenario.
type Step struct {
	N       int
	Host    string // the host the command runs on ("" for wait and notes)
	Command string
	Wait    time.Duration
	Note    string
	Expect  []Expect

	at node
}

// Line is the step's line in the file.
func (s *Step) Line() int {
	if s.at.n == nil {
		return 0
	}
	return s.at.n.Line
}

// yamlLineRE takes the line out of the YAML parser's messages.
var yamlLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
var ifaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$`)

// stepKeywords are the keys of a step that are not host names.
var stepKeywords = []string{"wait", "note", "expect"}

// ParseFile reads a topology file.
func ParseFile(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads a topology from data; file names it in errors and relative
// paths are resolved against its directory.
func Parse(file string, data []byte) (*Topology, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		e := &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(e.Msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		return nil, e
	}
	root := node{n: &doc, file: file}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root.n = doc.Content[0]
	}
	t := &Topology{File: file, Dir: filepath.Dir(file), Seed: DefaultSeed, Start: DefaultStart, Latency: DefaultLatency}
	f, err := root.fields("name", "seed", "start", "latency", "hosts", "links", "steps")
	if err != nil {
		return nil, err
	}
	if n, ok := f["name"]; ok {
		if t.Name, err = n.str(); err != nil {
			return nil, err
		}
	}
	if n, ok := f["seed"]; ok {
		if t.Seed, err = n.uinteger(); err != nil {
			return nil, err
		}
	}
	if n, ok := f["start"]; ok {
		s, err := n.str()
		if err != nil {
			return nil, err
		}
		if t.Start, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, n.errf("%q is not a time such as 2017-09-02T20:19:24Z", s)
		}
	}
	if n, ok := f["latency"]; ok {
		if t.Latency, err = n.duration(); err != nil {
			return nil, err
		}
	}
	hosts, ok := f["hosts"]
	if !ok {
		return nil, root.errf("no hosts")
	}
	hs, err := hosts.mapping()
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, hosts.errf("no hosts")
	}
	for _, p := range hs {
		h, err := parseHost(p, t)
		if err != nil {
			return nil, err
		}
		t.Hosts = append(t.Hosts, h)
	}
	if n, ok := f["links"]; ok {
		if err := t.parseLinks(n); err != nil {
			return nil, err
		}
	}
	if n, ok := f["steps"]; ok {
		if err := t.parseSteps(n); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Host finds a host by name.
func (t *Topology) Host(name string) *HostSpec {
	for _, h := range t.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Link finds a link by name.
func (t *Topology) Link(name string) *LinkSpec {
	for _, l := range t.Links {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Path resolves a file name of the topology.
func (t *Topology) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(t.Dir, p)
}

// builtinHostFields are the fields of a host the simulator knows itself.
var builtinHostFields = []string{"hostname", "interfaces", "routes", "sysctl", "hosts", "hosts_file", "rules", "rules6",
	"commands", "script", "listen", "allow_failures", "internet"}

func parseHost(p pair, t *Topology) (*HostSpec, error) {
	if !nameRE.MatchString(p.key) {
		return nil, p.k.errf("%q is not a host name (letters, digits, '.', '-', '_')", p.key)
	}
	for _, kw := range stepKeywords {
		if p.key == kw {
			return nil, p.k.errf("%q is reserved for steps; choose another host name", p.key)
		}
	}
	h := &HostSpec{Name: p.key, Hostname: p.key, at: p.k}
	f, err := p.v.fields(append(builtinHostFields, registeredFieldNames()...)...)
	if err != nil {
		return nil, err
	}
	for _, name := range registeredFieldNames() {
		if v, ok := f[name]; ok {
			val, err := hostFields[name].Parse(Field{n: v, topo: t})
			if err != nil {
				return nil, err
			}
			if h.Extra == nil {
				h.Extra = map[string]any{}
			}
			h.Extra[name] = val
		}
	}
	if n, ok := f["hostname"]; ok {
		if h.Hostname, err = n.str(); err != nil {
			return nil, err
		}
		if h.Hostname == "" || strings.ContainsAny(h.Hostname, " \t\n") {
			return nil, n.errf("%q is not a host name", h.Hostname)
		}
	}
	if n, ok := f["interfaces"]; ok {
		ifs, err := n.mapping()
		if err != nil {
			return nil, err
		}
		for _, ip := range ifs {
			ifc, err := parseIface(h.Name, ip)
			if err != nil {
				return nil, err
			}
			h.Interfaces = append(h.Interfaces, ifc)
		}
	}
	cmds := func(key string) ([]Cmd, error) {
		n, ok := f[key]
		if !ok {
			return nil, nil
		}
		items, err := n.list()
		if err != nil {
			return nil, err
		}
		var out []Cmd
		for _, it := range items {
			s, err := it.str()
			if err != nil {
				return nil, err
			}
			if strings.TrimSpace(s) == "" {
				return nil, it.errf("empty command")
			}
			out = append(out, Cmd{Text: s, at: it})
		}
		return out, nil
	}
	if h.Routes, err = cmds("routes"); err != nil {
		return nil, err
	}
	if h.Commands, err = cmds("commands"); err != nil {
		return nil, err
	}
	if h.Listen, err = cmds("listen"); err != nil {
		return nil, err
	}
	if n, ok := f["sysctl"]; ok {
		ps, err := n.mapping()
		if err != nil {
			return nil, err
		}
		for _, sp := range ps {
			v, err := sp.v.str()
			if err != nil {
				return nil, err
			}
			h.Sysctls = append(h.Sysctls, KV{Key: sp.key, Value: v, at: sp.v})
		}
	}
	for _, kd := range []struct {
		key string
		dst *string
	}{{"hosts", &h.Hosts}, {"rules", &h.Rules}, {"rules6", &h.Rules6}, {"script", &h.Script}} {
		if n, ok := f[kd.key]; ok {
			if *kd.dst, err = n.str(); err != nil {
				return nil, err
			}
		}
	}
	if n, ok := f["hosts_file"]; ok {
		if h.Hosts != "" {
			return nil, n.errf("give hosts (the text) or hosts_file, not both")
		}
		name, err := n.str()
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(t.Path(name))
		if err != nil {
			return nil, n.errf("%v", err)
		}
		h.Hosts = string(data)
	}
	if n, ok := f["internet"]; ok {
		if h.Internet, err = n.boolean(); err != nil {
			return nil, err
		}
		h.internetAt = n
		if h.Internet {
			h.Sysctls = append(internetSysctls(h.Sysctls, n), h.Sysctls...)
		}
	}
	if n, ok := f["allow_failures"]; ok {
		if h.AllowFailures, err = n.boolean(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func parseIface(host string, p pair) (*IfaceSpec, error) {
	if !ifaceRE.MatchString(p.key) || p.key == "lo" {
		return nil, p.k.errf("%q is not an interface name (up to 15 characters; lo exists already)", p.key)
	}
	ifc := &IfaceSpec{Name: p.key, MTU: DefaultMTU, Up: true, MAC: DefaultMAC(host, p.key), at: p.k}
	if p.v.isNull() {
		return ifc, nil
	}
	if p.v.n.Kind == yaml.ScalarNode {
		// eth0: 10.0.0.1/24
		a, err := parsePrefix(p.v)
		if err != nil {
			return nil, err
		}
		ifc.Addresses = []netip.Prefix{a}
		return ifc, nil
	}
	f, err := p.v.fields("mac", "mtu", "address", "up")
	if err != nil {
		return nil, err
	}
	if n, ok := f["mac"]; ok {
		s, err := n.str()
		if err != nil {
			return nil, err
		}
		m, ok := parseMAC(s)
		if !ok {
			return nil, n.errf("%q is not a MAC address such as 0a:11:d1:09:77:ce", s)
		}
		if m[0]&1 != 0 {
			return nil, n.errf("%s is a multicast address", s)
		}
		ifc.MAC = formatMAC(m)
	}
	if n, ok := f["mtu"]; ok {
		v, err := n.integer(68, 65535)
		if err != nil {
			return nil, err
		}
		ifc.MTU = int(v)
	}
	if n, ok := f["up"]; ok {
		if ifc.Up, err = n.boolean(); err != nil {
			return nil, err
		}
	}
	if n, ok := f["address"]; ok {
		items, err := n.list()
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			a, err := parsePrefix(it)
			if err != nil {
				return nil, err
			}
			ifc.Addresses = append(ifc.Addresses, a)
		}
	}
	return ifc, nil
}

func parsePrefix(n node) (netip.Prefix, error) {
	s, err := n.str()
	if err != nil {
		return netip.Prefix{}, err
	}
	if !strings.Contains(s, "/") {
		return netip.Prefix{}, n.errf("%q: write the address with its prefix length, e.g. 10.0.0.1/24", s)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, n.errf("%q is not an address with a prefix length", s)
	}
	return p, nil
}

func (t *Topology) parseLinks(n node) error {
	ps, err := n.mapping()
	if err != nil {
		return err
	}
	used := map[End]string{}
	for _, p := range ps {
		if !nameRE.MatchString(p.key) {
			return p.k.errf("%q is not a link name", p.key)
		}
		if t.Host(p.key) != nil {
			return p.k.errf("%q names a host too; give the link another name", p.key)
		}
		l := &LinkSpec{Name: p.key, Latency: t.Latency, at: p.k}
		ends := p.v
		if !p.v.isNull() && p.v.n.Kind == yaml.MappingNode {
			f, err := p.v.fields("ends", "latency")
			if err != nil {
				return err
			}
			if d, ok := f["latency"]; ok {
				if l.Latency, err = d.duration(); err != nil {
					return err
				}
			}
			var ok bool
			if ends, ok = f["ends"]; !ok {
				return p.v.errf("no ends (host.interface list)")
			}
		}
		items, err := ends.list()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return ends.errf("a link joins at least one interface (host.interface)")
		}
		for _, it := range items {
			s, err := it.str()
			if err != nil {
				return err
			}
			hn, ifn, ok := strings.Cut(s, ".")
			// A host name may contain dots: the interface is after the last.
			if i := strings.LastIndexByte(s, '.'); i > 0 {
				hn, ifn, ok = s[:i], s[i+1:], true
			}
			if !ok || hn == "" || ifn == "" {
				return it.errf("%q: write an end as host.interface, e.g. r1.eth0", s)
			}
			h := t.Host(hn)
			if h == nil {
				return it.errf("%q: no host %q", s, hn)
			}
			if h.iface(ifn) == nil {
				return it.errf("%q: host %s has no interface %q", s, hn, ifn)
			}
			e := End{hn, ifn}
			if other, dup := used[e]; dup {
				return it.errf("%s is already on link %s", s, other)
			}
			used[e] = l.Name
			l.Ends = append(l.Ends, e)
		}
		t.Links = append(t.Links, l)
	}
	return nil
}

func (h *HostSpec) iface(name string) *IfaceSpec {
	for _, i := range h.Interfaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}

func (t *Topology) parseSteps(n node) error {
	items, err := n.list()
	if err != nil {
		return err
	}
	for _, it := range items {
		s, err := t.parseStep(it)
		if err != nil {
			return err
		}
		s.N = len(t.Steps) + 1
		t.Steps = append(t.Steps, s)
	}
	return nil
}

func (t *Topology) parseStep(n node) (*Step, error) {
	s := &Step{at: n}
	if !n.isNull() && n.n.Kind == yaml.ScalarNode {
		return nil, n.errf("a step is a mapping such as \"- r1: ping -c 1 10.0.0.2\" or \"- wait: 5s\"")
	}
	ps, err := n.mapping()
	if err != nil {
		return nil, err
	}
	actions := 0
	for _, p := range ps {
		switch p.key {
		case "wait":
			if s.Wait, err = p.v.duration(); err != nil {
				return nil, err
			}
			actions++
		case "note":
			if s.Note, err = p.v.str(); err != nil {
				return nil, err
			}
		case "expect":
			if s.Expect, err = parseExpects(p.v, t); err != nil {
				return nil, err
			}
		default:
			if t.Host(p.key) == nil {
				return nil, p.k.errf("no host %q (a step is HOST: COMMAND, wait: DURATION, note: TEXT, expect: [...])", p.key)
			}
			s.Host = p.key
			if s.Command, err = p.v.str(); err != nil {
				return nil, err
			}
			if strings.TrimSpace(s.Command) == "" {
				return nil, p.v.errf("empty command")
			}
			s.at = p.v
			if _, err := parseApp(s.Command); err != nil {
				return nil, p.v.errf("%v", err)
			}
			actions++
		}
	}
	if actions > 1 {
		return nil, n.errf("a step does one thing: a command on one host, or a wait")
	}
	if actions == 0 && s.Note == "" {
		return nil, n.errf("a step needs HOST: COMMAND, wait: DURATION or note: TEXT")
	}
	return s, nil
}

// DefaultMAC is the MAC address an interface gets when the file gives
// none: a locally administered unicast address hashed from the host and
// interface names (FNV-1a), so that it is stable across runs and files.
func DefaultMAC(host, iface string) string {
	h := fnv.New64a()
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write([]byte(iface))
	s := h.Sum64()
	return formatMAC([6]byte{byte(s>>40)&0xfe | 0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
}

func formatMAC(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	if len(s) != 17 {
		return m, false
	}
	for i := 0; i < 6; i++ {
		if i < 5 && s[i*3+2] != ':' {
			return m, false
		}
		var v byte
		for _, c := range []byte(s[i*3 : i*3+2]) {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | (c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | (c - 'A' + 10)
			default:
				return m, false
			}
		}
		m[i] = v
	}
	return m, true
}
