// Package golden reads and writes nflog's kernel goldens: for each case
// the packet bytes as the LOG rule saw them, what the rule and the hook
// gave the logger, and the line the kernel wrote.
//
// The format is text, one case per block:
//
//	== ipv4-udp-input-seed000
//	hook INPUT
//	level 4
//	flags 0x00
//	prefix "[INPUT] "
//	in "eth0"
//	out ""
//	mac 00:0c:29:e8:bf:d4:00:0c:29:35:1c:6d:08:00
//	mark 0x0
//	sock -
//	packet 45000164...
//	line "[INPUT] IN=eth0 OUT= MAC=... "
//
// mac is "-" when the packet had no input device; sock is "-" or "UID GID"
// of the sending socket. Strings are Go-quoted so trailing spaces and odd
// bytes survive. Lines starting with '#' are comments.
package golden

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Case is one recorded LOG line.
type Case struct {
	Name     string
	Hook     string // the chain of the LOG rule (information only)
	Level    uint8
	Flags    uint8
	Prefix   string
	In, Out  string
	MAC      []byte // nil when the packet had no input device
	Mark     uint32
	HasSock  bool
	UID, GID uint32
	Packet   []byte
	Line     string
}

// Write writes cases in the golden format, after a comment header.
func Write(w io.Writer, header string, cases []Case) error {
	bw := bufio.NewWriter(w)
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		fmt.Fprintf(bw, "# %s\n", l)
	}
	for _, c := range cases {
		fmt.Fprintf(bw, "\n== %s\n", c.Name)
		fmt.Fprintf(bw, "hook %s\n", c.Hook)
		fmt.Fprintf(bw, "level %d\n", c.Level)
		fmt.Fprintf(bw, "flags 0x%02x\n", c.Flags)
		fmt.Fprintf(bw, "prefix %s\n", strconv.Quote(c.Prefix))
		fmt.Fprintf(bw, "in %s\n", strconv.Quote(c.In))
		fmt.Fprintf(bw, "out %s\n", strconv.Quote(c.Out))
		if c.MAC == nil {
			fmt.Fprintf(bw, "mac -\n")
		} else {
			fmt.Fprintf(bw, "mac %s\n", colonHex(c.MAC))
		}
		fmt.Fprintf(bw, "mark 0x%x\n", c.Mark)
		if c.HasSock {
			fmt.Fprintf(bw, "sock %d %d\n", c.UID, c.GID)
		} else {
			fmt.Fprintf(bw, "sock -\n")
		}
		fmt.Fprintf(bw, "packet %x\n", c.Packet)
		fmt.Fprintf(bw, "line %s\n", strconv.Quote(c.Line))
	}
	return bw.Flush()
}

func colonHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// Parse reads cases in the golden format.
func Parse(r io.Reader) ([]Case, error) {
	var cases []Case
	var c *Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if name, ok := strings.CutPrefix(line, "== "); ok {
			cases = append(cases, Case{Name: name})
			c = &cases[len(cases)-1]
			continue
		}
		if c == nil {
			return nil, fmt.Errorf("line %d: %q before the first case", n, line)
		}
		key, val, _ := strings.Cut(line, " ")
		if err := c.set(key, val); err != nil {
			return nil, fmt.Errorf("line %d (case %s): %s: %v", n, c.Name, key, err)
		}
	}
	return cases, sc.Err()
}

func (c *Case) set(key, val string) error {
	var err error
	switch key {
	case "hook":
		c.Hook = val
	case "level":
		var v uint64
		v, err = strconv.ParseUint(val, 10, 3)
		c.Level = uint8(v)
	case "flags":
		var v uint64
		v, err = strconv.ParseUint(val, 0, 8)
		c.Flags = uint8(v)
	case "prefix":
		c.Prefix, err = strconv.Unquote(val)
	case "in":
		c.In, err = strconv.Unquote(val)
	case "out":
		c.Out, err = strconv.Unquote(val)
	case "mac":
		if val != "-" {
			c.MAC, err = hex.DecodeString(strings.ReplaceAll(val, ":", ""))
			if c.MAC == nil {
				c.MAC = []byte{}
			}
		}
	case "mark":
		var v uint64
		v, err = strconv.ParseUint(val, 0, 32)
		c.Mark = uint32(v)
	case "sock":
		if val != "-" {
			c.HasSock = true
			_, err = fmt.Sscanf(val, "%d %d", &c.UID, &c.GID)
		}
	case "packet":
		c.Packet, err = hex.DecodeString(val)
	case "line":
		c.Line, err = strconv.Unquote(val)
	default:
		err = fmt.Errorf("unknown key")
	}
	return err
}
