package ipset

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

// FileName is the state directory file holding the sets.
const FileName = "ipsets"

// savedAtPrefix starts the first line of the file: the time of the save,
// so that element timeouts keep running while nothing touches the host.
const savedAtPrefix = "# iptwin ipsets saved at "

func init() {
	state.RegisterObjects("ipset", func(dir string) (func(string) (any, bool), error) {
		h, err := Load(dir, nil)
		if err != nil {
			return nil, err
		}
		return func(name string) (any, bool) {
			if s := h.Set(name); s != nil {
				return s, true
			}
			return nil, false
		}, nil
	})
}

// IPSetFamily is the family a rule sees the set as (what the set match
// asks the kernel with IP_SET_OP_GET_FNAME): 0 for family-neutral sets.
func (s *Set) IPSetFamily() xtables.Family {
	switch s.Family {
	case FamilyInet:
		return xtables.IPv4
	case FamilyInet6:
		return xtables.IPv6
	}
	return 0
}

// Load reads a host's sets from its state directory (none when the file
// does not exist yet).
func Load(dir string, names xtables.Resolver) (*Host, error) {
	h := NewHost()
	h.Names = names
	h.RuleRefs = ruleRefs(dir)
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if os.IsNotExist(err) {
		return h, nil
	}
	if err != nil {
		return nil, err
	}
	if err := h.restoreSaved(data); err != nil {
		return nil, err
	}
	return h, nil
}

// restoreSaved loads a saved file: the element timeouts count from the
// time of the save.
func (h *Host) restoreSaved(data []byte) error {
	now := h.Now
	saved := now()
	if first, _, _ := bytes.Cut(data, []byte("\n")); bytes.HasPrefix(first, []byte(savedAtPrefix)) {
		if v, err := strconv.ParseInt(string(first[len(savedAtPrefix):]), 10, 64); err == nil {
			saved = v
		}
	}
	h.Now = func() int64 { return saved }
	var errb bytes.Buffer
	rnd := h.Rand
	h.Rand = nil // initvals come from the file
	code, _ := h.Run([]string{"restore"}, bytes.NewReader(data), io.Discard, &errb)
	h.Now, h.Rand = now, rnd
	if code != 0 {
		return &Error{Code: code, Msg: "state file " + FileName + " is damaged: " + strings.TrimSpace(errb.String())}
	}
	return nil
}

// Store writes the host's sets atomically (the caller holds the state
// lock).
func (h *Host) Store(dir string) error {
	var out bytes.Buffer
	out.WriteString(savedAtPrefix + strconv.FormatInt(h.Now(), 10) + "\n")
	var errb bytes.Buffer
	if code, _ := h.Run([]string{"save"}, nil, &out, &errb); code != 0 {
		return &Error{Code: code, Msg: strings.TrimSpace(errb.String())}
	}
	return state.WriteAtomic(filepath.Join(dir, FileName), out.Bytes())
}

// ruleRefs counts the references of the rules saved in the state
// directory to a set: set matches and SET targets hold their sets.
func ruleRefs(dir string) func(string) int {
	var counts map[string]int
	return func(name string) int {
		if counts == nil {
			counts = map[string]int{}
			for _, f := range []string{"rules-ipv4", "rules-ipv6"} {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					continue
				}
				for _, line := range strings.Split(string(data), "\n") {
					if !strings.Contains(line, "-set ") {
						continue
					}
					w := strings.Fields(line)
					for i := 0; i+1 < len(w); i++ {
						switch w[i] {
						case "--match-set", "--add-set", "--del-set", "--map-set":
							counts[w[i+1]]++
						}
					}
				}
			}
		}
		return counts[name]
	}
}
