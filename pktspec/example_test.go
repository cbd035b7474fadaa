package pktspec_test

import (
	"fmt"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
)

func Example() {
	s, err := pktspec.Parse("tcp 10.1.77.146:55724 > 10.1.51.165:22 S win 26883 ipid 40037 df in eth0")
	if err != nil {
		panic(err)
	}
	b, _ := s.Append(nil)
	var p packet.Packet
	p.Decode(b)
	fmt.Println(s)
	fmt.Println(p.String())

	l, _ := pktspec.ParseLog("Sep 2 09:31:43 localhost kernel: [OUTPUT] IN= OUT=eth0 SRC=10.1.51.165 DST=10.1.77.146 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=41414 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.77.146 DST=10.1.51.165 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=40037 DF PROTO=TCP SPT=55724 DPT=22 WINDOW=26883 RES=0x00 SYN URGP=0 ]")
	fmt.Println(l)

	_, err = pktspec.Parse("tcp 10.0.0.1:1 > 10.0.0.2:22 syn tll 3")
	fmt.Println(err)
	// Output:
	// in eth0 tcp 10.1.77.146:55724 > 10.1.51.165:22 syn win 26883 ipid 40037 df
	// IP 10.1.77.146.55724 > 10.1.51.165.22: Flags [S], seq 1000, win 26883, length 0
	// out icmp 10.1.51.165 > 10.1.77.146 port-unreachable tos 0xc0 ipid 41414 len 88 quoting tcp 10.1.77.146:55724 > 10.1.51.165:22 syn seq 0 win 26883 ipid 40037 df len 60 payload 20
	// pktspec: "tll": unknown field for tcp
}
