package ike

import (
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Transport sends the daemon's UDP datagrams. The payload is the UDP
// payload as it goes on the wire: on the NAT-T port it begins with the
// four zero bytes of the non-ESP marker (RFC 3948).
type Transport interface {
	Send(src, dst netip.AddrPort, payload []byte)
}

// Net is what charon learns from the kernel about the host's network
// (kernel_netlink_net.c).
type Net interface {
	// Addrs lists the host's usable addresses in interface order (up,
	// not loopback, not link-local): charon's "Listening IP addresses",
	// the MOBIKE additional addresses and the candidates for a route's
	// src.
	Addrs() []netip.Addr
	// Route is the FIB's answer for dst: the preferred source, the
	// gateway (invalid when dst is on-link) and the output device.
	Route(dst netip.Addr) (src, gateway netip.Addr, dev string, ok bool)
}

// Installer puts what a CHILD_SA needs into the kernel (xfrm states and
// policies, routes in table 220 and the ip rule that selects it). Errors
// fail the CHILD_SA as the kernel's errors do in charon.
type Installer interface {
	AddRule(r Rule) error
	AddSA(sa SA) error
	AddPolicy(p Policy) error
	AddRoute(r Route) error
}

// Datagram is a UDP datagram delivered to the daemon (port 500 or 4500
// of one of its addresses). Payload is the UDP payload (with the
// non-ESP marker on 4500).
type Datagram struct {
	Src, Dst netip.AddrPort
	Payload  []byte
}

// Output is a line charon logs. Cmd is the "ipsec up" command that
// shows it (Up's id), 0 when only the daemon's log has it. Group is
// charon's log group (IKE, NET, ENC, CFG, CHD, KNL). The last Output of
// a command has Done set, with OK telling how it ended; its Line is the
// last line stroke prints ("connection 'x' established successfully").
type Output struct {
	Time  int64
	Cmd   int
	Group string
	Line  string
	Done  bool
	OK    bool
}

// Options configure a Daemon.
type Options struct {
	Transport Transport
	Net       Net
	Installer Installer // nil: nothing is installed
	// Query reads the kernel's counters of the installed SAs and
	// policies for statusall; nil: they read 0.
	Query Querier
	// Resolve looks up a host name of left=/right= (the host's
	// /etc/hosts and DNS). Nil: names do not resolve.
	Resolve func(name string) (netip.Addr, bool)
	// Seed of the daemon's random source (SPIs, nonces, key exchange
	// data, rekey jitter).
	Seed uint64
	// Kernel is the uname shown by statusall (default "6.1.0-28-amd64").
	Kernel string
	// Epoch is the wall clock at virtual time 0 (statusall's "since");
	// default 2026-01-01 00:00:00 UTC.
	Epoch time.Time
	// File names used in error messages.
	ConfFile, SecretsFile, SwconfFile string
	// Files are the contents of /etc/ipsec.d by path inside it:
	// "cacerts/caCert.pem", "certs/moonCert.pem" (leftcert=),
	// "private/moonKey.pem" (": RSA moonKey.pem" in ipsec.secrets).
	Files map[string][]byte
}

// Daemon is charon (with starter's view of ipsec.conf) on one host.
type Daemon struct {
	opt      Options
	rnd      *rand.Rand
	settings Settings
	conns    []*Conn
	secrets  []psk
	cas      []*cert   // /etc/ipsec.d/cacerts
	keys     []privKey // the RSA keys of ipsec.secrets
	loaded   bool
	started  int64

	sas       []*ikeSA
	nextIKE   int // unique IKE_SA ids ([1])
	nextChild int // unique CHILD_SA ids ({1})
	nextReqid uint32
	nextCmd   int

	now int64
	out []Output
}

// New makes a daemon; Load gives it its configuration.
func New(opt Options) *Daemon {
	if opt.ConfFile == "" {
		opt.ConfFile = "/etc/ipsec.conf"
	}
	if opt.SecretsFile == "" {
		opt.SecretsFile = "/etc/ipsec.secrets"
	}
	if opt.SwconfFile == "" {
		opt.SwconfFile = "/etc/strongswan.conf"
	}
	if opt.Kernel == "" {
		opt.Kernel = "6.1.0-28-amd64"
	}
	if opt.Epoch.IsZero() {
		opt.Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return &Daemon{opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15)),
		settings: DefaultSettings(), nextIKE: 1, nextChild: 1, nextReqid: 1, nextCmd: 1}
}

