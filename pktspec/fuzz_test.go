package pktspec

import (
	"reflect"
	"testing"
)

var fuzzSeeds = []string{
	"tcp 10.1.77.146:55724 > 10.1.51.165:22 syn in eth0",
	"in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 S. seq 5 ack peer+1 mss 1460 sackok ts 1:2 wscale 7",
	"udp [2001:db8::1]:500 > [2001:db8::2]:500 len 1596",
	"icmp 10.0.0.2 > 10.0.0.1 echo-request id 7 seq 1",
	"icmp6 2001:db8::2 > 2001:db8::1 type 128 out",
	"icmp 10.0.0.9 > 10.0.0.1 port-unreachable quote 28 quoting udp 10.0.0.1:5000 > 10.0.0.2:53",
	"esp 1.2.3.4 > 5.6.7.8 spi 0xc1a2 seq 3 out",
	"udp [2001:db8::be6b:d879]:4500 > [2001:db8:f:608::2]:4500 ike payload 1596 fragid 0x5efa507c mf len 1280",
	"udp 10.0.0.1:1 > 10.0.0.2:2 payload 100 id 9 off 40 mf len 60 ttl 1 tos 0x10 df ce",
	"ip 1.2.3.4 > 5.6.7.8 proto 47 ipopts 94040000 data 00ff smac 02:00:00:00:00:01",
	"tcp 1.1.1.1.1 > 2.2.2.2.2: flags [FP.] acknum 5 tcpopts 0101 length 10",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		_, _ = s.Resolve(1).Append(nil)
		out := s.String()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, its String %q fails: %v", in, out, err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("Parse(%q) and Parse(%q) differ:\n%+v\n%+v", in, out, s, s2)
		}
	})
}

func FuzzParseLog(f *testing.F) {
	for _, s := range logLines {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseLog(in)
		if err != nil {
			return
		}
		_, _ = s.Append(nil)
		out := s.String()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("ParseLog(%q) ok, its String %q fails: %v", in, out, err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("ParseLog(%q) and Parse(%q) differ:\n%+v\n%+v", in, out, s, s2)
		}
	})
}
