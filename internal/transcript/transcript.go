// Package transcript runs command scripts (*.cmds) against iptwin and
// renders what each command printed and returned, in the same form the
// recorder script (scripts/record-transcripts.sh) renders the real tools'
// answers in, so that a golden file recorded from the kernel can be compared
// byte for byte.
//
// A .cmds file holds blocks separated by a line "---"; each block runs on a
// fresh, empty host. Lines starting with "#" and blank lines are ignored.
// Every other line is one command as sh would split it (single and double
// quotes, backslash), optionally ending in "< FILE" (FILE relative to the
// .cmds file). The transcript of a command is
//
//	$ COMMAND LINE
//	stdout lines
//	! stderr lines
//	[exit N]            (only when N is not 0)
//
// Blocks are separated by "---" in the transcript too. A NAME.hosts file
// beside NAME.cmds is every host's hosts file (default HostsFile).
package transcript

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// HostsFile is the hosts file of every fresh host, as the corpus recorder
// gives its namespaces, so that listings without -n resolve the same way.
const HostsFile = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// Command is one line of a script.
type Command struct {
	Line  string   // as written
	Shell string   // the line without its "< FILE" redirect
	Argv  []string // split as sh splits it
	Stdin string   // path of the "< FILE" redirect, "" when none
}

// Script is a parsed .cmds file.
type Script struct {
	Path   string
	Blocks [][]Command
	// Hosts is the hosts file of every host of the script: NAME.hosts
	// beside NAME.cmds when there is one, else HostsFile.
	Hosts string
}

// Parse reads a .cmds file.
func Parse(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &Script{Path: path, Hosts: HostsFile}
	if h, err := os.ReadFile(strings.TrimSuffix(path, ".cmds") + ".hosts"); err == nil {
		s.Hosts = string(h)
	}
	var cur []Command
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "---":
			s.Blocks = append(s.Blocks, cur)
			cur = nil
			continue
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		}
		c := Command{Line: t}
		body := t
		if j := strings.LastIndex(t, " < "); j >= 0 && !strings.ContainsAny(t[j+3:], "'\" ") {
			body, c.Stdin = t[:j], filepath.Join(filepath.Dir(path), t[j+3:])
		}
		c.Shell = body
		argv, err := SplitWords(body)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		if len(argv) == 0 {
			continue
		}
		c.Argv = argv
		cur = append(cur, c)
	}
	s.Blocks = append(s.Blocks, cur)
	return s, nil
}

// SplitWords splits a command line the way sh does for the quoting forms
// scripts use: single quotes, double quotes (with \" \\ \$ escapes) and
// backslash outside quotes.
func SplitWords(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quoted string")
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quoted string")
			}
			inWord = true
		case ch == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		out = append(out, w.String())
	}
	return out, nil
}

// Runner runs one command on a host and returns what it printed.
type Runner func(c Command, stdin []byte) (stdout, stderr []byte, rc int)

// Render runs every block of the script, each with a fresh host made by
// fresh, and returns the transcript.
func Render(s *Script, fresh func() (Runner, func(), error)) ([]byte, error) {
	var b bytes.Buffer
	for i, blk := range s.Blocks {
		if i > 0 {
			b.WriteString("---\n")
		}
		run, done, err := fresh()
		if err != nil {
			return nil, err
		}
		for _, c := range blk {
			var in []byte
			if c.Stdin != "" {
				if in, err = os.ReadFile(c.Stdin); err != nil {
					done()
					return nil, err
				}
			}
			out, errb, rc := run(c, in)
			Append(&b, c.Line, out, errb, rc)
		}
		done()
	}
	return b.Bytes(), nil
}

// Append renders one command's result.
func Append(b *bytes.Buffer, line string, stdout, stderr []byte, rc int) {
	b.WriteString("$ " + line + "\n")
	b.Write(normalizeDates(stdout))
	if len(stdout) > 0 && stdout[len(stdout)-1] != '\n' {
		b.WriteString("\\ no newline\n")
	}
	for _, l := range strings.SplitAfter(string(stderr), "\n") {
		if l == "" {
			continue
		}
		b.WriteString("! " + l)
		if !strings.HasSuffix(l, "\n") {
			b.WriteString("\n")
		}
	}
	if rc != 0 {
		fmt.Fprintf(b, "[exit %d]\n", rc)
	}
}

// normalizeDates replaces the date of iptables-save's comment lines, the
// only part of a transcript that differs between runs.
func normalizeDates(out []byte) []byte {
	if !bytes.Contains(out, []byte("# ")) {
		return out
	}
	lines := strings.SplitAfter(string(out), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "# Generated by ") || strings.HasPrefix(l, "# Completed on ") {
			if j := strings.LastIndex(l, " on "); j >= 0 {
				nl := ""
				if strings.HasSuffix(l, "\n") {
					nl = "\n"
				}
				lines[i] = l[:j] + " on DATE" + nl
			}
		}
	}
	return []byte(strings.Join(lines, ""))
}
