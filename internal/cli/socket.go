package cli

import (
	"fmt"
	"strings"

	"github.com/iptwin/iptwin/stack"
)

// iptwin socket: the twin host's listening sockets, which decide how its
// stack answers (a SYN-ACK or a RST, a datagram taken or an ICMP port
// unreachable).
func init() { Register("socket", runSocket) }

const socketUsage = `Usage: iptwin socket list
       iptwin socket add|del tcp|udp [ADDRESS] PORT [uid N gid N]
       iptwin socket flush

A listening TCP socket or a bound UDP socket on the twin host (ADDRESS
omitted: every address). Without one, the host answers a TCP SYN with a
RST and a UDP datagram with ICMP port unreachable, as Linux does.
`

func runSocket(env *Env, prog string, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, socketUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	d, rc := openState(env, prog)
	if rc != 0 {
		return rc
	}
	defer d.Unlock()
	socks, err := stack.LoadSockets(d)
	if err != nil {
		fmt.Fprintf(env.Stderr, "iptwin socket: %v\n", err)
		return 1
	}
	switch args[0] {
	case "list", "ls", "show":
		for _, sk := range socks {
			fmt.Fprintln(env.Stdout, sk)
		}
		return 0
	case "flush":
		socks = nil
	case "add", "del", "delete":
		sk, err := stack.ParseSocket(strings.Join(args[1:], " "))
		if err != nil {
			fmt.Fprintf(env.Stderr, "iptwin socket: %v\n", err)
			return 2
		}
		found := -1
		for i, o := range socks {
			if o.Proto == sk.Proto && o.Addr == sk.Addr && o.Port == sk.Port {
				found = i
			}
		}
		if args[0] == "add" {
			if found >= 0 {
				fmt.Fprintf(env.Stderr, "iptwin socket: %s: Address already in use\n", sk)
				return 1
			}
			socks = append(socks, sk)
		} else {
			if found < 0 {
				fmt.Fprintf(env.Stderr, "iptwin socket: %s: no such socket\n", sk)
				return 1
			}
			socks = append(socks[:found], socks[found+1:]...)
		}
	default:
		fmt.Fprintf(env.Stderr, "iptwin socket: unknown command %q\n%s", args[0], socketUsage)
		return 2
	}
	if err := stack.SaveSockets(d, socks); err != nil {
		fmt.Fprintf(env.Stderr, "iptwin socket: %v\n", err)
		return 1
	}
	return 0
}
