// Package nfacct keeps a twin host's extended accounting objects (what the
// kernel's nfnetlink_acct holds and nfacct(8) manages) in the state
// directory, and is the nfacct command of the multi-call binary. The
// objects are host objects of kind "nfacct": the nfacct match refuses a
// name that has none, and an object a rule refers to cannot be deleted.
package nfacct

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/state"
)

// FileName is the objects' file in the state directory.
const FileName = "nfacct"

// NameMax is NFACCT_NAME_MAX: names keep at most NameMax-1 bytes.
const NameMax = 32

// Quota flags (enum nfnl_acct_flags).
const (
	QuotaPkts  = 1 << 0
	QuotaBytes = 1 << 1
	OverQuota  = 1 << 2
)

// Object is one accounting object.
type Object struct {
	Name        string
	Pkts, Bytes uint64
	Flags       uint32
	Quota       uint64
}

func init() {
	state.RegisterObjects("nfacct", func(dir string) (func(string) (any, bool), error) {
		objs, err := Load(dir)
		if err != nil {
			return nil, err
		}
		return func(name string) (any, bool) {
			for i := range objs {
				if objs[i].Name == name {
					return &objs[i], true
				}
			}
			return nil, false
		}, nil
	})
}

// Load reads the objects of a state directory, in creation order.
func Load(dir string) ([]Object, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Object
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var o Object
		var name string
		if _, err := fmt.Sscanf(sc.Text(), "%q %d %d %d %d", &name, &o.Pkts, &o.Bytes, &o.Flags, &o.Quota); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", filepath.Join(dir, FileName), n, err)
		}
		o.Name = name
		out = append(out, o)
	}
	return out, sc.Err()
}

// Store writes the objects atomically.
func Store(dir string, objs []Object) error {
	var b []byte
	for _, o := range objs {
		b = strconv.AppendQuote(b, o.Name)
		b = fmt.Appendf(b, " %d %d %d %d\n", o.Pkts, o.Bytes, o.Flags, o.Quota)
	}
	return state.WriteAtomic(filepath.Join(dir, FileName), b)
}

// appendPlain is nfacct_snprintf with NFACCT_SNPRINTF_T_PLAIN and _F_FULL.
func appendPlain(b []byte, o *Object) []byte {
	if o.Flags&(QuotaPkts|QuotaBytes) != 0 {
		mode, over := "byte", "no"
		if o.Flags&QuotaPkts != 0 {
			mode = "packet"
		}
		if o.Flags&OverQuota != 0 {
			over = "yes"
		}
		return fmt.Appendf(b, "{ pkts = %020d, bytes = %020d, quota = %020d, mode = %s, overquota = %s } = %s;",
			o.Pkts, o.Bytes, o.Quota, mode, over, o.Name)
	}
	return fmt.Appendf(b, "{ pkts = %020d, bytes = %020d } = %s;", o.Pkts, o.Bytes, o.Name)
}

// appendXML is the NFACCT_SNPRINTF_T_XML form.
func appendXML(b []byte, o *Object) []byte {
	return fmt.Appendf(b, "<obj><name>%s</name><pkts>%020d</pkts><bytes>%020d</bytes></obj>", o.Name, o.Pkts, o.Bytes)
}

// usedNames are the names the stored rules of both families refer to with
// --nfacct-name (the kernel's reference count).
func usedNames(dir string) map[string]bool {
	used := map[string]bool{}
	for _, f := range []string{"rules-ipv4", "rules-ipv6"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "--nfacct-name") {
				continue
			}
			w := splitWords(line)
			for i := 0; i+1 < len(w); i++ {
				if w[i] == "--nfacct-name" {
					used[w[i+1]] = true
				}
			}
		}
	}
	return used
}

// splitWords splits a saved rule line as iptables-restore does.
func splitWords(line string) []string {
	w, _ := iptables.SplitParams(line)
	return w
}

// Errors the kernel answers with, as strerror words them.
const (
	errBusy     = "Device or resource busy"
	errNotFound = "No such file or directory"
	errInvalid  = "Invalid argument"
)

// host is a state directory's objects during one command.
type host struct {
	dir   string
	objs  []Object
	dirty bool
}

func (h *host) find(name string) int {
	for i := range h.objs {
		if h.objs[i].Name == name {
			return i
		}
	}
	return -1
}

// add is NFNL_MSG_ACCT_NEW with NLM_F_CREATE: an existing name is busy.
func (h *host) add(o Object) string {
	o.Name = truncName(o.Name)
	if o.Name == "" {
		return errInvalid
	}
	if h.find(o.Name) >= 0 {
		return errBusy
	}
	h.objs = append(h.objs, o)
	h.dirty = true
	return ""
}

func truncName(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > NameMax-1 {
		s = s[:NameMax-1]
	}
	return s
}

// del is NFNL_MSG_ACCT_DEL: one object, or every unused one.
func (h *host) del(name string, all bool) string {
	used := usedNames(h.dir)
	if all {
		kept := h.objs[:0]
		for _, o := range h.objs {
			if used[o.Name] {
				kept = append(kept, o)
			}
		}
		h.dirty = h.dirty || len(kept) != len(h.objs)
		h.objs = kept
		return ""
	}
	i := h.find(truncName(name))
	if i < 0 {
		return errNotFound
	}
	if used[h.objs[i].Name] {
		return errBusy
	}
	h.objs = append(h.objs[:i], h.objs[i+1:]...)
	h.dirty = true
	return ""
}

// Main runs the nfacct command on the state directory dir (locked by the
// caller) and returns its exit status.
func Main(dir, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	objs, err := Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	h := &host{dir: dir, objs: objs}
	c := &cmd{h: h, prog: prog, args: append([]string{prog}, args...), stdin: stdin, out: stdout, errw: stderr}
	rc := c.run()
	if h.dirty {
		if err := Store(dir, h.objs); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
	}
	return rc
}
