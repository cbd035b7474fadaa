//go:build linux

// Command record records the kernel goldens of packages icmpgen and
// defrag: it builds three network namespaces (see topo.go), and for
// every case installs the case's rules in the middle one with the real
// iptables, sends the trigger packets, captures what the kernel sends
// back and writes both to testdata/kernel/NAME.txt of the package the
// case belongs to. Run it as root through icmpgen/record.sh.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/iptwin/iptwin/packet"
)

// tcase is one recorded case.
type tcase struct {
	pkg     string // "icmpgen" or "defrag": whose testdata
	name    string
	doc     string
	setup   []string // shell lines run in H before sending
	model   string   // how the test regenerates the answer (see the package tests)
	send    []sendOp
	capture string        // where the answers are captured: c0 (C), s0 (S), lo (H)
	wait    time.Duration // capture window after the last send (default 300ms)
}

// sendOp injects one packet: at "c0" from C, "s0" from S, "raw" from
// H's own stack (raw socket, OUTPUT path).
type sendOp struct {
	at  string
	pkt []byte
	mac net.HardwareAddr // destination MAC (default: the peer's)
}

func c0(pkts ...[]byte) []sendOp {
	var ops []sendOp
	for _, p := range pkts {
		op := sendOp{at: "c0", pkt: p}
		if p[0]>>4 == 6 && p[24] == 0xff {
			op.mac = net.HardwareAddr{0x33, 0x33, p[36], p[37], p[38], p[39]}
		}
		ops = append(ops, op)
	}
	return ops
}

func hraw(pkts ...[]byte) []sendOp {
	var ops []sendOp
	for _, p := range pkts {
		ops = append(ops, sendOp{at: "raw", pkt: p})
	}
	return ops
}

func main() {
	icmpgenDir := flag.String("icmpgen", "../../testdata/kernel", "icmpgen's golden directory")
	defragDir := flag.String("defrag", "../../../defrag/testdata/kernel", "defrag's golden directory")
	only := flag.String("run", "", "record only the cases whose name matches this regexp")
	probe := flag.Bool("probe-frag-mem", false, "print the memory the kernel charges per queued fragment instead of recording")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "record: must run as root (network namespaces)")
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		teardown()
		os.Exit(1)
	}()
	var err error
	if *probe {
		err = setup()
		if err == nil {
			var c *tap
			if c, err = openTap(nsC, "c0"); err == nil {
				err = probeFragMem(c)
				c.Close()
			}
		}
	} else {
		err = record(*icmpgenDir, *defragDir, *only)
	}
	teardown()
	if err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func record(icmpgenDir, defragDir, only string) error {
	re, err := regexp.Compile(only)
	if err != nil {
		return err
	}
	if err := setup(); err != nil {
		return err
	}
	taps := map[string]*tap{}
	for _, t := range []struct{ ns, dev string }{{nsC, "c0"}, {nsS, "s0"}, {nsH, "lo"}} {
		tp, err := openTap(t.ns, t.dev)
		if err != nil {
			return err
		}
		defer tp.Close()
		taps[t.dev] = tp
	}
	rs, err := openRaw(nsH)
	if err != nil {
		return err
	}
	defer rs.Close()
	peers := map[string]net.HardwareAddr{"c0": macH0, "s0": macH1}
	cases := append(icmpgenCases(), defragCases()...)
	n := 0
	for _, c := range cases {
		if !re.MatchString(c.name) {
			continue
		}
		if err := resetHost(); err != nil {
			return err
		}
		for _, l := range c.setup {
			if err := sh(nsH, l); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		for _, t := range taps {
			t.drain()
		}
		for _, op := range c.send {
			var err error
			switch op.at {
			case "raw":
				// A packet OUTPUT drops makes sendto fail with EPERM.
				if err = rs.send(op.pkt); errors.Is(err, syscall.EPERM) {
					err = nil
				}
			default:
				mac := op.mac
				if mac == nil {
					mac = peers[op.at]
				}
				err = taps[op.at].send(mac, op.pkt)
			}
			if err != nil {
				return fmt.Errorf("%s: send: %w", c.name, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		wait := c.wait
		if wait == 0 {
			wait = 300 * time.Millisecond
		}
		got, err := taps[c.capture].recv(time.Now().Add(wait))
		if err != nil {
			return fmt.Errorf("%s: capture: %w", c.name, err)
		}
		dir := icmpgenDir
		if c.pkg == "defrag" {
			dir = defragDir
		}
		if err := write(filepath.Join(dir, c.name+".txt"), &c, got); err != nil {
			return err
		}
		fmt.Printf("%-32s %d sent, %d captured\n", c.name, len(c.send), len(got))
		n++
	}
	fmt.Printf("%d cases recorded\n", n)
	return nil
}

// write stores a case: comments, setup, model, sent and captured packets
// (hex, with a tcpdump-style summary above each).
func write(path string, c *tcase, got [][]byte) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n", c.name, c.doc)
	fmt.Fprintf(&b, "# recorded by icmpgen/record.sh on Linux %s\n", kernelRelease())
	for _, l := range c.setup {
		fmt.Fprintf(&b, "setup %s\n", l)
	}
	fmt.Fprintf(&b, "model %s\n", c.model)
	for _, op := range c.send {
		at := op.at
		if at == "raw" {
			at = "h"
		}
		writePkt(&b, "send "+at, op.pkt)
	}
	for _, p := range got {
		writePkt(&b, "recv "+c.capture, p)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func writePkt(b *strings.Builder, head string, p []byte) {
	var d packet.Packet
	if err := d.Decode(p); err == nil {
		fmt.Fprintf(b, "#   %s\n", d.String())
	}
	fmt.Fprintf(b, "%s %x\n", head, p)
}

func kernelRelease() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return "?"
	}
	var s []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}
