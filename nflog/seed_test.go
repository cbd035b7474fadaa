package nflog

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/iptwin/iptwin/packet"
)

// The LOG lines of the seed stories, as their authors copied them from
// /var/log/messages (../shared/seeds/000, 001, 002).
const (
	seed000Input   = "Jun 20 21:51:02 debian kernel: [   47.689659] [INPUT] IN=eth0 OUT= MAC=00:0c:29:e8:bf:d4:00:0c:29:35:1c:6d:08:00 SRC=10.0.0.200 DST=10.0.0.201 LEN=364 TOS=0x00 PREC=0x00 TTL=64 ID=8099 DF PROTO=UDP SPT=500 DPT=500 LEN=344 "
	seed000Forward = "Jun 20 20:52:06 debian kernel: [18024.486179] [FORWARD] IN=eth0 OUT=eth1 MAC=00:0c:29:e8:bf:d4:00:0c:29:35:1c:6d:08:00 SRC=192.168.200.2 DST=192.168.201.2 LEN=84 TOS=0x00 PREC=0x00 TTL=62 ID=21235 DF PROTO=ICMP TYPE=8 CODE=0 ID=6401 SEQ=1 "
	// The author replaced the MAC address with #s and lost the trailing space.
	seed001Frag = "Aug 26 04:00:43 grummle kernel: iptables: REJECT IN=eth0 OUT= MAC=############### SRC=2001:0db8:0000:0000:0000:0000:be6b:d879 DST=2001:0db8:000f:0608:0000:0000:0000:0002 LEN=424 TC=0 HOPLIMIT=51 FLOWLBL=0 OPT ( FRAG:1232 ID:5efa507c ) PROTO=UDP"
	// Copied through a web page: runs of spaces collapsed, trailing space lost.
	seed002Input  = "Sep 2 08:58:57 localhost kernel: [INPUT]IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=10084 DF PROTO=ICMP TYPE=8 CODE=0 ID=1496 SEQ=1"
	seed002Output = "Sep 2 09:31:43 localhost kernel: [OUTPUT] IN= OUT=eth0 SRC=10.1.51.165 DST=10.1.77.146 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=41414 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.77.146 DST=10.1.51.165 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=40037 DF PROTO=TCP SPT=55724 DPT=22 WINDOW=26883 RES=0x00 SYN URGP=0 ]"
)

func unixNano(s string) int64 {
	t, err := time.Parse("2006 Jan _2 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

// seedLine renders a recorded case's packet (with the given IPv4 ID when
// not 0) and frames it as syslog does.
func seedLine(t *testing.T, name string, id uint16, at int64, host string, opts SyslogOptions) string {
	t.Helper()
	for _, c := range loadGolden(t) {
		if c.Name != name {
			continue
		}
		pkt := append([]byte(nil), c.Packet...)
		if id != 0 {
			// The ID the seed's kernel chose for its ICMP error.
			binary.BigEndian.PutUint16(pkt[4:], id)
		}
		var p packet.Packet
		if err := p.Decode(pkt); err != nil {
			t.Fatal(err)
		}
		line := AppendLine(nil, &p, metaOf(&c))
		return string(AppendSyslog(nil, at, host, line, opts))
	}
	t.Fatalf("no recorded case %s", name)
	return ""
}

// TestSeedLines reproduces the seeds' lines from the packets the kernel
// logged when the seeds' traffic was replayed (same addresses, MACs,
// prefixes and header fields).
func TestSeedLines(t *testing.T) {
	t.Run("000-input", func(t *testing.T) {
		at := unixNano("2019 Jun 20 21:51:02")
		boot := at - 47_689659_000 // "[   47.689659]"
		got := seedLine(t, "seed000-input-ike", 0, at, "debian", SyslogOptions{Uptime: true, Boot: boot})
		if got != seed000Input {
			t.Errorf("\n got %q\nwant %q", got, seed000Input)
		}
	})
	t.Run("000-forward", func(t *testing.T) {
		at := unixNano("2019 Jun 20 20:52:06")
		boot := at - 18024_486179_000
		got := seedLine(t, "seed000-forward-ping", 0, at, "debian", SyslogOptions{Uptime: true, Boot: boot})
		if got != seed000Forward {
			t.Errorf("\n got %q\nwant %q", got, seed000Forward)
		}
	})
	t.Run("001-fragment", func(t *testing.T) {
		got := seedLine(t, "seed001-second-fragment", 0, unixNano("2020 Aug 26 04:00:43"), "grummle", SyslogOptions{})
		mac := got[strings.Index(got, "MAC=")+4:]
		mac = mac[:strings.IndexByte(mac, ' ')]
		got = strings.Replace(got, mac, "###############", 1)
		if !strings.HasSuffix(got, " ") {
			t.Errorf("line lacks the kernel's trailing space: %q", got)
		}
		if got = strings.TrimSuffix(got, " "); got != seed001Frag {
			t.Errorf("\n got %q\nwant %q", got, seed001Frag)
		}
	})
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	t.Run("002-input", func(t *testing.T) {
		got := seedLine(t, "seed002-input-ping", 0, unixNano("2017 Sep  2 08:58:57"), "localhost", SyslogOptions{})
		if !strings.HasPrefix(got, "Sep  2 08:58:57 localhost kernel: [INPUT]IN=eth0 ") {
			t.Errorf("syslog frame: %q", got)
		}
		if collapse(got) != seed002Input {
			t.Errorf("\n got %q\nwant %q", got, seed002Input)
		}
	})
	t.Run("002-output", func(t *testing.T) {
		got := seedLine(t, "seed002-output-reject", 41414, unixNano("2017 Sep  2 09:31:43"), "localhost", SyslogOptions{})
		if collapse(got) != seed002Output {
			t.Errorf("\n got %q\nwant %q", got, seed002Output)
		}
	})
}
