package state

import (
	"sort"
	"sync"

	"github.com/iptwin/iptwin/xtables"
)

// ObjectLoader reads one kind of named host object (ipsets, nfacct
// counters) from a state directory and returns its look-up. Packages that
// own a kind register a loader in init.
type ObjectLoader func(dir string) (lookup func(name string) (any, bool), err error)

var (
	loadersMu sync.Mutex
	loaders   = map[string]ObjectLoader{}
)

// RegisterObjects adds the loader of an object kind.
func RegisterObjects(kind string, load ObjectLoader) {
	loadersMu.Lock()
	defer loadersMu.Unlock()
	loaders[kind] = load
}

// objectStore loads each kind on first use.
type objectStore struct {
	dir   string
	mu    sync.Mutex
	kinds map[string]func(string) (any, bool)
}

func (s *objectStore) Lookup(kind, name string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.kinds[kind]
	if !ok {
		loadersMu.Lock()
		load := loaders[kind]
		loadersMu.Unlock()
		if load != nil {
			if l, err := load(s.dir); err == nil {
				f = l
			}
		}
		s.kinds[kind] = f
	}
	if f == nil {
		return nil, false
	}
	return f(name)
}

// Objects returns the host's named objects, loaded lazily.
func (d *Dir) Objects() xtables.ObjectStore {
	return &objectStore{dir: d.Path, kinds: map[string]func(string) (any, bool){}}
}

// ObjectKinds lists the registered kinds (for diagnostics).
func ObjectKinds() []string {
	loadersMu.Lock()
	defer loadersMu.Unlock()
	var out []string
	for k := range loaders {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
