package ike

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// psk is a PSK line of ipsec.secrets: its owners (none: %any).
type psk struct {
	ids    []string
	secret []byte
}

// keyRef is an RSA line of ipsec.secrets: the key file it names.
type keyRef struct {
	file string
	line int
}

// parseSecrets reads ipsec.secrets as stroke_cred.c load_secrets does:
// "[ID ...] : PSK secret" lines and ": RSA keyfile" (other kinds are
// accepted and ignored). The first bad line stops the reading, as in
// charon.
func parseSecrets(file, text string) ([]psk, []Diag) {
	keys, _, diags := parseSecretsKeys(file, text)
	return keys, diags
}

func parseSecretsKeys(file, text string) ([]psk, []keyRef, []Diag) {
	var out []psk
	var refs []keyRef
	for i, raw := range strings.Split(text, "\n") {
		ln := i + 1
		line := strings.TrimSpace(stripComment(raw))
		if line == "" || strings.HasPrefix(line, "include ") {
			continue
		}
		var ids, rest string
		if strings.HasPrefix(line, ": ") || line == ":" {
			rest = line[1:]
		} else if j := strings.Index(line, " : "); j >= 0 {
			ids, rest = line[:j], line[j+3:]
		} else {
			return out, refs, []Diag{{File: file, Line: ln, Msg: fmt.Sprintf("line %d: missing ' : ' separator", ln)}}
		}
		rest = strings.TrimSpace(rest)
		tok, arg, _ := strings.Cut(rest, " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToUpper(tok) {
		case "":
			return out, refs, []Diag{{File: file, Line: ln, Msg: fmt.Sprintf("line %d: missing token", ln)}}
		case "RSA", "PKCS8":
			name := strings.Trim(strings.Fields(arg + " x")[0], `"'`)
			if arg == "" {
				return out, refs, []Diag{{File: file, Line: ln, Msg: fmt.Sprintf("line %d: missing filename", ln)}}
			}
			refs = append(refs, keyRef{file: name, line: ln})
		case "ECDSA", "BLISS", "P12", "PIN", "EAP", "NTLM", "XAUTH":
			continue
		case "PSK":
			secret, ugh := extractSecret(arg)
			if ugh != "" {
				return out, refs, []Diag{{File: file, Line: ln, Option: "PSK", Msg: fmt.Sprintf("line %d: malformed secret: %s", ln, ugh)}}
			}
			var owners []string
			for _, id := range strings.Fields(ids) {
				owners = append(owners, strings.Trim(id, `"'`))
			}
			out = append(out, psk{ids: owners, secret: secret})
		default:
			return out, refs, []Diag{{File: file, Line: ln, Msg: fmt.Sprintf("line %d: token must be either RSA, ECDSA, BLISS, PKCS8 P12, PIN, PSK, EAP, XAUTH or NTLM", ln)}}
		}
	}
	return out, refs, nil
}

// extractSecret reads a quoted string, 0x hex or 0s base64 secret.
func extractSecret(s string) ([]byte, string) {
	if s == "" {
		return nil, "missing secret"
	}
	if s[0] == '"' || s[0] == '\'' {
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return nil, "missing second delimiter"
		}
		return []byte(s[1 : 1+end]), ""
	}
	s = strings.Fields(s)[0]
	switch {
	case strings.HasPrefix(s, "0x"):
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, "invalid hex"
		}
		return b, ""
	case strings.HasPrefix(s, "0s"):
		b, err := base64.StdEncoding.DecodeString(s[2:])
		if err != nil {
			return nil, "invalid base64"
		}
		return b, ""
	}
	return []byte(s), ""
}

// findPSK returns the best PSK for the two identities (mem_cred.c: the
// owners must match one of them; exact matches beat %any).
func findPSK(keys []psk, me, other string) ([]byte, bool) {
	best, bestScore := []byte(nil), 0
	for _, k := range keys {
		m, o := 1, 1 // no owners: %any
		if len(k.ids) > 0 {
			m, o = ownerMatch(k.ids, me), ownerMatch(k.ids, other)
			if m == 0 && o == 0 {
				continue
			}
		}
		if s := m + o; s > bestScore {
			best, bestScore = k.secret, s
		}
	}
	return best, best != nil
}

func ownerMatch(ids []string, id string) int {
	best := 0
	for _, o := range ids {
		switch {
		case o == id || strings.TrimPrefix(o, "@") == strings.TrimPrefix(id, "@"):
			return 3
		case o == "%any" || o == "%any6":
			best = 1
		}
	}
	return best
}