// Load reads ipsec.conf, ipsec.secrets and strongswan.conf (their
// contents) as "ipsec start" does, at time now (for statusall's
// uptime). Conns with errors are left out and the others loaded; the
// returned *LoadError lists every message, and its Fatal says whether
// nothing could be loaded (a syntax error, a missing also= section).
func (d *Daemon) Load(conf, secrets, swconf string, now int64) error {
	var diags []Diag
	kv, ds := parseSwconf(d.opt.SwconfFile, swconf)
	diags = append(diags, ds...)
	settings, ds := settingsFrom(d.opt.SwconfFile, kv)
	diags = append(diags, ds...)
	secs, fatal := parseConfFile(d.opt.ConfFile, conf)
	if fatal != nil {
		return &LoadError{Diags: append(diags, *fatal)}
	}
	diags = append(diags, checkSetup(d.opt.ConfFile, secs)...)
	merged, order, fatal := resolveConns(d.opt.ConfFile, secs)
	if fatal != nil {
		return &LoadError{Diags: append(diags, *fatal)}
	}
	var conns []*Conn
	for _, name := range order {
		line := 0
		for _, s := range secs {
			if s.kind == "conn" && s.name == name {
				line = s.line
				break
			}
		}
		c, ds := buildConn(d.opt.ConfFile, name, line, merged[name])
		diags = append(diags, ds...)
		if c != nil && c.Auto != "ignore" {
			conns = append(conns, c)
		}
	}
	keys, refs, ds := parseSecretsKeys(d.opt.SecretsFile, secrets)
	diags = append(diags, ds...)
	cas, ds := loadCACerts(d.opt.Files)
	diags = append(diags, ds...)
	var privs []privKey
	for _, r := range refs {
		path := filePath("private", r.file)
		data, ok := d.opt.Files[path]
		if !ok {
			diags = append(diags, Diag{File: d.opt.SecretsFile, Line: r.line,
				Msg: fmt.Sprintf("  loading private key from '%s' failed: no such file", ipsecDir+path)})
			continue
		}
		k, err := parseKey(data)
		if err != nil {
			diags = append(diags, Diag{File: d.opt.SecretsFile, Line: r.line,
				Msg: fmt.Sprintf("  loading private key from '%s' failed: %v", ipsecDir+path, err)})
			continue
		}
		privs = append(privs, privKey{k: k, file: ipsecDir + path})
	}
	for _, c := range conns {
		for _, e := range []*End{&c.Left, &c.Right} {
			if e.CertFile == "" {
				continue
			}
			path := filePath("certs", e.CertFile)
			data, ok := d.opt.Files[path]
			var x *x509.Certificate
			var err error
			if ok {
				x, err = parseCert(data)
			}
			if !ok || err != nil {
				// stroke_cred.c load_peer: the conn is added without it
				diags = append(diags, Diag{File: d.opt.ConfFile, Line: c.Line,
					Msg: fmt.Sprintf("  loading certificate from '%s' failed", e.CertFile)})
				continue
			}
			e.Cert = &cert{x: x, file: e.CertFile}
			// stroke_config.c: an ID the certificate does not confirm is
			// replaced by its subject
			if e.ID == "" || e.ID == "%any" || !idMatchesCert(parseIdentity(e.ID), x) {
				e.ID = e.Cert.subject()
			}
		}
	}
	d.settings, d.conns, d.secrets, d.loaded, d.started = settings, conns, keys, true, now
	d.cas, d.keys = cas, privs
	if settings.InstallRoutes && d.opt.Installer != nil {
		// kernel_netlink_net.c: the rule "from all lookup 220" at startup
		if err := d.opt.Installer.AddRule(Rule{Priority: settings.RoutingTablePrio, Table: settings.RoutingTable}); err != nil {
			diags = append(diags, Diag{File: d.opt.SwconfFile, Msg: "unable to create routing table rule: " + err.Error()})
		}
	}
	if len(diags) > 0 {
		return &LoadError{Diags: diags}
	}
	return nil
}

// Settings are the strongswan.conf options in effect (after Load).
func (d *Daemon) Settings() Settings { return d.settings }

// Conns are the loaded connections.
func (d *Daemon) Conns() []*Conn { return d.conns }

