// Command record records nflog's kernel goldens: it builds two network
// namespaces joined by veth pairs, installs LOG rules in the one playing
// the host, sends each case's packet, and stores the packet bytes as the
// rule saw them with the line the kernel wrote.
//
// Run it through nflog/record.sh (root; it takes the kmsg lock and sets
// net.netfilter.nf_log_all_netns=1):
//
//	sh nflog/record.sh            # rewrites nflog/testdata/kernel.golden
//	go run ./nflog/internal/record -out /tmp/x.golden -run tcp
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/iptwin/iptwin/nflog"
	"github.com/iptwin/iptwin/nflog/internal/golden"
	"github.com/iptwin/iptwin/packet"
)

func main() {
	out := flag.String("out", "nflog/testdata/kernel.golden", "golden file to write")
	only := flag.String("run", "", "record only the cases whose name matches this regexp")
	keep := flag.Bool("keep", false, "keep the namespaces afterwards (for debugging)")
	flag.Parse()
	if err := record(*out, *only, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func record(out, only string, keep bool) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces, raw sockets, /dev/kmsg)")
	}
	var re *regexp.Regexp
	if only != "" {
		re = regexp.MustCompile(only)
	}
	if err := setup(); err != nil {
		teardown()
		return err
	}
	if !keep {
		defer teardown()
	}
	a0, err := openWire("a0")
	if err != nil {
		return err
	}
	a1, err := openWire("a1")
	if err != nil {
		return err
	}
	k, err := openKmsg()
	if err != nil {
		return err
	}
	r := &recorder{a0: a0, a1: a1, k: k, bmac: macB0}

	var got []golden.Case
	var failed []string
	mismatches := 0
	for _, c := range allCases() {
		if re != nil && !re.MatchString(c.name) {
			continue
		}
		g, err := r.run(c)
		if err != nil {
			// One retry: another test may have logged over ours.
			g, err = r.run(c)
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.name, err))
			continue
		}
		if line := render(g); line != g.Line {
			mismatches++
			fmt.Fprintf(os.Stderr, "differs from nflog: %s\n  kernel %q\n  nflog  %q\n", g.Name, g.Line, line)
		}
		got = append(got, g)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d cases failed:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	kernel, _ := exec.Command("uname", "-srm").Output()
	ipt, _ := exec.Command("iptables", "--version").Output()
	header := fmt.Sprintf("LOG lines written by %s with %s"+
		"recorded by nflog/record.sh (nflog/internal/record); do not edit by hand.",
		strings.TrimSpace(string(kernel)), ipt)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := golden.Write(f, header, got); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "recorded %d cases into %s (%d differ from nflog)\n", len(got), out, mismatches)
	return nil
}

// render is what nflog prints for a recorded case.
func render(g golden.Case) string {
	var p packet.Packet
	_ = p.Decode(g.Packet) // the line is about the bytes, decodable or not
	m := nflog.Meta{Prefix: g.Prefix, Level: g.Level, Flags: g.Flags, In: g.In, Out: g.Out,
		MAC: g.MAC, Mark: g.Mark, HasSock: g.HasSock, UID: g.UID, GID: g.GID}
	return string(nflog.AppendLine(nil, &p, &m))
}

type recorder struct {
	a0, a1 *wire
	k      *kmsg
	bmac   []byte // B's eth0 address now
}

