package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/nflog"
)

// tcase is one recorded case: a LOG rule in B and the packet that makes
// it write a line.
type tcase struct {
	name   string
	chain  string // chain of the LOG rule; PREROUTING and POSTROUTING are in mangle
	match  string // the LOG rule's matches; default "-s SRC -d DST" of the logged packet
	prefix string // "" means no --log-prefix
	level  uint8  // 0 means the default (4, warning)
	flags  uint8  // nflog.Flag*
	mark   uint32 // set by a mangle MARK rule before the LOG rule
	before []string
	after  []string

	inject []byte     // IP packet A sends into B's eth0
	local  []byte     // IP packet B sends from a raw socket
	cred   *[2]uint32 // fsuid, fsgid of that socket (nil: root)

	bMAC           []byte // B's eth0 address (default macB0)
	srcMAC, dstMAC []byte // frame addresses (default a0's and B's eth0)
	logged         string // which bytes the line is about: "sent", or captured on "a0"/"a1"
	in, out        string
	v6             bool
}

func (c *tcase) defaults() {
	pkt := c.inject
	if pkt == nil {
		pkt = c.local
	}
	c.v6 = pkt[0]>>4 == 6
	if c.srcMAC == nil {
		c.srcMAC = macA0
	}
	if c.bMAC == nil {
		c.bMAC = macB0
	}
	if c.dstMAC == nil {
		c.dstMAC = c.bMAC
	}
	if c.chain == "" {
		if c.inject != nil {
			c.chain = "INPUT"
		} else {
			c.chain = "OUTPUT"
		}
	}
	if c.logged == "" {
		switch {
		case c.local != nil:
			c.logged = "a0"
		case c.chain == "FORWARD" || c.chain == "POSTROUTING":
			c.logged = "a1"
		case c.chain == "OUTPUT": // a reply B's kernel sends
			c.logged = "a0"
		default:
			c.logged = "sent"
		}
	}
	if c.in == "" && c.out == "" {
		switch c.chain {
		case "PREROUTING", "INPUT":
			c.in = "eth0"
		case "FORWARD":
			c.in, c.out = "eth0", "eth1"
		case "OUTPUT":
			c.out = "eth0"
		case "POSTROUTING":
			// ip_output passes the device a forwarded packet came in on.
			c.out = "eth0"
			if c.local == nil {
				c.in, c.out = "eth0", "eth1"
			}
		}
	}
	if c.match == "" {
		switch {
		case c.local != nil:
			c.match = "-d " + dstOf(c.local)
		case c.logged == "a0": // a reply to the injected packet
			c.match = "-d " + srcOf(c.inject)
		default:
			c.match = "-s " + srcOf(c.inject) + " -d " + dstOf(c.inject)
		}
	}
	if c.chain == "INPUT" && c.after == nil {
		c.after = []string{"-A INPUT -j DROP"} // no replies to what was logged
	}
}

// capDst is the destination of the packet to pick from a capture.
func (c *tcase) capDst() string {
	switch {
	case c.local != nil:
		return dstOf(c.local)
	case c.logged == "a0":
		return srcOf(c.inject)
	}
	return dstOf(c.inject)
}

func (c *tcase) logRule() string {
	table := ""
	if c.chain == "PREROUTING" || c.chain == "POSTROUTING" {
		table = "-t mangle "
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s-A %s %s -j LOG", table, c.chain, c.match)
	if c.prefix != "" {
		// iptables-restore takes the bytes between the quotes as they are.
		fmt.Fprintf(&b, " --log-prefix \"%s\"", c.prefix)
	}
	if c.level != 0 {
		fmt.Fprintf(&b, " --log-level %d", c.level)
	}
	for _, f := range []struct {
		bit  uint8
		name string
	}{
		{nflog.FlagTCPSeq, "--log-tcp-sequence"},
		{nflog.FlagTCPOpt, "--log-tcp-options"},
		{nflog.FlagIPOpt, "--log-ip-options"},
		{nflog.FlagUID, "--log-uid"},
		{nflog.FlagMACDecode, "--log-macdecode"},
	} {
		if c.flags&f.bit != 0 {
			b.WriteString(" " + f.name)
		}
	}
	return b.String()
}

func srcOf(pkt []byte) string {
	if pkt[0]>>4 == 6 {
		return netip.AddrFrom16([16]byte(pkt[8:24])).String()
	}
	return netip.AddrFrom4([4]byte(pkt[12:16])).String()
}

func dstOf(pkt []byte) string {
	if pkt[0]>>4 == 6 {
		return netip.AddrFrom16([16]byte(pkt[24:40])).String()
	}
	return netip.AddrFrom4([4]byte(pkt[16:20])).String()
}
