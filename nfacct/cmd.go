package nfacct

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// Version is the nfacct release whose behaviour the command follows.
const Version = "1.0.2"

type cmd struct {
	h     *host
	prog  string
	args  []string // argv, args[0] the program name
	stdin io.Reader
	out   io.Writer
	errw  io.Writer
	xmlHd bool // xml_header: the XML prologue was printed
}

// perror is nfacct_perror; errno is the kernel's answer, "" for none.
func (c *cmd) perror(msg, errno string) int {
	if errno == "" {
		fmt.Fprintf(c.errw, "nfacct v%s: %s\n", Version, msg)
	} else {
		fmt.Fprintf(c.errw, "nfacct v%s: %s: %s\n", Version, msg, errno)
	}
	return 1
}

func (c *cmd) usage() {
	fmt.Fprintf(c.errw, "Usage: %s command [parameters]...\n", c.args[0])
}

// prefixOf is strncmp(arg, word, strlen(arg)) == 0.
func prefixOf(arg, word string) bool {
	return len(arg) <= len(word) && word[:len(arg)] == arg
}

func (c *cmd) run() int {
	if len(c.args) < 2 {
		c.usage()
		return 1
	}
	cmds := []struct {
		name string
		fn   func() int
	}{
		{"list", c.list}, {"add", c.add}, {"delete", c.delete}, {"get", c.get},
		{"flush", c.flush}, {"version", c.version}, {"help", c.help},
		{"restore", c.restore}, {"monitor", c.monitor},
	}
	for _, k := range cmds {
		if prefixOf(c.args[1], k.name) {
			return k.fn()
		}
	}
	fmt.Fprintf(c.errw, "nfacct v%s: Unknown command: %s\n", Version, c.args[1])
	c.usage()
	return 1
}

