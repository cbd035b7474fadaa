package ike

import (
	"fmt"
	"sort"
	"strings"
)

// The ipsec.conf grammar of starter (src/starter/parser/lexer.l and
// parser.y): sections begin at column 0 ("config setup", "conn NAME",
// "ca NAME"), their settings are indented "key=value" lines, '#' starts
// a comment, values may be double-quoted. conn %default is merged into
// every conn, "also=NAME" includes another conn's settings where it
// stands.

// setting is one key=value line of a section.
type setting struct {
	key, value string
	line       int
}

// section is a "config setup", "conn" or "ca" section.
type section struct {
	kind, name string
	line       int
	settings   []setting
}

// Diag is a message starter or charon prints about a configuration
// file, with where it comes from.
type Diag struct {
	File   string
	Line   int
	Option string // the keyword, or "" for the whole file or a conn
	Msg    string // strongSwan's words ("# bad option value: mobike=maybe")
	Fatal  bool   // starter rejects the whole file ("config invalid!")
}

func (d Diag) Error() string {
	if d.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg)
	}
	return d.File + ": " + d.Msg
}

// LoadError is returned by Load when a file has errors: starter's
// messages in order. Fatal ones stop everything (starter says "config
// invalid!"); others leave out the conn concerned (or only the setting),
// as starter does, and the rest is loaded.
type LoadError struct {
	Diags []Diag
}

func (e *LoadError) Error() string {
	var b strings.Builder
	for i, d := range e.Diags {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Fatal reports whether nothing was loaded.
func (e *LoadError) Fatal() bool {
	for _, d := range e.Diags {
		if d.Fatal {
			return true
		}
	}
	return false
}

// parseConfFile splits ipsec.conf into sections. A syntax error is
// fatal, in the words of bison ("syntax error, unexpected STRING").
func parseConfFile(file, text string) ([]*section, *Diag) {
	var out []*section
	var cur *section
	for i, raw := range strings.Split(text, "\n") {
		ln := i + 1
		line := stripComment(raw)
		if strings.TrimSpace(line) == "" {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		fields, err := splitWords(strings.TrimSpace(line))
		if err != "" {
			return nil, &Diag{File: file, Line: ln, Msg: err, Fatal: true}
		}
		if !indented {
			switch fields[0] {
			case "config", "conn", "ca":
			case "include":
				// include of further files is not modelled: they are empty
				continue
			case "version":
				continue
			default:
				return nil, &Diag{File: file, Line: ln, Msg: "syntax error, unexpected STRING", Fatal: true}
			}
			if len(fields) != 2 || (fields[0] == "config" && fields[1] != "setup") {
				return nil, &Diag{File: file, Line: ln, Msg: "syntax error, unexpected STRING", Fatal: true}
			}
			cur = &section{kind: fields[0], name: fields[1], line: ln}
			out = append(out, cur)
			continue
		}
		if cur == nil {
			return nil, &Diag{File: file, Line: ln, Msg: "syntax error, unexpected STRING", Fatal: true}
		}
		key, value, ok := splitSetting(strings.TrimSpace(line))
		if !ok {
			return nil, &Diag{File: file, Line: ln, Msg: "syntax error, unexpected STRING", Fatal: true}
		}
		cur.settings = append(cur.settings, setting{key: key, value: value, line: ln})
	}
	return out, nil
}

func stripComment(s string) string {
	inq := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inq = !inq
		case '#':
			if !inq {
				return s[:i]
			}
		}
	}
	return s
}

// splitWords splits a section header.
func splitWords(s string) ([]string, string) {
	return strings.Fields(s), ""
}

// splitSetting reads key=value, the value unquoted.
func splitSetting(s string) (string, string, bool) {
	i := strings.IndexByte(s, '=')
	if i <= 0 {
		return "", "", false
	}
	key := strings.TrimSpace(s[:i])
	val := strings.TrimSpace(s[i+1:])
	if strings.ContainsAny(key, " \t") {
		return "", "", false
	}
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	} else if strings.ContainsAny(val, " \t") {
		return "", "", false
	}
	return key, val, true
}

