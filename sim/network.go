package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/internal/wallclock"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// Options say how a network runs.
type Options struct {
	// Seed overrides the file's seed when SeedSet.
	Seed    uint64
	SeedSet bool
	// Start overrides the file's start time when not zero.
	Start time.Time
	// Run runs iptwin commands in process (setup commands, step
	// commands), in the topology's directory: the process changes its
	// working directory meanwhile, so runs with a Runner must not overlap
	// with other work that depends on it. Exec is the iptwin binary,
	// which setup scripts find on their PATH under the tools' names (and
	// which runs commands when Run is nil).
	Run  Runner
	Exec string
	// Tools are the names linked to Exec for scripts (DefaultTools when
	// nil).
	Tools []string
	// StateDir keeps the hosts' state directories (one per host) there;
	// empty: a temporary directory removed by Close.
	StateDir string
	// PcapDir, when set, receives one pcap file per link (LINK.pcap).
	PcapDir string
	// NoCapture leaves the per-step capture lines out (pcap files are
	// still written): for big runs.
	NoCapture bool
}

// Limits of one step, so that a mistake (a routing loop of ICMP errors,
// an app that never ends) cannot hang a run.
const (
	maxStepTime   = int64(time.Hour)
	maxStepEvents = 50_000_000
)

// Network is a running topology: its hosts (each a stack.Host built from
// its own state directory), the links between their interfaces and the
// event queue on the virtual clock.
type Network struct {
	topo  *Topology
	opts  Options
	seed  uint64
	start time.Time

	work    string // temporary directory (tool links, state)
	ownWork bool
	tools   string

	hosts  []*simHost
	byName map[string]*simHost
	links  []*link

	q   eventQueue
	now int64 // virtual time in ns

	neighByID   map[uint32]*neighEntry
	nextNeighID uint32
	resolving   int // neighbour resolutions in progress

	rec      *StepResult // the step being recorded
	setupOut []HostOutput
	events   int
}

// simHost is a host of the network: its stack and what the simulator
// keeps beside it (interfaces on links, neighbours, applications).
type simHost struct {
	n    *Network
	spec *HostSpec
	name string
	dir  string
	st   *state.Dir
	h    *stack.Host
	ifs  []*iface
	ifBy map[string]*iface

	neigh map[neighKey]*neighEntry
	rnd   rng
	// Applications waiting for packets.
	pings map[uint16]*pingApp
	tcps  map[flowKey]*tcpClient
	udps  map[flowKey]*udpApp
	// fileSockets are the sockets of the state directory, appSockets
	// those the simulator's applications hold open.
	fileSockets []stack.Socket
	appSockets  []stack.Socket
	ports       map[uint16]bool
	hostsFile   map[string]netip.Addr
	// udpHandlers are the UDP ports extensions listen on (HandleUDP).
	udpHandlers map[uint16]func(*packet.Packet)
	// extState is what extensions keep per host (HostEnv.SetState).
	extState map[string]any
}

// iface is a host's interface and the link it is on.
type iface struct {
	host *simHost
	name string
	mac  [6]byte
	link *link
}

// link is an L2 segment: every frame an interface on it sends reaches
// the others (those whose MAC address it is for, or all of them for
// broadcast and multicast) after the link's latency.
type link struct {
	name    string
	ends    []*iface
	latency int64
	pcap    *pcapFile
}

type flowKey struct {
	local, remote         netip.Addr
	localPort, remotePort uint16
}