func (d *Daemon) conn(name string) *Conn {
	for _, c := range d.conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// log records a line.
func (d *Daemon) log(cmd int, group, format string, args ...any) {
	d.out = append(d.out, Output{Time: d.now, Cmd: cmd, Group: group, Line: fmt.Sprintf(format, args...)})
}

func (d *Daemon) done(cmd int, ok bool, line string) {
	if cmd == 0 {
		return
	}
	d.out = append(d.out, Output{Time: d.now, Cmd: cmd, Line: line, Done: true, OK: ok})
}

func (d *Daemon) take() []Output {
	out := d.out
	d.out = nil
	return out
}

// Up is "ipsec up NAME": it starts the IKE_SA and returns what is
// printed at once. Later lines come from Handle and Tick with the same
// Cmd.
func (d *Daemon) Up(name string, now int64) []Output {
	d.now = now
	cmd := d.nextCmd
	d.nextCmd++
	c := d.conn(name)
	if c == nil {
		d.out = append(d.out, Output{Time: now, Cmd: cmd, Group: "CFG", Line: fmt.Sprintf("no config named '%s'", name), Done: true})
		return d.take()
	}
	sa := d.newIKESA(c, true)
	sa.cmd = cmd
	d.initiate(sa)
	return d.take()
}

// Handle gives the daemon a datagram received on port 500 or 4500.
func (d *Daemon) Handle(p Datagram, now int64) []Output {
	d.now = now
	d.receive(p)
	return d.take()
}

// Tick runs the timers due at now (retransmissions).
func (d *Daemon) Tick(now int64) []Output {
	d.now = now
	for _, sa := range append([]*ikeSA(nil), d.sas...) {
		if sa.pending != nil && sa.pending.deadline <= now {
			d.retransmit(sa)
		}
		if sa.halfOpen() && sa.halfOpenAt <= now {
			// delete_ike_sa_job.c: a responder's IKE_SA not established
			// after charon.half_open_timeout
			d.log(0, "JOB", "deleting half open IKE_SA with %s after timeout", sa.other.Addr().Unmap())
			sa.state = stDestroying
			sa.pending = nil
			d.removeSA(sa)
		}
	}
	return d.take()
}

// NextTimer is when Tick has something to do next.
func (d *Daemon) NextTimer() (int64, bool) {
	best, ok := int64(0), false
	for _, sa := range d.sas {
		if sa.pending != nil && (!ok || sa.pending.deadline < best) {
			best, ok = sa.pending.deadline, true
		}
		if sa.halfOpen() && (!ok || sa.halfOpenAt < best) {
			best, ok = sa.halfOpenAt, true
		}
	}
	return best, ok
}

// halfOpen: a responder's IKE_SA still connecting, with its timeout.
func (sa *ikeSA) halfOpen() bool {
	return !sa.initiator && sa.state == stConnecting && sa.halfOpenAt > 0
}

// resolveHost turns left=/right= into an address (the zero Addr for
// %any and %defaultroute).
func (d *Daemon) resolveHost(h string) (netip.Addr, bool) {
	switch h {
	case "", "%any", "%defaultroute", "%any4", "%any6":
		return netip.Addr{}, true
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	if d.opt.Resolve != nil {
		if a, ok := d.opt.Resolve(h); ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (d *Daemon) addrs() []netip.Addr {
	if d.opt.Net == nil {
		return nil
	}
	return d.opt.Net.Addrs()
}

func (d *Daemon) isLocal(a netip.Addr) bool {
	for _, l := range d.addrs() {
		if l == a {
			return true
		}
	}
	return false
}

// ends returns a conn's local and remote ends: left is local unless
// right names one of the host's addresses (stroke_config.c).
func (d *Daemon) ends(c *Conn) (local, remote *End) {
	if a, ok := d.resolveHost(c.Right.Host); ok && a.IsValid() && d.isLocal(a) {
		if b, ok := d.resolveHost(c.Left.Host); !ok || !b.IsValid() || !d.isLocal(b) {
			return &c.Right, &c.Left
		}
	}
	return &c.Left, &c.Right
}

func (d *Daemon) randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(d.rnd.Uint32())
	}
	return b
}

// allocSPI is the kernel's XFRM_MSG_ALLOCSPI in charon's range
// (charon.spi_min/spi_max: 0xc0000000-0xcfffffff).
func (d *Daemon) allocSPI() uint32 { return 0xc0000000 | d.rnd.Uint32()&0x0fffffff }

func (d *Daemon) removeSA(sa *ikeSA) {
	for i, s := range d.sas {
		if s == sa {
			d.sas = append(d.sas[:i], d.sas[i+1:]...)
			return
		}
	}
}

// hostPort formats charon's %#H: "10.0.0.200[500]".
func hostPort(ap netip.AddrPort) string {
	return ap.Addr().Unmap().String() + "[" + itoa(int(ap.Port())) + "]"
}

func sortedConnNames(cs []*Conn) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

var _ = strings.TrimSpace
