package sim

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
	"go.yaml.in/yaml/v3"
)

// Extensions: how another package (sim/ike for IPsec: ipsec.conf on a
// host, the charon daemon on UDP 500 and 4500, "ipsec up NAME" in a
// step) plugs into the simulator without changing it. It registers, from
// an init function:
//
//   - a host field (RegisterHostField), parsed with the file's positions
//     for errors, with an optional Boot that runs on each host having it
//     once the network is up (a daemon opening its sockets);
//   - programs (RegisterProgram), which steps run like ping or ssh.
//
// Both see a host through a HostEnv: its stack (where xfrm states will
// live), the clock, timers, UDP ports, and the step's output. Packets a
// host sends go through its stack and then on the wire like any other;
// ESP and UDP-encapsulated ESP already cross links and show in captures.

// Program is what a step runs on a host: started at the step's time,
// done when it would exit; Finish prints what it prints at exit;
// Outcome is the word assertions compare ("ok", "connected" ...).
type Program interface {
	Start()
	Done() bool
	Finish()
	Outcome() string
}

// ProgramFunc makes the program of a step "HOST: NAME ARGS...". An error
// is printed as the step's output with the outcome "error".
type ProgramFunc func(h *HostEnv, args []string) (Program, error)

var programs = map[string]ProgramFunc{}

// RegisterProgram adds a program steps can run. It panics on a name
// already taken (by a built-in application or a tool).
func RegisterProgram(name string, fn ProgramFunc) {
	if appNames[name] || isTool(name) || programs[name] != nil {
		panic("sim: program " + name + " registered twice")
	}
	programs[name] = fn
}

// HostField is a field of a host in the topology file that a package
// handles.
type HostField struct {
	Name string
	// Parse reads the field's value (errors from f.Errorf carry the
	// file, line and field).
	Parse func(f Field) (any, error)
	// Boot, when set, runs once for every host with the field, after
	// every host is set up and the links are up, before the first step.
	Boot func(h *HostEnv, value any) error
}

var hostFields = map[string]HostField{}

// RegisterHostField adds a host field. It panics on a name taken.
func RegisterHostField(f HostField) {
	for _, k := range builtinHostFields {
		if k == f.Name {
			panic("sim: host field " + f.Name + " is built in")
		}
	}
	if _, dup := hostFields[f.Name]; dup {
		panic("sim: host field " + f.Name + " registered twice")
	}
	hostFields[f.Name] = f
}

