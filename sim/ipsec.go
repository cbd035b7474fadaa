package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/iptwin/iptwin/sim/ike"
	"go.yaml.in/yaml/v3"
)

// strongSwan on a host: the "ipsec" host field gives charon its
// ipsec.conf, ipsec.secrets and strongswan.conf (each a file name
// relative to the topology, or the text itself as a YAML block):
//
//	ipsec:
//	  conf: debian2.ipsec.conf
//	  secrets: |
//	    : PSK "presharedkey"
//	  strongswan: |
//	    charon { install_routes = 0 }
//	  ipsec.d: debian2.ipsec.d     # /etc/ipsec.d: cacerts/, certs/, private/
//
// The files are checked when the topology is read, with starter's and
// charon's words and the line of the mistake. Once the network is up
// charon starts on every host having the field (ipsecd.go): it listens
// on UDP 500 and 4500 (charon.port, charon.port_nat_t), sends its
// datagrams through the host's stack, gives its sockets their bypass
// policies ("socket in/out" in ip xfrm policy: ipsec_sockpol.go),
// installs CHILD_SAs into the host's xfrm database and its routes into
// table 220, and initiates the conns with auto=start. statusall reads
// the SAs' counters and the policies' use times back from the database. Steps run "ipsec up NAME", "ipsec status" ...
// (ipsec_cmd.go).

func init() {
	RegisterHostField(HostField{Name: "ipsec", Parse: parseIPsecField, Boot: bootIPsec})
	RegisterProgram("ipsec", newIPsecCmd)
}

// ipsecSpec is a host's ipsec field: the texts of the three files and
// the contents of /etc/ipsec.d (certificates and keys) by path inside it.
type ipsecSpec struct {
	conf, secrets, swconf string
	files                 map[string][]byte
}

// The files as charon reads them on Debian.
const (
	ipsecConfFile    = "/etc/ipsec.conf"
	ipsecSecretsFile = "/etc/ipsec.secrets"
	ipsecSwconfFile  = "/etc/strongswan.conf"
)

// ipsecPart is one of the field's files while it is parsed: where it was
// given, so that a mistake inside it can be shown at its line.
type ipsecPart struct {
	key    string
	text   string
	file   string // the file name as given; "" for inline text
	at     node
	inline bool
}

func parseIPsecField(f Field) (any, error) {
	m, err := f.Map("conf", "secrets", "strongswan", "ipsec.d")
	if err != nil {
		return nil, err
	}
	if _, ok := m["conf"]; !ok {
		return nil, f.Errorf("conf is missing (ipsec.conf: a file name or its text)")
	}
	parts := map[string]*ipsecPart{}
	for _, key := range []string{"conf", "secrets", "strongswan"} {
		v, ok := m[key]
		if !ok {
			continue
		}
		s, err := v.String()
		if err != nil {
			return nil, err
		}
		p := &ipsecPart{key: key, at: v.n}
		if strings.Contains(s, "\n") || strings.TrimSpace(s) == "" {
			p.text, p.inline = s, true
		} else {
			data, err := os.ReadFile(v.Path(s))
			if err != nil {
				return nil, v.Errorf("%v", unwrapPathError(err))
			}
			p.text, p.file = string(data), s
		}
		parts[key] = p
	}
	spec := &ipsecSpec{}
	if v, ok := m["ipsec.d"]; ok {
		dir, err := v.String()
		if err != nil {
			return nil, err
		}
		if spec.files, err = readIPsecD(v.Path(dir)); err != nil {
			return nil, v.Errorf("%v", unwrapPathError(err))
		}
	}
	names := map[string]*ipsecPart{}
	opt := ike.Options{ConfFile: ipsecConfFile, SecretsFile: ipsecSecretsFile, SwconfFile: ipsecSwconfFile,
		Files: spec.files}
	for _, x := range []struct {
		key  string
		dst  *string
		name *string
	}{{"conf", &spec.conf, &opt.ConfFile}, {"secrets", &spec.secrets, &opt.SecretsFile}, {"strongswan", &spec.swconf, &opt.SwconfFile}} {
		p := parts[x.key]
		if p == nil {
			continue
		}
		*x.dst = p.text
		if p.file != "" {
			*x.name = p.file
		}
		names[*x.name] = p
	}
	// Load as "ipsec start" would: starter's and charon's complaints.
	d := ike.New(opt)
	err = d.Load(spec.conf, spec.secrets, spec.swconf, 0)
	var le *ike.LoadError
	if errors.As(err, &le) && len(le.Diags) > 0 {
		return nil, ipsecLoadError(f, names, le)
	}
	if err != nil {
		return nil, f.Errorf("%v", err)
	}
	return spec, nil
}

// ipsecLoadError places the first complaint of Load: at its line in the
// topology file for a text given inline, else at the field, naming the
// file and its line.
func ipsecLoadError(f Field, names map[string]*ipsecPart, le *ike.LoadError) error {
	dg := le.Diags[0]
	more := ""
	if n := len(le.Diags) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	p := names[dg.File]
	if p == nil {
		return f.Errorf("%s%s", dg.Error(), more)
	}
	if !p.inline {
		return p.at.errf("%s%s", dg.Error(), more)
	}
	e := p.at.errf("%s%s", dg.Msg, more)
	if dg.Line > 0 && p.at.n != nil && p.at.n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// A block's first line is the one after its key.
		e.Line, e.Col = p.at.n.Line+dg.Line, 0
	} else if dg.Line > 0 {
		e.Msg = fmt.Sprintf("line %d: %s", dg.Line, e.Msg)
	}
	return e
}

// readIPsecD reads a directory laid out as /etc/ipsec.d (cacerts/,
// certs/, private/ ...): every file by its path inside it.
func readIPsecD(dir string) (map[string][]byte, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory (want one laid out as /etc/ipsec.d: cacerts/, certs/, private/)", dir)
	}
	files := map[string][]byte{}
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	return files, err
}

// unwrapPathError turns "open x: no such file or directory" into the
// reason alone with the file name once.
func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// bootIPsec starts charon on a host once the network is up.
func bootIPsec(h *HostEnv, v any) error {
	spec, ok := v.(*ipsecSpec)
	if !ok {
		return errors.New("ipsec: bad field value")
	}
	ih := &ipsecd{sh: h.sh, env: h, spec: spec, cmds: map[int]*ipsecUp{},
		idents: map[ipIdentKey]*ipIdent{}, rnd: rng(hostSeed(h.sh.n.seed, h.sh.name, "charon-threads")),
		idRnd: rng(hostSeed(h.sh.n.seed, h.sh.name, "ip-ident"))}
	h.sh.setExt("ipsec", ih)
	return ih.start()
}

// ipsecOf is the charon of a host (nil when it has no ipsec field).
func ipsecOf(sh *simHost) *ipsecd {
	ih, _ := sh.ext("ipsec").(*ipsecd)
	return ih
}