// resolveConns merges %default and also= into each conn: the settings in
// the order they take effect (later wins). A missing also= section is
// fatal, as in starter (conf_parser.c).
func resolveConns(file string, secs []*section) (map[string][]setting, []string, *Diag) {
	conns := map[string]*section{}
	var order []string
	var def []setting
	for _, s := range secs {
		if s.kind != "conn" {
			continue
		}
		if s.name == "%default" {
			def = append(def, s.settings...)
			continue
		}
		if old, ok := conns[s.name]; ok {
			old.settings = append(old.settings, s.settings...)
			continue
		}
		conns[s.name] = s
		order = append(order, s.name)
	}
	out := map[string][]setting{}
	for _, name := range order {
		var merged []setting
		var expand func(s *section, seen map[string]bool) *Diag
		expand = func(s *section, seen map[string]bool) *Diag {
			for _, st := range s.settings {
				if st.key == "also" {
					for _, ref := range strings.Fields(st.value) {
						t, ok := conns[ref]
						if !ok {
							return &Diag{File: file, Line: st.line, Option: "also", Fatal: true,
								Msg: fmt.Sprintf("section '%s' referenced in section '%s' not found", ref, s.name)}
						}
						if seen[ref] {
							return &Diag{File: file, Line: st.line, Option: "also", Fatal: true,
								Msg: fmt.Sprintf("section '%s' referenced in section '%s' already included", ref, s.name)}
						}
						seen[ref] = true
						if d := expand(t, seen); d != nil {
							return d
						}
					}
					continue
				}
				merged = append(merged, st)
			}
			return nil
		}
		if d := expand(conns[name], map[string]bool{name: true}); d != nil {
			return nil, nil, d
		}
		// %default applies to what the conn leaves unset.
		set := map[string]bool{}
		for _, st := range merged {
			set[st.key] = true
		}
		var full []setting
		for _, st := range def {
			if !set[st.key] {
				full = append(full, st)
			}
		}
		out[name] = append(full, merged...)
	}
	return out, order, nil
}

// knownKeywords are starter's keywords (keywords.txt): those the model
// reads and those it accepts without effect.
var knownKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`charondebug uniqueids cachecrls strictcrlpolicy keyexchange type
	compress installpolicy aggressive authby eap_identity aaa_identity mobike forceencaps fragmentation
	ikedscp ikelifetime lifetime keylife rekeymargin margintime lifebytes marginbytes lifepackets
	marginpackets keyingtries rekeyfuzz rekey reauth ike esp ah dpddelay dpdtimeout dpdaction
	closeaction sha256_96 inactivity modeconfig xauth xauth_identity mediation mediated_by me_peerid
	reqid replay_window mark mark_in mark_out tfc cacert crluri crluri1 crluri2 ocspuri ocspuri1
	ocspuri2 certuribase also auto`) {
		m[k] = true
	}
	for _, k := range strings.Fields(`ikeport subnet subnetwithin protoport sourceip dns firewall
	hostaccess allowany updown auth auth2 id id2 sigkey rsasigkey cert cert2 certpolicy sendcert ca ca2
	groups groups2`) {
		m["left"+k] = true
		m["right"+k] = true
	}
	m["left"], m["right"] = true, true
	return m
}()

// setupKeywords may only appear in "config setup".
var setupKeywords = map[string]bool{"charondebug": true, "uniqueids": true, "cachecrls": true, "strictcrlpolicy": true}

// deprecatedKeywords are accepted with a warning (is_deprecated).
var deprecatedKeywords = map[string]bool{
	"interfaces": true, "dumpdir": true, "charonstart": true, "plutostart": true, "klipsdebug": true,
	"plutodebug": true, "prepluto": true, "postpluto": true, "plutostderrlog": true, "fragicmp": true,
	"packetdefault": true, "hidetos": true, "overridemtu": true, "crlcheckinterval": true,
	"nocrsend": true, "nat_traversal": true, "keep_alive": true, "force_keepalive": true,
	"virtual_private": true, "pfs": true, "pfsgroup": true, "eap": true, "leftnexthop": true,
	"rightnexthop": true,
}

// checkSetup reports the settings of "config setup" starter complains about.
func checkSetup(file string, secs []*section) []Diag {
	var out []Diag
	for _, s := range secs {
		if s.kind != "config" {
			continue
		}
		for _, st := range s.settings {
			switch {
			case deprecatedKeywords[st.key]:
				out = append(out, Diag{File: file, Line: st.line, Option: st.key,
					Msg: fmt.Sprintf("# deprecated keyword '%s' in config setup", st.key)})
			case !knownKeywords[st.key]:
				out = append(out, Diag{File: file, Line: st.line, Option: st.key,
					Msg: fmt.Sprintf("# unknown keyword '%s'", st.key)})
			case !setupKeywords[st.key]:
				out = append(out, Diag{File: file, Line: st.line, Option: st.key,
					Msg: fmt.Sprintf("# unsupported keyword '%s' in config setup", st.key)})
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