func registeredFieldNames() []string {
	var out []string
	for k := range hostFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Field is a registered host field's value in the file.
type Field struct {
	n    node
	topo *Topology
}

// Node is the YAML node of the value.
func (f Field) Node() *yaml.Node { return f.n.n }

// String reads a scalar value.
func (f Field) String() (string, error) { return f.n.str() }

// Strings reads a list of values (or one value).
func (f Field) Strings() ([]string, error) { return f.n.strs() }

// Map reads a mapping of the given keys (others are an error), each
// value a Field.
func (f Field) Map(keys ...string) (map[string]Field, error) {
	m, err := f.n.fields(keys...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Field, len(m))
	for k, v := range m {
		out[k] = Field{n: v, topo: f.topo}
	}
	return out, nil
}

// Errorf is an error at the field, naming the file, line and field.
func (f Field) Errorf(format string, args ...any) error { return f.n.errf(format, args...) }

// Path resolves a file name given in the field against the topology's
// directory.
func (f Field) Path(p string) string { return f.topo.Path(p) }

// HostEnv is a host as an extension sees it.
type HostEnv struct {
	sh *simHost
}

func (sh *simHost) env() *HostEnv { return &HostEnv{sh: sh} }

// Name is the host's name in the topology.
func (h *HostEnv) Name() string { return h.sh.name }

// Stack is the host's packet path (its rules, addresses, routes, and
// later its xfrm states).
func (h *HostEnv) Stack() *stack.Host { return h.sh.h }

// StateDir is the host's state directory.
func (h *HostEnv) StateDir() string { return h.sh.dir }

// Value is the parsed value of a registered host field (nil if the host
// has none).
func (h *HostEnv) Value(field string) any { return h.sh.spec.Extra[field] }

// State is what an extension keeps for the host under key (its running
// daemon), nil when nothing was set: it lives as long as the network.
func (h *HostEnv) State(key string) any { return h.sh.ext(key) }

// SetState keeps v for the host under key.
func (h *HostEnv) SetState(key string, v any) { h.sh.setExt(key, v) }

func (sh *simHost) ext(key string) any { return sh.extState[key] }

func (sh *simHost) setExt(key string, v any) {
	if sh.extState == nil {
		sh.extState = map[string]any{}
	}
	sh.extState[key] = v
}

// Syslog adds a line a daemon of the host writes to syslog under tag
// ("charon"), shown with the step's LOG lines as rsyslog writes it
// ("Jun 20 21:51:02 debian charon: 11[NET] ..."). Outside a step it
// is lost, as LOG lines are.
func (h *HostEnv) Syslog(tag, line string) {
	n := h.sh.n
	if n.rec == nil {
		return
	}
	n.rec.Logs = append(n.rec.Logs, LogLine{Time: n.now, Host: h.sh.name, Hostname: h.sh.spec.Hostname, Tag: tag, Line: line})
}

// Now is the virtual clock in ns.
func (h *HostEnv) Now() int64 { return h.sh.n.now }

// Print adds a line to the running step's output.
func (h *HostEnv) Print(line string) { h.sh.n.out(line) }

// Send hands the host an IP packet one of its sockets sends. It runs as
// soon as the host is done with what it is doing (never inside another
// packet's handling), at the current time.
func (h *HostEnv) Send(ip []byte, sock *stack.Socket) {
	sh := h.sh
	buf := append([]byte(nil), ip...)
	sh.n.schedule(sh.n.now, func() {
		sh.h.Now = sh.n.now
		sh.h.Send(buf, sock)
	})
}

// After runs fn after d of virtual time unless cancelled; a pending timer
// does not keep a step running (a program's Done says when it is over).
func (h *HostEnv) After(d time.Duration, fn func()) (cancel func()) {
	t := &timer{}
	h.sh.n.after(int64(d), t, fn)
	return func() { t.dead = true }
}

// HandleUDP opens a UDP socket on port (every address) and gives fn
// every datagram delivered to it after the host's INPUT chain. The
// packet is only valid during the call. close closes the socket.
func (h *HostEnv) HandleUDP(port uint16, fn func(p *packet.Packet)) (close func(), err error) {
	return h.HandleUDPSocket(stack.Socket{Proto: packet.ProtoUDP, Port: port}, fn)
}

// HandleUDPSocket is HandleUDP for a socket with its own settings (an
// IKE daemon's XfrmBypass): it is a UDP socket on sk.Port bound to
// every address, whatever sk's Proto and Addr say.
func (h *HostEnv) HandleUDPSocket(sk stack.Socket, fn func(p *packet.Packet)) (close func(), err error) {
	sh := h.sh
	port := sk.Port
	if sh.udpHandlers[port] != nil {
		return nil, fmt.Errorf("udp port %d is in use", port)
	}
	sh.udpHandlers[port] = fn
	sk.Proto, sk.Addr = packet.ProtoUDP, netip.Addr{}
	sh.appSockets = append(sh.appSockets, sk)
	sh.syncSockets()
	return func() {
		delete(sh.udpHandlers, port)
		for i, s := range sh.appSockets {
			if s == sk {
				sh.appSockets = append(sh.appSockets[:i], sh.appSockets[i+1:]...)
				break
			}
		}
		sh.syncSockets()
	}, nil
}

// programApp runs a registered program as a step's application.
type programApp struct {
	p Program
}

func (a programApp) start()          { a.p.Start() }
func (a programApp) done() bool      { return a.p.Done() }
func (a programApp) finish()         { a.p.Finish() }
func (a programApp) outcome() string { return a.p.Outcome() }

// boot runs the Boot of the registered fields of every host.
func (n *Network) boot() error {
	for _, sh := range n.hosts {
		for _, name := range registeredFieldNames() {
			v, ok := sh.spec.Extra[name]
			if !ok || hostFields[name].Boot == nil {
				continue
			}
			if err := hostFields[name].Boot(sh.env(), v); err != nil {
				return &SetupError{Host: sh.name, Command: name, Stderr: err.Error()}
			}
		}
		if err := n.bootIPsecRequests(sh); err != nil {
			return err
		}
	}
	return nil
}
