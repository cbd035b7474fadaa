package ctmatch

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/iptwin/iptwin/xtables"
)

// connlabel match (libxt_connlabel.c, xt_connlabel.h). Label names come
// from libnetfilter_conntrack's label map, /etc/xtables/connlabel.conf.

const (
	clabOptLabel uint = iota
	clabOptSet
)

const (
	connlabelOpInvert = 1 << 0 // XT_CONNLABEL_OP_INVERT
	connlabelOpSet    = 1 << 1
	connlabelMaxBit   = 127 // XT_CONNLABEL_MAXBIT
	labelMapMaxBits   = 1024
)

// connlabelConf is nfct_labels_get_path(); a variable for tests.
var connlabelConf = "/etc/xtables/connlabel.conf"

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "connlabel",
		Family:    xtables.AnyFamily,
		Help: "connlabel match options:\n" +
			"[!] --label name     Match if label has been set on connection\n" +
			"    --set            Set label on connection\n",
		Options: []xtables.Option{
			{Name: "label", ID: clabOptLabel, Type: xtables.TypeString, Min: 1, Flags: xtables.Mand | xtables.Invert},
			{Name: "set", ID: clabOptSet, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &Connlabel{} },
	})
}

// Connlabel is struct xt_connlabel_mtinfo.
type Connlabel struct {
	Bit     uint16
	Options uint16
}

// labelMap is struct nfct_labelmap: bit numbers and names.
type labelMap struct {
	byName map[string]int
	byBit  map[int]string
}

// openLabelMap is connlabel_open: the map, or nil when the file cannot be
// read (the real tool then warns "cannot open" on each use, which goes to
// ctx), or an error when the file holds no label.
func openLabelMap(ctx *xtables.Context) (*labelMap, error) {
	labelMu.Lock()
	defer labelMu.Unlock()
	if cachedMap != nil && cachedPath == connlabelConf {
		return cachedMap, nil
	}
	m, err := readLabelMap(connlabelConf)
	if err != nil {
		why := ""
		switch {
		case errors.Is(err, fs.ErrNotExist):
			why = "No such file or directory"
		case errors.Is(err, fs.ErrPermission):
			why = "Permission denied"
		}
		if why != "" {
			if ctx != nil && !ctx.State {
				ctx.Notice("Warning: cannot open " + connlabelConf + ": " + why)
			}
			return nil, nil
		}
		return nil, err
	}
	if m == nil {
		return nil, xtables.Problem(xtables.ResourceProblem, "cannot parse %s: no labels found", connlabelConf)
	}
	cachedMap, cachedPath = m, connlabelConf
	return m, nil
}

var (
	labelMu    sync.Mutex
	cachedMap  *labelMap
	cachedPath string
)

// readLabelMap parses the file as __labelmap_new does: "bit name" lines,
// '#' comments, a bit read with strtoul base 0 below 1024, the first name
// of a bit kept. nil when no label was read.
func readLabelMap(path string) (*labelMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &labelMap{byName: map[string]int{}, byBit: map[int]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		v, rest, ok := xtables.StrToUint(line, 0, labelMapMaxBits-1)
		if !ok {
			continue
		}
		name := strings.TrimSpace(rest)
		if name == "" {
			continue
		}
		if _, dup := m.byBit[int(v)]; dup {
			continue
		}
		if _, dup := m.byName[name]; dup {
			continue
		}
		m.byBit[int(v)] = name
		m.byName[name] = int(v)
	}
	if len(m.byBit) == 0 {
		return nil, nil
	}
	return m, nil
}

// labelValue is connlabel_value_parse: strtoul base 0 of the whole string,
// narrowed to a C int (negative means "look the name up").
func labelValue(s string) int32 {
	if s == "" {
		return -1
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	v, rest, ok := xtables.StrToUint(t, 0, 0)
	if !ok && rest == t {
		return -1 // no digits
	}
	if rest != "" {
		return -1
	}
	if !ok { // overflow: strtoul gives ULONG_MAX
		v = ^uint64(0)
	}
	if neg {
		v = -v
	}
	return int32(uint32(v))
}

func (cl *Connlabel) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case clabOptLabel:
		tmp := labelValue(c.Arg)
		if tmp < 0 {
			m, err := openLabelMap(c.Ctx)
			if err != nil {
				return err
			}
			if m != nil {
				if b, ok := m.byName[c.Arg]; ok {
					tmp = int32(b)
				}
			}
		}
		if tmp < 0 {
			return xtables.Errorf("label '%s' not found or invalid value", c.Arg)
		}
		cl.Bit = uint16(tmp)
		if c.Invert {
			cl.Options |= connlabelOpInvert
		}
	case clabOptSet:
		cl.Options |= connlabelOpSet
	}
	return nil
}

// name is connlabel_get_name.
func (cl *Connlabel) name(ctx *xtables.Context) string {
	m, err := openLabelMap(ctx)
	if err != nil || m == nil {
		return ""
	}
	return m.byBit[int(cl.Bit)]
}

func (cl *Connlabel) Print(b []byte, ctx *xtables.Context) []byte {
	name := cl.name(ctx)
	b = append(b, " connlabel"...)
	if cl.Options&connlabelOpInvert != 0 {
		b = append(b, " !"...)
	}
	if ctx.Numeric || name == "" {
		b = append(b, ' ')
		b = xtables.AppendUint(b, uint64(cl.Bit))
	} else {
		b = append(b, " '"...)
		b = append(b, name...)
		b = append(b, '\'')
	}
	if cl.Options&connlabelOpSet != 0 {
		b = append(b, " set"...)
	}
	return b
}

func (cl *Connlabel) Save(b []byte, ctx *xtables.Context) []byte {
	if ctx.Key {
		// userspacesize 0: the kernel finds any connlabel rule equal
		return b
	}
	name := cl.name(ctx)
	if cl.Options&connlabelOpInvert != 0 {
		b = append(b, " !"...)
	}
	b = append(b, " --label \""...)
	if name != "" {
		b = append(b, name...)
	} else {
		b = xtables.AppendUint(b, uint64(cl.Bit))
	}
	b = append(b, '"')
	if cl.Options&connlabelOpSet != 0 {
		b = append(b, " --set"...)
	}
	return b
}

// Check is nf_connlabels_get: the kernel keeps 128 label bits.
func (cl *Connlabel) Check(ctx *xtables.Context) error {
	if cl.Bit > connlabelMaxBit {
		return &xtables.KernelError{Errno: "Numerical result out of range"}
	}
	return nil
}

// MatchPacket is connlabel_mt: the label bit of the connection; --set
// sets it (and then matches).
func (cl *Connlabel) MatchPacket(st *xtables.PacketState) bool {
	invert := cl.Options&connlabelOpInvert != 0
	if st.Ct == nil {
		return invert
	}
	labels := st.Ct.Labels()
	if labels == nil {
		return invert
	}
	word, bit := &labels[cl.Bit/64&1], uint64(1)<<(cl.Bit%64)
	if *word&bit != 0 {
		return !invert
	}
	if cl.Options&connlabelOpSet != 0 {
		*word |= bit
		return !invert
	}
	return invert
}