// New sets up every host of the topology (interfaces, addresses, routes,
// sysctls, rules, commands, scripts) and returns the network ready to
// run its steps. Setup errors name the host, the command and its error.
func New(t *Topology, opts Options) (*Network, error) {
	n := &Network{topo: t, opts: opts, seed: t.Seed, start: t.Start, byName: map[string]*simHost{},
		neighByID: map[uint32]*neighEntry{}}
	if opts.SeedSet {
		n.seed = opts.Seed
	}
	if !opts.Start.IsZero() {
		n.start = opts.Start
	}
	work, err := os.MkdirTemp("", "iptwin-sim-")
	if err != nil {
		return nil, err
	}
	n.work, n.ownWork = work, true
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	// Absolute, since commands run in the topology's directory.
	stateRoot := opts.StateDir
	if stateRoot == "" {
		stateRoot = filepath.Join(work, "hosts")
	}
	if stateRoot, err = filepath.Abs(stateRoot); err != nil {
		return nil, err
	}
	for _, hs := range t.Hosts {
		dir := filepath.Join(stateRoot, hs.Name)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		out, err := n.setupHost(hs, dir)
		if err != nil {
			return nil, err
		}
		if out != "" {
			n.setupOut = append(n.setupOut, HostOutput{Host: hs.Name, Output: out})
		}
		sh, err := n.loadHost(hs, dir)
		if err != nil {
			return nil, &SetupError{Host: hs.Name, Command: "loading the host", Stderr: err.Error()}
		}
		n.hosts = append(n.hosts, sh)
		n.byName[hs.Name] = sh
	}
	for _, ls := range t.Links {
		l := &link{name: ls.Name, latency: int64(ls.Latency)}
		for _, e := range ls.Ends {
			ifc := n.byName[e.Host].ifBy[e.Iface]
			ifc.link = l
			l.ends = append(l.ends, ifc)
		}
		n.links = append(n.links, l)
	}
	if opts.PcapDir != "" {
		if err := n.openPcaps(opts.PcapDir); err != nil {
			return nil, err
		}
	}
	if err := n.boot(); err != nil {
		return nil, err
	}
	ok = true
	return n, nil
}

// Close releases the network's files and removes its temporary
// directory.
func (n *Network) Close() error {
	var first error
	for _, l := range n.links {
		if l.pcap != nil {
			if err := l.pcap.close(); err != nil && first == nil {
				first = err
			}
			l.pcap = nil
		}
	}
	if n.ownWork && n.work != "" {
		os.RemoveAll(n.work)
		n.work = ""
	}
	return first
}

// hostSeed derives a host's random seed from the run's seed and its name.
func hostSeed(seed uint64, name, what string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(what))
	return h.Sum64()
}

// loadHost builds the stack of a host whose state directory is set up.
func (n *Network) loadHost(hs *HostSpec, dir string) (*simHost, error) {
	d, err := state.Open(dir)
	if err != nil {
		return nil, err
	}
	h, err := stack.Load(d, hs.Hostname, hostSeed(n.seed, hs.Name, "stack"))
	if err != nil {
		return nil, err
	}
	h.WallBase = n.start.UnixNano()
	sh := &simHost{n: n, spec: hs, name: hs.Name, dir: dir, st: d, h: h, ifBy: map[string]*iface{},
		neigh: map[neighKey]*neighEntry{}, rnd: rng(hostSeed(n.seed, hs.Name, "apps")),
		pings: map[uint16]*pingApp{}, tcps: map[flowKey]*tcpClient{}, udps: map[flowKey]*udpApp{},
		ports: map[uint16]bool{}, fileSockets: h.Sockets, udpHandlers: map[uint16]func(*packet.Packet){}}
	sh.hostsFile = parseHostsFile(hs.Hosts)
	for _, ifc := range hs.Interfaces {
		m, _ := parseMAC(ifc.MAC)
		i := &iface{host: sh, name: ifc.Name, mac: m}
		sh.ifs = append(sh.ifs, i)
		sh.ifBy[ifc.Name] = i
	}
	h.Emit = func(dev string, frame []byte) { n.emit(sh, dev, frame) }
	h.Log = func(level uint8, line []byte) { n.logLine(sh, line) }
	h.Neigh = func(dev string, addr netip.Addr) ([6]byte, bool) { return n.neighLookup(sh, dev, addr) }
	h.Deliver = func(in string, p *packet.Packet) bool { return n.deliver(sh, in, p) }
	return sh, nil
}

