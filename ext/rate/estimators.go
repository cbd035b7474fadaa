package rate

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

// Rate estimators are host objects that rules make: a RATEEST rule creates
// one, and it lives as long as a RATEEST target or rateest match refers to
// it. They are shared by both families, as the kernel keeps them per
// network namespace.

// estParams are an estimator's parameters; known is false for one that
// only rateest matches refer to in the stored rules.
type estParams struct {
	Interval int8
	EwmaLog  uint8
	known    bool
}

func init() {
	state.RegisterObjects("rateest", loadEstimators)
	state.RegisterObjects("hashlimit-ipv4", loadHtables("rules-ipv4"))
	state.RegisterObjects("hashlimit-ipv6", loadHtables("rules-ipv6"))
}

// Hashlimit tables are host objects too, one namespace per family: a rule
// makes one, rules naming it share it while any refers to it. What matters
// to later rules is whether it was made in rate-match mode.

func htableKind(f xtables.Family) string {
	if f == xtables.IPv6 {
		return "hashlimit-ipv6"
	}
	return "hashlimit-ipv4"
}

// loadHtables finds the tables the stored rules of a family make, with
// their rate-match mode (the first rule naming one made it).
func loadHtables(file string) state.ObjectLoader {
	return func(dir string) (func(string) (any, bool), error) {
		tabs := map[string]bool{}
		data, _ := os.ReadFile(filepath.Join(dir, file))
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "--hashlimit-name") {
				continue
			}
			// One rule may hold several hashlimit matches: each runs
			// from its --hashlimit-name to the next -m.
			name, rm, in := "", false, false
			flush := func() {
				if in {
					if _, ok := tabs[name]; !ok {
						tabs[name] = rm
					}
				}
				name, rm, in = "", false, false
			}
			args := splitSaveLine(line)
			for i, a := range args {
				switch {
				case a == "-m" || a == "-j":
					flush()
				case a == "--hashlimit-name" && i+1 < len(args):
					name, in = cString(args[i+1], hlNameSize), true
				case a == "--hashlimit-rate-match":
					rm = true
				}
			}
			flush()
		}
		return func(name string) (any, bool) {
			rm, ok := tabs[name]
			return rm, ok
		}, nil
	}
}

func lookupHtable(ctx *xtables.Context, name string) (bool, bool) {
	if ctx.Objects == nil {
		return false, false
	}
	key := htableKind(ctx.Family) + "\x00" + name
	pending.Lock()
	p, ok := pending.m[ctx.Objects][key]
	pending.Unlock()
	if ok {
		return p.known, true
	}
	if v, ok := ctx.Objects.Lookup(htableKind(ctx.Family), name); ok {
		rm, _ := v.(bool)
		return rm, true
	}
	return false, false
}

func addHtable(ctx *xtables.Context, name string, rateMatch bool) {
	if _, ok := lookupHtable(ctx, name); ok {
		return
	}
	addEstimator(ctx, htableKind(ctx.Family)+"\x00"+name, estParams{known: rateMatch})
}

// ruleFiles are the state directory's rule sets (state's rulesFile).
var ruleFiles = []string{"rules-ipv4", "rules-ipv6"}

// loadEstimators finds the estimators the stored rules of both families
// refer to.
func loadEstimators(dir string) (func(string) (any, bool), error) {
	est := map[string]estParams{}
	for _, f := range ruleFiles {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "rateest") {
				scanEstimators(line, est)
			}
		}
	}
	return func(name string) (any, bool) {
		p, ok := est[name]
		return p, ok
	}, nil
}

// scanEstimators adds the estimators one saved rule line refers to.
func scanEstimators(line string, est map[string]estParams) {
	args := splitSaveLine(line)
	var tg RATEEST
	haveTarget := false
	for i := 0; i+1 < len(args); i++ {
		v := args[i+1]
		switch args[i] {
		case "-j":
			haveTarget = v == "RATEEST"
		case "--rateest", "--rateest1", "--rateest2":
			if _, ok := est[cString(v, ifNameSize)]; !ok {
				est[cString(v, ifNameSize)] = estParams{}
			}
		case "--rateest-name":
			tg.Name = cString(v, ifNameSize)
		case "--rateest-interval":
			tg.uInterval, _ = rateestGetTime(v)
		case "--rateest-ewmalog":
			tg.uEwmaLog, _ = rateestGetTime(v)
		}
	}
	if haveTarget && tg.Final(&xtables.FinalCall{XFlags: 1<<rateestOptInterval | 1<<rateestOptEwmalog}) == nil {
		est[tg.Name] = estParams{Interval: tg.Interval, EwmaLog: tg.EwmaLog, known: true}
	}
}

// pending holds the estimators made by RATEEST rules of the command being
// run, keyed by its object store: the stored rules do not have them yet.
var pending struct {
	sync.Mutex
	m map[xtables.ObjectStore]map[string]estParams
}

func lookupEstimator(ctx *xtables.Context, name string) (estParams, bool) {
	if ctx.Objects == nil {
		return estParams{}, false
	}
	pending.Lock()
	p, ok := pending.m[ctx.Objects][name]
	pending.Unlock()
	if ok {
		return p, true
	}
	if v, ok := ctx.Objects.Lookup("rateest", name); ok {
		p, _ := v.(estParams)
		return p, true
	}
	return estParams{}, false
}

func addEstimator(ctx *xtables.Context, name string, p estParams) {
	if ctx.Objects == nil {
		return
	}
	pending.Lock()
	defer pending.Unlock()
	if pending.m == nil {
		pending.m = map[xtables.ObjectStore]map[string]estParams{}
	}
	if pending.m[ctx.Objects] == nil {
		pending.m[ctx.Objects] = map[string]estParams{}
	}
	pending.m[ctx.Objects][name] = p
}

// splitSaveLine splits a saved rule line as iptables-restore does.
func splitSaveLine(line string) []string {
	w, _ := iptables.SplitParams(line)
	return w
}