// run records one case.
func (r *recorder) run(c tcase) (golden.Case, error) {
	c.defaults()
	if err := r.rules(c); err != nil {
		return golden.Case{}, err
	}
	if !bytes.Equal(c.bMAC, r.bmac) {
		if err := run("ip", "-n", nsB, "link", "set", "eth0", "address", hexMAC(c.bMAC)); err != nil {
			return golden.Case{}, err
		}
		r.bmac = c.bMAC
		if err := neighbours(); err != nil {
			return golden.Case{}, err
		}
	}
	if err := r.a0.drain(); err != nil {
		return golden.Case{}, err
	}
	if err := r.a1.drain(); err != nil {
		return golden.Case{}, err
	}
	if err := r.k.skip(); err != nil {
		return golden.Case{}, err
	}

	var frame []byte
	if c.inject != nil {
		frame = cat(c.dstMAC, c.srcMAC, ethType(c.inject), c.inject)
		if err := r.a0.send(frame); err != nil {
			return golden.Case{}, fmt.Errorf("inject: %v", err)
		}
	} else if err := sendRaw(c.local, c.cred); err != nil {
		return golden.Case{}, err
	}

	f0, err := r.a0.frames(80 * time.Millisecond)
	if err != nil {
		return golden.Case{}, err
	}
	f1, err := r.a1.frames(10 * time.Millisecond)
	if err != nil {
		return golden.Case{}, err
	}
	recs, err := r.k.read()
	if err != nil {
		return golden.Case{}, err
	}

	g := golden.Case{Name: c.name, Hook: c.chain, Flags: c.flags, Prefix: c.prefix,
		In: c.in, Out: c.out, Mark: c.mark}
	switch {
	case c.in == "lo": // loopback_xmit's header: zero addresses
		g.MAC = cat(make([]byte, 12), ethType(c.local))
	case c.in != "":
		g.MAC = frame[:14]
	}
	// Sent from a socket B's process opened; loopback_xmit orphans the
	// packet before it comes back in.
	if c.local != nil && c.in == "" {
		g.HasSock = true
		if c.cred != nil {
			g.UID, g.GID = c.cred[0], c.cred[1]
		}
	}

	// The line: the record that starts with this rule's prefix and devices.
	head := c.prefix + "IN=" + c.in + " OUT=" + c.out + " "
	var lines []kmsgRecord
	for _, rec := range recs {
		if strings.HasPrefix(rec.text, head) {
			lines = append(lines, rec)
		}
	}
	if len(lines) != 1 {
		return g, fmt.Errorf("%d lines start with %q (of %d records: %q)", len(lines), head, len(recs), recs)
	}
	g.Line, g.Level = lines[0].text, lines[0].level

	// The packet as the rule saw it.
	switch c.logged {
	case "sent":
		g.Packet = c.inject
		if g.Packet == nil {
			g.Packet = c.local
		}
	case "a0", "a1":
		frames := f0
		if c.logged == "a1" {
			frames = f1
		}
		pkt := pick(frames, c.capDst())
		if pkt == nil {
			return g, fmt.Errorf("no packet to %s captured on %s (%d frames: % x)", c.capDst(), c.logged, len(frames), frames)
		}
		g.Packet = pkt
	}
	return g, nil
}

func ethType(pkt []byte) []byte {
	if pkt[0]>>4 == 6 {
		return []byte{0x86, 0xdd}
	}
	return []byte{0x08, 0x00}
}

// pick returns the IP packet of the first frame to dst.
func pick(frames [][]byte, dst string) []byte {
	for _, f := range frames {
		if len(f) < 14 {
			continue
		}
		var p packet.Packet
		if err := p.DecodeEthernet(f); err != nil && len(p.Data) == 0 {
			continue
		}
		if p.Layers&(packet.LayerIPv4|packet.LayerIPv6) == 0 || p.Dst().String() != dst {
			continue
		}
		ip := f[14:]
		// Trim to the IP length, as the sender's skb held it.
		if p.IsIPv4() && int(p.IPv4.TotalLen) <= len(ip) {
			ip = ip[:p.IPv4.TotalLen]
		} else if p.IsIPv6() && 40+int(p.IPv6.PayloadLen) <= len(ip) {
			ip = ip[:40+int(p.IPv6.PayloadLen)]
		}
		return ip
	}
	return nil
}

// rules loads B's tables for a case: its family gets the case's rules,
// the other family empty tables.
func (r *recorder) rules(c tcase) error {
	var filter, mangle []string
	add := func(rule string) {
		if rest, ok := strings.CutPrefix(rule, "-t mangle "); ok {
			mangle = append(mangle, rest)
		} else {
			filter = append(filter, rule)
		}
	}
	if c.mark != 0 {
		chain := "PREROUTING"
		if c.local != nil {
			chain = "OUTPUT"
		}
		add(fmt.Sprintf("-t mangle -A %s -j MARK --set-mark 0x%x", chain, c.mark))
	}
	for _, rule := range c.before {
		add(rule)
	}
	add(c.logRule())
	for _, rule := range c.after {
		add(rule)
	}
	tables := func(filter, mangle []string) []byte {
		var b bytes.Buffer
		b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
		for _, l := range filter {
			b.WriteString(l + "\n")
		}
		b.WriteString("COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
		for _, l := range mangle {
			b.WriteString(l + "\n")
		}
		b.WriteString("COMMIT\n")
		return b.Bytes()
	}
	mine, other := "iptables-restore", "ip6tables-restore"
	if c.v6 {
		mine, other = other, mine
	}
	if err := runIn(tables(nil, nil), "ip", "netns", "exec", nsB, other); err != nil {
		return err
	}
	return runIn(tables(filter, mangle), "ip", "netns", "exec", nsB, mine)
}