// reload reads a host's state directory again after a command changed
// it, keeping its clock, connections and neighbours.
func (sh *simHost) reload() error {
	nt, err := host.Load(sh.st)
	if err != nil {
		return err
	}
	res := sh.st.Names()
	r4, err := sh.st.Load(xtables.IPv4, res)
	if err != nil {
		return err
	}
	r6, err := sh.st.Load(xtables.IPv6, res)
	if err != nil {
		return err
	}
	socks, err := stack.LoadSockets(sh.st)
	if err != nil {
		return err
	}
	// ip xfrm state/policy act on the database in the state directory.
	db, err := xfrm.Load(sh.dir)
	if err != nil {
		return err
	}
	if err := sh.h.Replace(nt, r4, r6); err != nil {
		return err
	}
	if sh.h.Xfrm != nil || len(db.States) > 0 || len(db.Policies) > 0 {
		sh.h.Xfrm = db
	}
	sh.fileSockets = socks
	sh.syncSockets()
	return nil
}

// save writes the host's rules (with their counters) to its state
// directory, so that a command sees them as they are now.
func (sh *simHost) save() error {
	if err := wallclock.Write(sh.dir, sh.n.start.Add(time.Duration(sh.n.now))); err != nil {
		return err
	}
	if sh.h.Xfrm != nil {
		// with the SAs' counters and sequence numbers as they are now
		if err := sh.h.Xfrm.Save(sh.dir); err != nil {
			return err
		}
	}
	return stack.SaveRuntime(sh.st, sh.h, sh.st.Names())
}

func (sh *simHost) syncSockets() {
	sh.h.Sockets = append(append(sh.h.Sockets[:0:0], sh.fileSockets...), sh.appSockets...)
}

// schedule runs fn at time at (not before now).
func (n *Network) schedule(at int64, fn func()) {
	if at < n.now {
		at = n.now
	}
	e := n.q.newEvent()
	e.at, e.fn, e.to = at, fn, nil
	n.q.push(e)
}

// timer is a cancellable scheduled function: a dead timer's event is
// dropped without moving the clock.
type timer struct {
	dead bool
}

// after runs fn d from now unless t is dead by then.
func (n *Network) after(d int64, t *timer, fn func()) {
	e := n.q.newEvent()
	e.at, e.fn, e.to, e.tm = n.now+d, fn, nil, t
	n.q.push(e)
}

// emit is a host's Emit callback: a frame leaves by dev.
func (n *Network) emit(sh *simHost, dev string, frame []byte) {
	ifc := sh.ifBy[dev]
	if ifc == nil || len(frame) < 14 {
		return
	}
	if id, ok := sentinelID(frame[0:6]); ok {
		n.neighQueue(ifc, id, frame)
		return
	}
	n.wire(ifc, frame)
}

// wire puts a frame on the interface's link: it is captured now and
// reaches the other interfaces it is for after the link's latency.
func (n *Network) wire(ifc *iface, frame []byte) {
	l := ifc.link
	if l == nil {
		return
	}
	n.capture(l, frame)
	dst := frame[0:6]
	for _, e := range l.ends {
		if e == ifc || dst[0]&1 == 0 && [6]byte(dst) != e.mac {
			continue
		}
		ev := n.q.newEvent()
		ev.at, ev.to, ev.fn = n.now+l.latency, e, nil
		ev.frame = append(ev.frame[:0], frame...)
		n.q.push(ev)
	}
}

