package ike

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// End is one side of a conn (left or right) as written.
type End struct {
	Host     string         // left=: an address, a name, %any, %defaultroute ("" is %any)
	ID       string         // leftid=; "" means the address
	Subnets  []netip.Prefix // leftsubnet=; none: the host's own address (dynamic)
	IKEPort  uint16         // leftikeport=; 0: charon's port (500, floating to 4500)
	Auth     string         // leftauth= / authby=
	AllowAny bool
	// CertFile is leftcert= (relative to /etc/ipsec.d/certs), Cert the
	// certificate Load found there; SendCert is leftsendcert= (ifasked,
	// always, never).
	CertFile string
	Cert     *cert
	SendCert string
}

// Conn is a conn section after %default and also=.
type Conn struct {
	Name          string
	Line          int
	KeyExchange   string // ike, ikev1, ikev2
	Left, Right   End
	Auto          string // ignore, add, route, start
	Mode          string // tunnel, transport, pass, drop
	IKE, ESP      []*Proposal
	Mobike        bool
	ForceEncaps   bool
	Fragmentation string // yes, accept, force, no
	KeyingTries   int    // 0: %forever
	IKELifetime   time.Duration
	Lifetime      time.Duration
	Margin        time.Duration
	RekeyFuzz     int // percent
	Reauth, Rekey bool
	DPDAction     string
	DPDDelay      time.Duration
	Reqid         uint32
	ReplayWindow  int
}

// defaultConn is a conn with starter's and charon's defaults (ipsec.conf(5)).
func defaultConn(name string) *Conn {
	return &Conn{
		Name: name, KeyExchange: "ike", Auto: "ignore", Mode: "tunnel",
		IKE: defaultProposals(protoIKE), ESP: defaultProposals(protoESP),
		Mobike: true, Fragmentation: "yes", KeyingTries: 3,
		IKELifetime: 3 * time.Hour, Lifetime: time.Hour, Margin: 9 * time.Minute, RekeyFuzz: 100,
		Reauth: true, Rekey: true, DPDAction: "none", DPDDelay: 30 * time.Second, ReplayWindow: 32,
		Left: End{Auth: "pubkey", SendCert: "ifasked"}, Right: End{Auth: "pubkey", SendCert: "ifasked"},
	}
}

