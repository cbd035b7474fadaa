//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// probeFragMem measures what the kernel charges a fragment queue (the
// FRAG / FRAG6 lines of /proc/net/sockstat in H) for first fragments of
// several sizes injected from C: the figures behind defrag's memory
// model. It prints them; nothing is written.
func probeFragMem(c *tap) error {
	for _, v6 := range []bool{false} {
		for _, n := range []int{8, 196, 200, 204, 208, 212, 642, 644, 646, 648, 650, 652, 654} {
			if err := resetHost(); err != nil {
				return err
			}
			var f []byte
			if v6 {
				f = frag6(udp(c6, h6, 40000, 81, pattern(2000)), uint32(0x7000+n), span{0, n})[0]
			} else {
				f = frag4(udp(c4, h4, 40000, 81, pattern(2000), ipid(uint16(0x7000+n))), span{0, n})[0]
			}
			if err := c.send(macH0, f); err != nil {
				return err
			}
			time.Sleep(50 * time.Millisecond)
			out, err := exec.Command("ip", "netns", "exec", nsH, "sh", "-c", "cat /proc/net/sockstat /proc/net/sockstat6").CombinedOutput()
			if err != nil {
				return err
			}
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "FRAG") {
					fmt.Printf("v6=%v frame %d bytes: %s\n", v6, len(f)+14, l)
				}
			}
		}
	}
	return nil
}