// arrive hands a frame to the interface's host. A frame longer than the
// interface's MTU (plus its Ethernet header) is dropped, as a veth or
// bridge port drops it (is_skb_forwardable), and the step says so.
func (n *Network) arrive(ifc *iface, frame []byte) {
	sh := ifc.host
	if l := sh.h.Net.LinkByName(ifc.name); l != nil && len(frame)-14 > l.MTU {
		n.note(fmt.Sprintf("[sim] %s: a %d-byte frame for %s.%s was dropped: longer than its MTU %d",
			ifc.link.name, len(frame), sh.name, ifc.name, l.MTU))
		return
	}
	if binary.BigEndian.Uint16(frame[12:14]) == packet.EtherTypeARP {
		n.arpInput(ifc, frame)
		return
	}
	sh.h.Now = n.now
	sh.h.Receive(ifc.name, frame)
}

// step handles the next event; false when there is none before limit.
func (n *Network) step(limit int64) bool {
	for {
		e := n.q.peek()
		if e == nil || e.at > limit {
			return false
		}
		n.q.pop()
		if e.tm != nil && e.tm.dead {
			n.q.release(e)
			continue
		}
		n.now = e.at
		n.events++
		if e.to != nil {
			n.arrive(e.to, e.frame)
		} else if e.fn != nil {
			e.fn()
		}
		n.q.release(e)
		return true
	}
}

// quiet: no frame on a wire, no action due and no neighbour being
// resolved.
func (n *Network) quiet() bool { return n.q.busy == 0 && n.resolving == 0 }

// advance runs every event up to t and sets the clock to t.
func (n *Network) advance(t int64) {
	for n.step(t) {
	}
	if t > n.now {
		n.now = t
	}
}

// runApp runs an application until it is done and the network is quiet.
func (n *Network) runApp(a app) {
	a.start()
	begin := n.now
	events := n.events
	for !(a.done() && n.quiet()) {
		if n.now-begin > maxStepTime || n.events-events > maxStepEvents {
			n.note(fmt.Sprintf("step stopped after %s of virtual time and %d events", time.Duration(n.now-begin), n.events-events))
			break
		}
		if !n.step(begin + maxStepTime + 1) {
			break
		}
	}
	a.finish()
}

// logLine records a host's LOG line.
func (n *Network) logLine(sh *simHost, line []byte) {
	if n.rec == nil {
		return
	}
	n.rec.Logs = append(n.rec.Logs, LogLine{Time: n.now, Host: sh.name, Hostname: sh.spec.Hostname, Line: string(line)})
}

// capture records a frame crossing a link.
func (n *Network) capture(l *link, frame []byte) {
	if l.pcap != nil {
		l.pcap.write(n.start.Add(time.Duration(n.now)), frame)
	}
	if n.rec == nil || n.opts.NoCapture {
		return
	}
	n.rec.Frames = append(n.rec.Frames, Frame{Time: n.now, Link: l.name, Summary: frameSummary(frame)})
}

// frameSummary is tcpdump -nn's line for a frame.
func frameSummary(frame []byte) string {
	var p packet.Packet
	if err := p.DecodeEthernet(frame); err != nil && p.Layers&(packet.LayerIPv4|packet.LayerIPv6) == 0 {
		if len(frame) >= 14 && binary.BigEndian.Uint16(frame[12:14]) == packet.EtherTypeARP {
			return arpSummary(frame[14:])
		}
		return fmt.Sprintf("ethertype 0x%04x, length %d", binary.BigEndian.Uint16(frame[12:14]), len(frame)-14)
	}
	if p.Eth.EtherType == packet.EtherTypeARP {
		return arpSummary(frame[14:])
	}
	var buf [256]byte
	return string(p.AppendSummary(buf[:0]))
}

// note adds a line of the simulator's own to the step's output.
func (n *Network) note(s string) {
	if n.rec != nil {
		n.rec.Output = append(n.rec.Output, s)
	}
}

// out adds an application's output line.
func (n *Network) out(s string) {
	if n.rec != nil {
		n.rec.Output = append(n.rec.Output, s)
	}
}

// rng is a splitmix64 source.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) u32() uint32 { return uint32(r.next() >> 32) }
func (r *rng) u16() uint16 { return uint16(r.next() >> 48) }