// show prints one object as nfacct_cb does.
func (c *cmd) show(o *Object, xml bool) {
	var b []byte
	if xml && !c.xmlHd {
		b = append(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<nfacct>\n"...)
		c.xmlHd = true
	}
	if xml {
		b = appendXML(b, o)
	} else {
		b = appendPlain(b, o)
	}
	c.out.Write(append(b, '\n'))
}

func (c *cmd) endXML() {
	if c.xmlHd {
		io.WriteString(c.out, "</nfacct>\n")
	}
}

func (c *cmd) list() int {
	reset, xml := false, false
	for _, a := range c.args[2:] {
		switch {
		case prefixOf(a, "reset"):
			if reset {
				return c.duparg(a)
			}
			reset = true
		case prefixOf(a, "xml"):
			if xml {
				return c.duparg(a)
			}
			xml = true
		default:
			return c.perror("unknown argument", "")
		}
	}
	for i := range c.h.objs {
		c.show(&c.h.objs[i], xml)
		if reset {
			c.h.reset(i)
		}
	}
	c.endXML()
	return 0
}

// reset zeroes an object's counters (NFNL_MSG_ACCT_GET_CTRZERO), which also
// clears its over-quota mark.
func (h *host) reset(i int) {
	o := &h.objs[i]
	if o.Pkts != 0 || o.Bytes != 0 || o.Flags&OverQuota != 0 {
		o.Pkts, o.Bytes = 0, 0
		o.Flags &^= OverQuota
		h.dirty = true
	}
}

func (c *cmd) duparg(key string) int {
	fmt.Fprintf(c.errw, "Error: duplicate \"%s\" or collision with another option \n", key)
	return 1
}

func (c *cmd) add() int {
	argc := len(c.args)
	if argc < 3 {
		return c.perror("missing object name", "")
	}
	o := Object{Name: c.args[2]}
	switch {
	case argc == 4:
		return c.perror("missing quota value", "")
	case argc == 5 && c.args[3] != "byte" && c.args[3] != "packet":
		return c.perror("argument must \"byte\" or \"packet\"", "")
	case argc > 5:
		return c.perror("too many arguments", "")
	case argc == 5:
		o.Flags = QuotaPkts
		if c.args[3] == "byte" {
			o.Flags = QuotaBytes
		}
		q, ok := scanU64(c.args[4])
		if !ok {
			return c.perror("error reading quota", "")
		}
		o.Quota = q
	}
	if e := c.h.add(o); e != "" {
		return c.perror("error", e)
	}
	return 0
}

func (c *cmd) delete() int {
	if len(c.args) < 3 {
		return c.perror("missing object name", "")
	} else if len(c.args) > 3 {
		return c.perror("too many arguments", "")
	}
	if e := c.h.del(c.args[2], false); e != "" {
		return c.perror("error", e)
	}
	return 0
}

func (c *cmd) get() int {
	if len(c.args) < 3 {
		return c.perror("missing object name", "")
	}
	reset, xml := false, false
	for _, a := range c.args[3:] {
		switch {
		case prefixOf(a, "reset"):
			reset = true
		case prefixOf(a, "xml"):
			xml = true
		default:
			return c.perror("unknown argument", "")
		}
	}
	i := c.h.find(truncName(c.args[2]))
	if i < 0 {
		return c.perror("error", errNotFound)
	}
	c.show(&c.h.objs[i], xml)
	if reset {
		c.h.reset(i)
	}
	c.endXML()
	return 0
}

func (c *cmd) flush() int {
	if len(c.args) > 2 {
		return c.perror("too many arguments", "")
	}
	c.h.del("", true)
	return 0
}

func (c *cmd) version() int {
	fmt.Fprintf(c.out, "nfacct v%s: utility for the Netfilter extended accounting infrastructure\n"+
		"Copyright (C) 2011 Pablo Neira Ayuso <pablo@netfilter.org>\n"+
		"Copyright (C) 2011 Intra2net AG <http://www.intra2net.com>\n"+
		"This program comes with ABSOLUTELY NO WARRANTY.\n"+
		"This is free software, and you are welcome to redistribute it under certain \n"+
		"conditions; see LICENSE file distributed in this package for details.\n", Version)
	return 0
}

func (c *cmd) help() int {
	fmt.Fprintf(c.out, "nfacct v%s: utility for the Netfilter extended accounting infrastructure\n"+
		"Usage: %s command [parameters]...\n\n"+
		"Commands:\n"+
		"  list [reset]\t\tList the accounting object table (and reset)\n"+
		"  add object-name\tAdd new accounting object to table\n"+
		"  delete object-name\tDelete existing accounting object\n"+
		"  get object-name\tGet existing accounting object\n"+
		"  flush\t\t\tFlush accounting object table\n"+
		"  restore\t\tRestore accounting object table reading 'list' output from stdin\n"+
		"  monitor\t\tListens for quota attainment notifications\n"+
		"  version\t\tDisplay version and disclaimer\n"+
		"  help\t\t\tDisplay this help message\n", Version, c.args[0])
	return 0
}

// restore reads lines in the form list prints. Like nfacct 1.0.2 it cannot
// read back its own quota lines: "mode = %s" takes the comma too.
func (c *cmd) restore() int {
	if c.stdin == nil {
		return 0
	}
	r := bufio.NewReader(c.stdin)
	for {
		line, err := readLine(r, 511)
		if line == "" && err != nil {
			return 0
		}
		semi := strings.IndexByte(line, ';')
		if semi < 0 {
			return c.perror("invalid line", "")
		}
		line = line[:semi]
		var o Object
		if !strings.Contains(line, "quota") {
			v := scanf(line, "{ pkts = %u, bytes = %u } = %s")
			if len(v) != 3 {
				return c.perror("error reading input", "")
			}
			o.Pkts, o.Bytes, o.Name = v[0].(uint64), v[1].(uint64), v[2].(string)
		} else {
			v := scanf(line, "{ pkts = %u, bytes = %u, quota = %u, mode = %s } = %s")
			if len(v) != 5 {
				return c.perror("error reading input", "")
			}
			o.Pkts, o.Bytes, o.Quota, o.Name = v[0].(uint64), v[1].(uint64), v[2].(uint64), v[4].(string)
			o.Flags = QuotaPkts
			if v[3].(string) == "byte" {
				o.Flags = QuotaBytes
			}
		}
		if e := c.h.add(o); e != "" {
			return c.perror("error", e)
		}
	}
}

// readLine is fgets with a buffer of max+1 bytes: a longer line comes in
// pieces.
func readLine(r *bufio.Reader, max int) (string, error) {
	var b []byte
	for len(b) < max {
		ch, err := r.ReadByte()
		if err != nil {
			return string(b), err
		}
		b = append(b, ch)
		if ch == '\n' {
			break
		}
	}
	return string(b), nil
}

// monitor would wait for quota notifications; the twin host sends none, so
// it returns at once instead of blocking forever.
func (c *cmd) monitor() int { return 0 }

func isSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

// scanU64 is sscanf(s, "%"PRIu64): blanks, a sign, digits (negative
// values wrap, overflow saturates), trailing text ignored.
func scanU64(s string) (uint64, bool) {
	v, n := parseU64(s)
	return v, n > 0
}

func parseU64(s string) (uint64, int) { return xtables.Strtoul10(s) }

// scanf is the part of sscanf the restore formats use: blanks match any
// run of blanks, %u an unsigned number, %s a word; it returns the values
// converted before the first mismatch.
func scanf(s, format string) []any {
	var out []any
	i := 0
	for f := 0; f < len(format); f++ {
		switch {
		case isSpace(format[f]):
			for i < len(s) && isSpace(s[i]) {
				i++
			}
		case format[f] == '%' && f+1 < len(format):
			f++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if format[f] == 'u' {
				v, n := parseU64(s[i:])
				if n == 0 {
					return out
				}
				i += n
				out = append(out, v)
				continue
			}
			j := i
			for j < len(s) && !isSpace(s[j]) {
				j++
			}
			if j == i {
				return out
			}
			out = append(out, s[i:j])
			i = j
		default:
			if i >= len(s) || s[i] != format[f] {
				return out
			}
			i++
		}
	}
	return out
}
