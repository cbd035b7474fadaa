package stack

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/ext/rate"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

// runtimeFile keeps what a host accumulates while packets run and that
// must survive between invocations (iptwin trace): its clock and its
// random state. Counters live in the rule files, the connection tracking
// table in conntrackFile.
const runtimeFile = "runtime.json"

// conntrackFile is the host's connection tracking table in the format of
// conntrack.Table.Save. Its times are relative to the clock of
// runtimeFile, so the two files stay consistent whichever was written
// last: an entry keeps the time it had left.
const conntrackFile = "conntrack"

// recentFile keeps the host's recent tables (package rate's SaveRecent),
// which the kernel keeps as long as the network namespace lives.
const recentFile = "recent"

type runtimeState struct {
	ClockNS int64  `json:"clock_ns"`
	Seed    uint64 `json:"seed"`
}

// LoadRuntime restores a host's clock, random state and connection
// tracking table from the state directory (a fresh host when there are
// none).
func LoadRuntime(d *state.Dir, h *Host) error {
	path := filepath.Join(d.Path, runtimeFile)
	data, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return err
	default:
		var rt runtimeState
		if err := json.Unmarshal(data, &rt); err != nil {
			return fmt.Errorf("state file %s is damaged: %v", path, err)
		}
		h.Now, h.rng = rt.ClockNS, rt.Seed
	}
	if err := loadRecent(d, h); err != nil {
		return err
	}
	return loadConntrack(d, h)
}

// loadRecent restores the recent tables, if the directory has them.
func loadRecent(d *state.Dir, h *Host) error {
	path := filepath.Join(d.Path, recentFile)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	s := &rate.Shared{}
	if err := s.LoadRecent(f); err != nil {
		return fmt.Errorf("state file %s is damaged: %v", path, err)
	}
	h.rate = s
	return nil
}

// loadConntrack restores the table, sized and timed by the host's
// sysctls as they are now (the file keeps its own hash seed).
func loadConntrack(d *state.Dir, h *Host) error {
	path := filepath.Join(d.Path, conntrackFile)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	t := conntrack.New(conntrack.ConfigFromSysctls(h.Net.Sysctl), 0)
	if err := t.Load(f, h.Now); err != nil {
		return fmt.Errorf("state file %s is damaged: %v", path, err)
	}
	h.ct = t
	return nil
}

// SaveRuntime writes the host's rule sets (with their counters) and its
// runtime state back, each file atomically.
func SaveRuntime(d *state.Dir, h *Host, res xtables.Resolver) error {
	for _, rs := range h.Rules {
		if rs == nil {
			continue
		}
		if err := d.Store(rs, res); err != nil {
			return err
		}
	}
	if err := SaveConntrack(d, h); err != nil {
		return err
	}
	if h.rate.HasRecent() {
		err := state.WriteAtomicFunc(filepath.Join(d.Path, recentFile), h.rate.SaveRecent)
		if err != nil {
			return err
		}
	} else if err := os.Remove(filepath.Join(d.Path, recentFile)); err != nil && !os.IsNotExist(err) {
		return err
	}
	data, err := json.MarshalIndent(runtimeState{ClockNS: h.Now, Seed: h.rng}, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteAtomic(filepath.Join(d.Path, runtimeFile), append(data, '\n'))
}

// SaveConntrack writes the host's connection tracking table at the
// host's clock (iptwin conntrack -F and -D change nothing else). A host
// that never tracked a connection leaves the directory as it is.
func SaveConntrack(d *state.Dir, h *Host) error {
	if h.ct == nil {
		return nil
	}
	return state.WriteAtomicFunc(filepath.Join(d.Path, conntrackFile), func(w io.Writer) error {
		return h.ct.Save(w, h.Now)
	})
}