// buildConn interprets a conn's settings: errors in starter's words
// (confread.c); a conn with errors is ignored, as starter does.
func buildConn(file, name string, line int, settings []setting) (*Conn, []Diag) {
	c := defaultConn(name)
	c.Line = line
	var diags []Diag
	errs := 0
	bad := func(st setting, msg string) {
		diags = append(diags, Diag{File: file, Line: st.line, Option: st.key, Msg: msg})
		errs++
	}
	badArg := func(st setting, msg string) {
		bad(st, msg)
		diags = append(diags, Diag{File: file, Line: st.line, Option: st.key,
			Msg: fmt.Sprintf("  bad argument value in conn '%s'", name)})
	}
	yesno := func(st setting, yes, no string, dst *bool) {
		switch st.value {
		case yes:
			*dst = true
		case no:
			*dst = false
		default:
			bad(st, fmt.Sprintf("# bad option value: %s=%s", st.key, st.value))
		}
	}
	duration := func(st setting, dst *time.Duration) {
		d, ok := parseTime(st.value)
		if !ok {
			badArg(st, fmt.Sprintf("# bad duration value: %s=%s", st.key, st.value))
			return
		}
		*dst = d
	}
	authby := ""
	for _, st := range settings {
		k, v := st.key, st.value
		if deprecatedKeywords[k] {
			diags = append(diags, Diag{File: file, Line: st.line, Option: k,
				Msg: fmt.Sprintf("# deprecated keyword '%s' in conn '%s'", k, name)})
			continue
		}
		if !knownKeywords[k] {
			diags = append(diags, Diag{File: file, Line: st.line, Option: k,
				Msg: fmt.Sprintf("# unknown keyword '%s'", k)})
			continue
		}
		if setupKeywords[k] {
			bad(st, fmt.Sprintf("# unsupported keyword '%s' in conn '%s'", k, name))
			continue
		}
		end := &c.Left
		ek := k
		switch {
		case strings.HasPrefix(k, "left"):
			ek = k[4:]
		case strings.HasPrefix(k, "right"):
			end, ek = &c.Right, k[5:]
		default:
			end = nil
		}
		if end != nil {
			switch ek {
			case "":
				end.Host = v
				if strings.HasPrefix(v, "%") && v != "%any" && v != "%defaultroute" && v != "%any4" && v != "%any6" {
					end.Host = v[1:]
					end.AllowAny = true
				}
			case "id":
				end.ID = v
			case "subnet":
				end.Subnets = nil
				for _, s := range strings.Split(v, ",") {
					s = strings.TrimSpace(s)
					p, err := parseSubnet(s)
					if err != nil {
						// stroke_config.c add_ts: the token is skipped
						diags = append(diags, Diag{File: file, Line: st.line, Option: k,
							Msg: fmt.Sprintf("invalid subnet: %s, skipped", s)})
						continue
					}
					end.Subnets = append(end.Subnets, p)
				}
			case "ikeport":
				n, err := strconv.ParseUint(v, 10, 16)
				if err != nil || n == 0 {
					badArg(st, fmt.Sprintf("# bad integer value: %s=%s", k, v))
					continue
				}
				end.IKEPort = uint16(n)
			case "auth":
				end.Auth = v
			case "cert":
				end.CertFile = v
			case "sendcert":
				switch v {
				case "always", "yes":
					end.SendCert = "always"
				case "ifasked":
					end.SendCert = "ifasked"
				case "never", "no":
					end.SendCert = "never"
				default:
					badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
				}
			case "allowany":
				yesno(st, "yes", "no", &end.AllowAny)
			}
			continue
		}
		switch k {
		case "keyexchange":
			switch v {
			case "ike", "ikev1", "ikev2":
				c.KeyExchange = v
			default:
				badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
			}
		case "type":
			switch v {
			case "tunnel", "transport":
				c.Mode = v
			case "passthrough", "pass":
				c.Mode = "pass"
			case "drop", "reject":
				c.Mode = "drop"
			case "beet", "transport_proxy":
				c.Mode = v
			default:
				bad(st, fmt.Sprintf("# bad policy value: %s=%s", k, v))
			}
		case "auto":
			switch v {
			case "ignore", "add", "route", "start":
				c.Auto = v
			default:
				badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
			}
		case "authby":
			switch v {
			case "secret", "psk", "rsasig", "pubkey", "ecdsasig", "never", "xauthpsk", "xauthrsasig", "rsa", "ecdsa":
				authby = v
			default:
				badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
			}
		case "ike", "esp":
			proto := uint8(protoIKE)
			if k == "esp" {
				proto = protoESP
			}
			ps, tok, ok := parseProposals(proto, v)
			if !ok {
				// stroke_config.c add_proposals
				diags = append(diags, Diag{File: file, Line: st.line, Option: k,
					Msg: fmt.Sprintf("skipped invalid proposal string: %s", tok)})
				errs++
				continue
			}
			if k == "ike" {
				c.IKE = ps
			} else {
				c.ESP = ps
			}
		case "mobike":
			yesno(st, "yes", "no", &c.Mobike)
		case "forceencaps":
			yesno(st, "yes", "no", &c.ForceEncaps)
		case "reauth":
			yesno(st, "yes", "no", &c.Reauth)
		case "rekey":
			yesno(st, "yes", "no", &c.Rekey)
		case "fragmentation":
			switch v {
			case "yes", "accept", "force", "no":
				c.Fragmentation = v
			default:
				badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
			}
		case "keyingtries":
			if v == "%forever" {
				c.KeyingTries = 0
				continue
			}
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				bad(st, fmt.Sprintf("# bad integer value: %s=%s", k, v))
				continue
			}
			c.KeyingTries = int(n)
		case "ikelifetime":
			duration(st, &c.IKELifetime)
		case "lifetime", "keylife":
			duration(st, &c.Lifetime)
		case "rekeymargin", "margintime":
			duration(st, &c.Margin)
		case "dpddelay":
			duration(st, &c.DPDDelay)
		case "rekeyfuzz":
			n, err := strconv.ParseUint(strings.TrimSuffix(v, "%"), 10, 32)
			if err != nil {
				badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
				continue
			}
			c.RekeyFuzz = int(n)
		case "dpdaction":
			switch v {
			case "none", "clear", "hold", "restart":
				c.DPDAction = v
			default:
				badArg(st, fmt.Sprintf("# bad value: %s=%s", k, v))
			}
		case "reqid":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				badArg(st, fmt.Sprintf("# bad integer value: %s=%s", k, v))
				continue
			}
			c.Reqid = uint32(n)
		case "replay_window":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				badArg(st, fmt.Sprintf("# bad integer value: %s=%s", k, v))
				continue
			}
			c.ReplayWindow = int(n)
		}
	}
	switch authby {
	case "secret", "psk":
		c.Left.Auth, c.Right.Auth = "psk", "psk"
	case "":
	default:
		c.Left.Auth, c.Right.Auth = "pubkey", "pubkey"
	}
	if errs > 0 {
		s := ""
		if errs > 1 {
			s = "s"
		}
		diags = append(diags, Diag{File: file, Line: line,
			Msg: fmt.Sprintf("# ignored conn '%s' due to %d parsing error%s", name, errs, s)})
		return nil, diags
	}
	return c, diags
}

// parseSubnet reads a leftsubnet token: a prefix or an address.
func parseSubnet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseTime reads a duration as starter does: a number with an optional
// s, m, h or d suffix.
func parseTime(s string) (time.Duration, bool) {
	unit := time.Second
	switch {
	case strings.HasSuffix(s, "s"):
		s = s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		s, unit = s[:len(s)-1], time.Minute
	case strings.HasSuffix(s, "h"):
		s, unit = s[:len(s)-1], time.Hour
	case strings.HasSuffix(s, "d"):
		s, unit = s[:len(s)-1], 24*time.Hour
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
