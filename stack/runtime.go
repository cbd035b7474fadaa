package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

// runtimeFile keeps what a host accumulates while packets run and that
// must survive between invocations (iptwin trace): its clock and its
// connection tracking table. Counters live in the rule files.
const runtimeFile = "runtime.json"

type runtimeState struct {
	ClockNS int64  `json:"clock_ns"`
	Seed    uint64 `json:"seed"`
}

// LoadRuntime restores a host's clock and random state from the state
// directory (a fresh host when there is none).
func LoadRuntime(d *state.Dir, h *Host) error {
	path := filepath.Join(d.Path, runtimeFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var rt runtimeState
	if err := json.Unmarshal(data, &rt); err != nil {
		return fmt.Errorf("state file %s is damaged: %v", path, err)
	}
	h.Now, h.rng = rt.ClockNS, rt.Seed
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
	data, err := json.MarshalIndent(runtimeState{ClockNS: h.Now, Seed: h.rng}, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteAtomic(filepath.Join(d.Path, runtimeFile), append(data, '\n'))
}
