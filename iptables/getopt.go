package iptables

import "strings"

// getopt is the part of glibc's getopt_long that iptables relies on, with
// the option string "-:..." (RETURN_IN_ORDER: non-options come back as code
// 1; a missing argument yields ':'). Long options may be abbreviated to a
// unique prefix, or to a prefix shared only by entries with equal values.

const (
	noArg       = 0
	requiredArg = 1
	optionalArg = 2
)

type longOpt struct {
	name   string
	hasArg int
	val    int
}

const (
	codeNonOption = 1
	codeMissing   = ':'
	codeUnknown   = '?'
)

// iptShort is IPT_OPTSTRING (without the leading "-:") as argument kinds,
// -1 for the characters that are no option.
var iptShort = func() (m [256]int8) {
	for i := range m {
		m[i] = -1
	}
	spec := "A:C:D:E:F::I:L::M:N:P:VX::Z::" + "c:d:i:j:o:p:s:t:" + "R:S::W::" + "46bfg:h::m:nvw::x"
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		kind := noArg
		if i+1 < len(spec) && spec[i+1] == ':' {
			kind = requiredArg
			i++
			if i+1 < len(spec) && spec[i+1] == ':' {
				kind = optionalArg
				i++
			}
		}
		m[c] = int8(kind)
	}
	return m
}()

// originalOpts is original_opts of xtables.c.
var originalOpts = []longOpt{
	{"append", requiredArg, 'A'},
	{"delete", requiredArg, 'D'},
	{"check", requiredArg, 'C'},
	{"insert", requiredArg, 'I'},
	{"replace", requiredArg, 'R'},
	{"list", optionalArg, 'L'},
	{"list-rules", optionalArg, 'S'},
	{"flush", optionalArg, 'F'},
	{"zero", optionalArg, 'Z'},
	{"new-chain", requiredArg, 'N'},
	{"delete-chain", optionalArg, 'X'},
	{"rename-chain", requiredArg, 'E'},
	{"policy", requiredArg, 'P'},
	{"source", requiredArg, 's'},
	{"destination", requiredArg, 'd'},
	{"src", requiredArg, 's'},
	{"dst", requiredArg, 'd'},
	{"protocol", requiredArg, 'p'},
	{"in-interface", requiredArg, 'i'},
	{"jump", requiredArg, 'j'},
	{"table", requiredArg, 't'},
	{"match", requiredArg, 'm'},
	{"numeric", noArg, 'n'},
	{"out-interface", requiredArg, 'o'},
	{"verbose", noArg, 'v'},
	{"wait", optionalArg, 'w'},
	{"wait-interval", optionalArg, 'W'},
	{"exact", noArg, 'x'},
	{"fragments", noArg, 'f'},
	{"version", noArg, 'V'},
	{"help", optionalArg, 'h'},
	{"line-numbers", noArg, '0'},
	{"modprobe", requiredArg, 'M'},
	{"set-counters", requiredArg, 'c'},
	{"goto", requiredArg, 'g'},
	{"ipv4", noArg, '4'},
	{"ipv6", noArg, '6'},
}

type getopt struct {
	args     []string
	optind   int
	nextchar string // rest of a group of short options
	optarg   string
	hasOpt   bool // optarg is set (vs NULL)
	// ext holds the option tables merged from loaded extensions, newest
	// first, searched after originalOpts (xtables_merge_options order).
	ext []extGroup
}

// lastWord is argv[optind-1]: iptables 1.8.9 takes the value of -p, -s,
// -d, -j, -i and -o from there rather than from optarg, so an attached
// value ("-ptcp", "--source=1.2.3.4") arrives with its option in front.
func (g *getopt) lastWord() string {
	if g.optind < 1 || g.optind > len(g.args) {
		return g.optarg
	}
	return g.args[g.optind-1]
}

// next returns the next option code, or -1 at the end.
func (g *getopt) next() int {
	g.optarg, g.hasOpt = "", false
	if g.nextchar == "" {
		if g.optind >= len(g.args) {
			return -1
		}
		a := g.args[g.optind]
		if a == "--" {
			g.optind = len(g.args)
			return -1
		}
		if len(a) < 2 || a[0] != '-' {
			g.optind++
			g.optarg, g.hasOpt = a, true
			return codeNonOption
		}
		if strings.HasPrefix(a, "--") {
			g.optind++
			return g.long(a[2:])
		}
		g.nextchar = a[1:]
		g.optind++
	}
	c := g.nextchar[0]
	g.nextchar = g.nextchar[1:]
	kind := int(iptShort[c])
	if kind < 0 || c == ':' || c == '-' {
		return codeUnknown
	}
	switch kind {
	case requiredArg:
		if g.nextchar != "" {
			g.optarg, g.hasOpt = g.nextchar, true
			g.nextchar = ""
		} else if g.optind < len(g.args) {
			g.optarg, g.hasOpt = g.args[g.optind], true
			g.optind++
		} else {
			return codeMissing
		}
	case optionalArg:
		if g.nextchar != "" {
			g.optarg, g.hasOpt = g.nextchar, true
			g.nextchar = ""
		}
	}
	return int(c)
}

// extGroup is one extension's option table, its values offset by off.
type extGroup struct {
	off  int
	opts []longOpt
}

func (g *getopt) long(s string) int {
	name, val, hasVal := strings.Cut(s, "=")
	var found longOpt
	have, ambig, exact := false, false, false
	try := func(list []longOpt, off int) {
		for i := range list {
			o := &list[i]
			if name != "" && (o.name == "" || o.name[0] != name[0]) || !strings.HasPrefix(o.name, name) {
				continue
			}
			v := o.val + off
			if len(o.name) == len(name) {
				found, have, ambig, exact = longOpt{o.name, o.hasArg, v}, true, false, true
				return
			}
			if !have {
				found, have = longOpt{o.name, o.hasArg, v}, true
			} else if found.hasArg != o.hasArg || found.val != v {
				ambig = true
			}
		}
	}
	try(originalOpts, 0)
	for i := 0; i < len(g.ext) && !exact; i++ {
		try(g.ext[i].opts, g.ext[i].off)
	}
	if !have || ambig || name == "" {
		return codeUnknown
	}
	switch found.hasArg {
	case noArg:
		if hasVal {
			return codeUnknown
		}
	case requiredArg:
		if hasVal {
			g.optarg, g.hasOpt = val, true
		} else if g.optind < len(g.args) {
			g.optarg, g.hasOpt = g.args[g.optind], true
			g.optind++
		} else {
			return codeMissing
		}
	case optionalArg:
		if hasVal {
			g.optarg, g.hasOpt = val, true
		}
	}
	return found.val
}

// hasArg is xs_has_arg: the next argv is a plain argument.
func (g *getopt) hasArg() bool {
	return g.optind < len(g.args) && !strings.HasPrefix(g.args[g.optind], "-") && !strings.HasPrefix(g.args[g.optind], "!")
}

// take consumes the next argv.
func (g *getopt) take() string {
	s := g.args[g.optind]
	g.optind++
	return s
}
