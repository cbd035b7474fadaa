package state

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/xtables"
)

// LoadRaw reads a family's state file as RawTables in iptables-save's
// table order; ok is false when the file cannot be read that way (the
// caller then loads it properly).
func (d *Dir) LoadRaw(f xtables.Family) (tables []*iptables.RawTable, ok bool) {
	data, err := os.ReadFile(filepath.Join(d.Path, rulesFile(f)))
	if os.IsNotExist(err) {
		return nil, true
	}
	if err != nil {
		return nil, false
	}
	byName := map[string]*iptables.RawTable{}
	var t *iptables.RawTable
	var chains map[string]*iptables.RawChain
	// One string for the whole file, which nothing changes: rule specs
	// are slices of it.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	saveSpec, haveSave := "", false // from a "#s -A CHAIN spec" line
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			return nil, false // the writer always ends lines
		}
		line := text[:i]
		text = text[i+1:]
		if strings.HasPrefix(line, "#q ") {
			u, err := strconv.Unquote(line[3:])
			if err != nil {
				return nil, false
			}
			line = u
		}
		switch {
		case strings.HasPrefix(line, "*"):
			t = &iptables.RawTable{Name: line[1:]}
			chains = map[string]*iptables.RawChain{}
			for _, h := range xtables.TableHooks[t.Name] {
				c := &iptables.RawChain{Name: xtables.HookNames[h], Builtin: true, Policy: xtables.VerdictAccept}
				t.Chains = append(t.Chains, c)
				chains[c.Name] = c
			}
			byName[t.Name] = t
		case line == "COMMIT":
			t = nil
		case strings.HasPrefix(line, "#s -A "):
			rest := line[6:]
			sp := strings.IndexByte(rest, ' ')
			saveSpec, haveSave = "", true
			if sp >= 0 {
				saveSpec = rest[sp:]
			}
		case t != nil && strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) != 3 {
				return nil, false
			}
			cnt, ok := parseCounters(f[2])
			if !ok {
				return nil, false
			}
			c := chains[f[0]]
			if c == nil {
				c = &iptables.RawChain{Name: f[0]}
				t.Chains = append(t.Chains, c)
				chains[c.Name] = c
			}
			if c.Builtin {
				c.Policy = f[1]
			}
			c.Counters = cnt
		case t != nil && strings.HasPrefix(line, "["):
			end := strings.Index(line, "] -A ")
			if end < 0 {
				return nil, false
			}
			cnt, ok := parseCounters(line[:end+1])
			if !ok {
				return nil, false
			}
			rest := line[end+5:]
			sp := strings.IndexByte(rest, ' ')
			name, spec := rest, ""
			if sp >= 0 {
				name, spec = rest[:sp], rest[sp:]
			}
			c := chains[name]
			if c == nil {
				return nil, false
			}
			if haveSave {
				spec, haveSave = saveSpec, false
			}
			if strings.Contains(spec, " -m connlabel ") {
				// connlabel warns on every listing when its labels file
				// is missing: only a parsed listing says so.
				return nil, false
			}
			c.Rules = append(c.Rules, iptables.RawRule{Counters: cnt, Spec: spec})
		default:
			return nil, false
		}
	}
	if t != nil {
		return nil, false
	}
	for _, name := range xtables.TableNames {
		if rt := byName[name]; rt != nil {
			nb := len(xtables.TableHooks[name])
			user := rt.Chains[nb:]
			sort.Slice(user, func(i, j int) bool { return user[i].Name < user[j].Name })
			tables = append(tables, rt)
		}
	}
	return tables, true
}

func parseCounters(s string) (xtables.Counters, bool) {
	if len(s) < 5 || s[0] != '[' || s[len(s)-1] != ']' {
		return xtables.Counters{}, false
	}
	p, b, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok {
		return xtables.Counters{}, false
	}
	pv, err1 := strconv.ParseUint(p, 10, 64)
	bv, err2 := strconv.ParseUint(b, 10, 64)
	return xtables.Counters{Packets: pv, Bytes: bv}, err1 == nil && err2 == nil
}
