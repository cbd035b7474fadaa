package sim

import (
	"os"
	"path/filepath"
	"strings"
)

// ipsec in a host's scripts: the script's `ipsec` (iptwin's, on its PATH)
// appends the command to IPsecRequests in the host's state directory;
// the simulator carries the commands out when the script is done. After
// a setup script they run at boot, once charon started: "up NAME" as
// starter does for auto=start (charon's lines go to syslog), "stop"
// stops it, start/restart/reload find it running. After a step's
// "bash FILE" they run in the step, one after the other, printing what
// the same step commands print.

// IPsecRequests is the state directory's file of the ipsec commands a
// script ran: one per line, arguments separated by tabs.
const IPsecRequests = "ipsec.requests"

// takeIPsecRequests reads and removes a host's queued ipsec commands.
func (sh *simHost) takeIPsecRequests() ([][]string, error) {
	path := filepath.Join(sh.dir, IPsecRequests)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil {
		return nil, err
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if l != "" {
			out = append(out, strings.Split(l, "\t"))
		}
	}
	return out, nil
}

// bootIPsecRequests carries out what a host's setup script asked of
// ipsec, once the network is up and charon (if any) started.
func (n *Network) bootIPsecRequests(sh *simHost) error {
	reqs, err := sh.takeIPsecRequests()
	if err != nil || len(reqs) == 0 {
		return err
	}
	ih := ipsecOf(sh)
	for _, r := range reqs {
		cmd := "ipsec " + strings.Join(r, " ")
		if ih == nil {
			return &SetupError{Host: sh.name, Command: cmd, Status: 1,
				Stderr: "ipsec: no ipsec.conf on this host (give the host an ipsec field)"}
		}
		switch r[0] {
		case "start", "restart", "reload":
			// charon has just started with the host's files
		case "stop":
			if ih.running {
				ih.stop()
			}
		case "up":
			if len(r) != 2 || !ih.running {
				return &SetupError{Host: sh.name, Command: cmd, Status: 1, Stderr: "Usage: ipsec up <connectionname>"}
			}
			ih.emit(ih.d.Up(r[1], n.now))
			ih.rearm()
		case "status", "statusall":
			// printed nothing anyone reads at boot
		default:
			return &SetupError{Host: sh.name, Command: cmd, Status: 1, Stderr: ipsecUsage}
		}
	}
	return nil
}

// stepIPsecRequests are the programs of the ipsec commands a step's
// script ran, to run after it.
func (sh *simHost) stepIPsecRequests() ([]Program, error) {
	reqs, err := sh.takeIPsecRequests()
	if err != nil || len(reqs) == 0 {
		return nil, err
	}
	var out []Program
	for _, r := range reqs {
		p, err := newIPsecCmd(sh.env(), r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
