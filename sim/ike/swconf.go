package ike

import (
	"fmt"
	"strconv"
	"strings"
)

// Settings are the strongswan.conf options the model reads (charon.*).
type Settings struct {
	InstallRoutes     bool    // charon.install_routes (yes)
	RoutingTable      int     // charon.routing_table (220)
	RoutingTablePrio  int     // charon.routing_table_prio (220)
	Port              uint16  // charon.port (500)
	PortNATT          uint16  // charon.port_nat_t (4500)
	RetransmitTimeout float64 // charon.retransmit_timeout (4.0 s)
	RetransmitBase    float64 // charon.retransmit_base (1.8)
	RetransmitTries   int     // charon.retransmit_tries (5)
	FragmentSize      int     // charon.fragment_size (1280)
	// StrokeTimeout is charon.plugins.stroke.timeout in ms (0: "ipsec
	// up" waits until the IKE_SA is established or fails).
	StrokeTimeout int
	// HalfOpenTimeout is charon.half_open_timeout (30 s): a responder's
	// IKE_SA not established by then is destroyed.
	HalfOpenTimeout int
}

// DefaultSettings are charon 5.9's defaults (conf/options/charon.opt).
func DefaultSettings() Settings {
	return Settings{InstallRoutes: true, RoutingTable: 220, RoutingTablePrio: 220,
		Port: 500, PortNATT: 4500, RetransmitTimeout: 4.0, RetransmitBase: 1.8,
		RetransmitTries: 5, FragmentSize: 1280, HalfOpenTimeout: 30}
}

// parseSwconf reads strongswan.conf's syntax (settings_parser.y): nested
// "name { ... }" sections and "key = value" lines; "include" lines are
// ignored (the included files are Debian's, all commented out).
func parseSwconf(file, text string) (map[string]string, []Diag) {
	out := map[string]string{}
	var stack []string
	for i, raw := range strings.Split(text, "\n") {
		ln := i + 1
		line := strings.TrimSpace(stripComment(raw))
		for line != "" {
			switch {
			case strings.HasPrefix(line, "}"):
				if len(stack) == 0 {
					return out, []Diag{{File: file, Line: ln, Fatal: true, Msg: "syntax error, unexpected }"}}
				}
				stack = stack[:len(stack)-1]
				line = strings.TrimSpace(line[1:])
				continue
			case strings.HasPrefix(line, "include ") || line == "include":
				line = ""
				continue
			}
			if j := strings.IndexAny(line, "{="); j >= 0 && line[j] == '{' {
				name := strings.TrimSpace(line[:j])
				if name == "" || strings.ContainsAny(name, " \t") {
					return out, []Diag{{File: file, Line: ln, Fatal: true, Msg: "syntax error, unexpected {"}}
				}
				stack = append(stack, name)
				line = strings.TrimSpace(line[j+1:])
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				return out, []Diag{{File: file, Line: ln, Fatal: true, Msg: "syntax error, unexpected NAME, expecting : or '=' or '{'"}}
			}
			v = strings.TrimSpace(v)
			if strings.HasSuffix(v, "}") {
				line = "}"
				v = strings.TrimSpace(strings.TrimSuffix(v, "}"))
			} else {
				line = ""
			}
			v = strings.Trim(v, `"`)
			out[strings.Join(append(append([]string(nil), stack...), k), ".")] = v
		}
	}
	if len(stack) > 0 {
		return out, []Diag{{File: file, Fatal: true, Msg: "syntax error, unexpected end of file, expecting } or NAME"}}
	}
	return out, nil
}

// settingsFrom applies the parsed options to the defaults. Booleans are
// read as settings_value_as_bool does (yes/true/enabled/1 and
// no/false/disabled/0); a bad value keeps the default, as charon does.
func settingsFrom(file string, kv map[string]string) (Settings, []Diag) {
	s := DefaultSettings()
	var diags []Diag
	boolean := func(k string, dst *bool) {
		v, ok := kv[k]
		if !ok {
			return
		}
		switch strings.ToLower(v) {
		case "1", "yes", "true", "enabled":
			*dst = true
		case "0", "no", "false", "disabled":
			*dst = false
		default:
			diags = append(diags, Diag{File: file, Option: k, Msg: fmt.Sprintf("invalid value for %s: %s", k, v)})
		}
	}
	integer := func(k string, dst *int) {
		if v, ok := kv[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				diags = append(diags, Diag{File: file, Option: k, Msg: fmt.Sprintf("invalid value for %s: %s", k, v)})
				return
			}
			*dst = n
		}
	}
	float := func(k string, dst *float64) {
		if v, ok := kv[k]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				diags = append(diags, Diag{File: file, Option: k, Msg: fmt.Sprintf("invalid value for %s: %s", k, v)})
				return
			}
			*dst = f
		}
	}
	boolean("charon.install_routes", &s.InstallRoutes)
	integer("charon.routing_table", &s.RoutingTable)
	integer("charon.routing_table_prio", &s.RoutingTablePrio)
	port, natt := int(s.Port), int(s.PortNATT)
	integer("charon.port", &port)
	integer("charon.port_nat_t", &natt)
	s.Port, s.PortNATT = uint16(port), uint16(natt)
	float("charon.retransmit_timeout", &s.RetransmitTimeout)
	float("charon.retransmit_base", &s.RetransmitBase)
	integer("charon.retransmit_tries", &s.RetransmitTries)
	integer("charon.fragment_size", &s.FragmentSize)
	integer("charon.plugins.stroke.timeout", &s.StrokeTimeout)
	integer("charon.half_open_timeout", &s.HalfOpenTimeout)
	return s, diags
}
