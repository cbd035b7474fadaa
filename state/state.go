// Package state keeps a twin host's firewall state in a directory: one
// iptables-save -c file per family, optional name databases (hosts,
// services, protocols, networks) that override the system's, and a lock
// that serialises concurrent invocations as the real tool's -w does.
// Every write goes to a temporary file that is then renamed, so a crash
// never leaves a half-written rule set.
package state

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/xtables"
)

// Dir is a state directory.
type Dir struct {
	Path string
	lock *os.File
}

// DefaultPath is where state lives when neither --state nor IPTWIN_STATE
// says: $XDG_STATE_HOME/iptwin/default, or ~/.local/state/iptwin/default.
func DefaultPath() string {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "iptwin", "default")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "iptwin", "default")
	}
	return filepath.Join(os.TempDir(), "iptwin-state")
}

// Open creates the directory if needed.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", path, err)
	}
	return &Dir{Path: path}, nil
}

// Lock takes the directory's exclusive lock, waiting for other invocations.
func (d *Dir) Lock() error {
	f, err := os.OpenFile(filepath.Join(d.Path, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	d.lock = f
	return nil
}

// Unlock releases the lock.
func (d *Dir) Unlock() {
	if d.lock != nil {
		syscall.Flock(int(d.lock.Fd()), syscall.LOCK_UN)
		d.lock.Close()
		d.lock = nil
	}
}

// Names returns the name databases of the host: a file of the state
// directory (hosts, services, protocols, networks) when present, else the
// system's.
func (d *Dir) Names() *names.DB {
	f := names.System
	pick := func(name string, def *string) {
		p := filepath.Join(d.Path, name)
		if _, err := os.Stat(p); err == nil {
			*def = p
		}
	}
	pick("hosts", &f.Hosts)
	pick("services", &f.Services)
	pick("protocols", &f.Protocols)
	pick("networks", &f.Networks)
	return names.New(f)
}

func rulesFile(f xtables.Family) string {
	if f == xtables.IPv6 {
		return "rules-ipv6"
	}
	return "rules-ipv4"
}

// Load reads a family's rule set (empty when none was saved yet).
func (d *Dir) Load(f xtables.Family, res xtables.Resolver) (*xtables.Ruleset, error) {
	rs := xtables.NewRuleset(f)
	rs.Objects = d.Objects()
	data, err := os.ReadFile(filepath.Join(d.Path, rulesFile(f)))
	if os.IsNotExist(err) {
		return rs, nil
	}
	if err != nil {
		return nil, err
	}
	out, _, rerr := iptables.RestoreBytes(rs, data, iptables.RestoreOptions{
		Family: f, Counters: true, Names: res, State: true, Program: "state " + rulesFile(f),
	})
	if rerr != nil {
		return nil, fmt.Errorf("state file %s is damaged: %s", filepath.Join(d.Path, rulesFile(f)), rerr.Stderr)
	}
	out.Objects = rs.Objects
	return out, nil
}

// RulesSize is the size of a family's saved rule set file (0 when none).
func (d *Dir) RulesSize(f xtables.Family) int64 {
	if fi, err := os.Stat(filepath.Join(d.Path, rulesFile(f))); err == nil {
		return fi.Size()
	}
	return 0
}

// Store writes a family's rule set atomically.
func (d *Dir) Store(rs *xtables.Ruleset, res xtables.Resolver) error {
	ctx := &xtables.Context{Family: rs.Family, Names: res, State: true}
	return WriteAtomicFunc(filepath.Join(d.Path, rulesFile(rs.Family)), func(w io.Writer) error {
		for _, n := range xtables.TableNames {
			t := rs.Table(n)
			if t == nil || !t.Present {
				continue
			}
			if err := iptables.WriteStateTable(w, t, ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteAtomicFunc is WriteAtomic for data written by fn.
func WriteAtomicFunc(path string, fn func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := fn(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteAtomic writes data to a temporary file beside path and renames it
// over path.
func WriteAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
