#!/usr/bin/env python3
"""Record what the kernel's matches make of crafted packets.

Each case is a rule (iptables or ip6tables arguments) and a packet. The
rule goes into the raw table's PREROUTING chain of a network namespace
between two counting rules; the packet is sent into the namespace over a
veth pair as an Ethernet frame; the counters tell whether the packet
reached the rule, matched it, or was dropped by it (a match's hot drop):

    arrived  matched  after   outcome
       1        1       1     match
       1        0       1     nomatch
       1        0       0     drop

The outcomes go to cases.golden (one line a case, tab-separated:
family, rule, destination MAC, packet hex, outcome), which the Go test
TestKernelMatches replays through the twin's matches.

Run as root from the repository root (it creates and deletes the
namespaces iptw-m1-a and iptw-m1-b):

    python3 ext/l4/testdata/kernel/record.py
"""

import os
import socket
import struct
import subprocess
import sys

A, B = "iptw-m1-a", "iptw-m1-b"
MAC_A, MAC_B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"
SRC4, DST4 = "10.9.0.1", "10.9.0.2"
SRC6, DST6 = "fd09::1", "fd09::2"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.golden")


# The sets of B's host; cases.golden lists them for the replay.
SETS = [
    ("create", "s4", "hash:ip"),
    ("add", "s4", SRC4),
    ("create", "n4", "hash:net"),
    ("add", "n4", "10.9.0.0/24"),
    ("add", "n4", "10.9.0.1", "nomatch"),
    ("create", "p4", "hash:ip,port"),
    ("add", "p4", DST4 + ",tcp:22"),
    ("add", "p4", DST4 + ",icmp:echo-request"),
    ("add", "p4", DST4 + ",47:0"),
    ("create", "s6", "hash:ip", "family", "inet6"),
    ("add", "s6", SRC6),
    ("create", "m", "bitmap:ip,mac", "range", "10.9.0.0/24"),
    ("add", "m", SRC4 + "," + MAC_A),
    ("add", "m", DST4),
    ("create", "bp", "bitmap:port", "range", "1-1000"),
    ("add", "bp", "22"),
    ("create", "l", "list:set"),
    ("add", "l", "p4"),
    ("add", "l", "s4"),
]


def sh(*args, check=True, ns=None):
    if ns:
        args = ("ip", "netns", "exec", ns) + args
    r = subprocess.run(args, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def setup():
    teardown()
    sh("ip", "netns", "add", A)
    sh("ip", "netns", "add", B)
    # No IPv6 from A's side: nothing but the cases reaches B.
    sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=A)
    sh("ip", "link", "add", "vm1a", "netns", A, "type", "veth", "peer", "name", "vm1b", "netns", B)
    sh("sysctl", "-qw", "net.ipv6.conf.vm1a.disable_ipv6=1", ns=A)
    sh("ip", "-n", A, "link", "set", "vm1a", "address", MAC_A, "up")
    sh("ip", "-n", B, "link", "set", "vm1b", "address", MAC_B, "up")
    sh("ip", "-n", B, "link", "set", "lo", "up")
    sh("ip", "-n", B, "addr", "add", DST4 + "/24", "dev", "vm1b")
    sh("ip", "-n", B, "addr", "add", DST6 + "/64", "dev", "vm1b", "nodad")
    for args in SETS:
        sh("ipset", *args, ns=B)


def teardown():
    for ns in (A, B):
        sh("ip", "netns", "del", ns, check=False)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def a4(s):
    return socket.inet_pton(socket.AF_INET, s)


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


# Packet builders: the IP packet as bytes.

def ip4(proto, payload, tos=0, ttl=64, frag=0, mf=False, df=False, opts=b"", src=SRC4, dst=DST4, ident=1, tot=None):
    ihl = (20 + len(opts)) // 4
    fo = frag | (0x2000 if mf else 0) | (0x4000 if df else 0)
    tl = tot if tot is not None else 20 + len(opts) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, tl, ident, fo, ttl, proto, 0, a4(src), a4(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(nh, payload, tc=0, flow=0, hl=64, src=SRC6, dst=DST6):
    w = 6 << 28 | tc << 20 | flow
    return struct.pack("!IHBB16s16s", w, len(payload), nh, hl, a6(src), a6(dst)) + payload


def ext(nh, body):
    """An IPv6 option-style extension header (hop-by-hop, routing, dst)."""
    n = 2 + len(body)
    assert n % 8 == 0, n
    return struct.pack("!BB", nh, n // 8 - 1) + body


def frag6(nh, off=0, mf=False, ident=0x1234):
    return struct.pack("!BBHI", nh, 0, off << 3 | (1 if mf else 0), ident)


def ah(nh, spi, words=4, res=0):
    # (words+2)*4 bytes: the header and an ICV of (words-1)*4 bytes.
    icv = b"\0" * ((words + 2) * 4 - 12)
    return struct.pack("!BBHII", nh, words, res, spi, 1) + icv


def tcp(sport=1234, dport=22, flags=0x02, opts=b"", data=b"", doff=None):
    while len(opts) % 4:
        opts += b"\0"
    d = doff if doff is not None else 5 + len(opts) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, d << 4, flags, 1024, 0, 0) + opts + data


def udp(sport=1234, dport=53, data=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(typ, code=0, rest=0, data=b""):
    return struct.pack("!BBHI", typ, code, 0, rest) + data


def esp(spi, data=b"\0" * 8):
    return struct.pack("!II", spi, 1) + data


def sctp(sport=5000, dport=5001, chunks=b""):
    return struct.pack("!HHII", sport, dport, 0, 0) + chunks


def chunk(typ, flags=0, body=b""):
    n = 4 + len(body)
    c = struct.pack("!BBH", typ, flags, n) + body
    return c + b"\0" * (-n % 4)


def dccp(sport=5000, dport=5001, typ=0, x=1, opts=b""):
    # Generic header with X=1 (16 bytes), then the type's part.
    part = {0: 4, 1: 12, 2: 0, 3: 8, 4: 8, 5: 8, 6: 8, 7: 12, 8: 8, 9: 8}.get(typ, 12)
    hl = (12 if not x else 16) + part
    body = b"\0" * (hl - 12 + (0 if x else 0)) + opts
    while (12 + len(body)) % 4:
        body += b"\0"
    doff = (12 + len(body)) // 4
    b8 = typ << 1 | x
    return struct.pack("!HHBBHBB", sport, dport, doff, 0, 0, b8, 0) + b"\0\0" + body


# The cases: (family, rule, packet) or (family, rule, packet, dst MAC).

def cases():
    c = []
    t4 = lambda rule, pkt, mac=MAC_B: c.append((4, rule, pkt, mac))
    t6 = lambda rule, pkt, mac=MAC_B: c.append((6, rule, pkt, mac))
    syn = ip4(6, tcp())
    # tcp, native (payload loads) and xt (with --tcp-option).
    for r in ["-p tcp --dport 22", "-p tcp ! --dport 22", "-p tcp --dport 20:30", "-p tcp ! --dport 20:30",
              "-p tcp --sport 1234 --dport 22", "-p tcp ! --sport 1234 ! --dport 22", "-p tcp ! --sport 1234 ! --dport 23",
              "-p tcp --syn", "-p tcp ! --syn", "-p tcp --tcp-flags SYN,ACK ACK", "-p tcp --dport 0:21",
              "-p tcp ! --dport 0:21", "-p tcp --dport 22 --tcp-option 2", "-p tcp --dport 22 ! --tcp-option 2",
              "-p tcp --tcp-option 3", "-p tcp --syn --tcp-option 2", "-p tcp -m tcp", "! -p tcp --dport 22"]:
        t4(r, syn)
        t4(r, ip4(6, tcp(opts=b"\x02\x04\x05\xb4")))
        t4(r, ip4(6, tcp(flags=0x10, dport=23)))
    frag1 = ip4(6, struct.pack("!HHI", 0, 22, 0xff), frag=1)
    frag2 = ip4(6, struct.pack("!HHI", 0, 22, 0xff), frag=2)
    tiny = ip4(6, struct.pack("!HHI", 1234, 22, 0xff), mf=True)
    tiny2 = ip4(6, struct.pack("!HH", 1234, 22), mf=True)
    tiny1 = ip4(6, b"\x04\xd2", mf=True)
    for r in ["-p tcp --dport 22", "-p tcp ! --dport 22", "-p tcp --sport 1234 --dport 22", "-p tcp ! --sport 1234 ! --dport 23",
              "-p tcp --syn", "-p tcp --dport 22 --tcp-option 2", "-p tcp ! --dport 22 --tcp-option 2", "-p tcp -m tcp",
              "-p udp --dport 22", "-p udp -m udp", "-p tcp -m multiport --dports 22", "-p tcp -m tcpmss --mss 1:65535",
              "-p tcp -m ecn --ecn-tcp-ece", "-p tcp -m multiport ! --dports 21"]:
        for p in (frag1, frag2, tiny, tiny2, tiny1):
            t4(r, p)
    # Options: the kind at the last byte, a zero length, options cut short.
    t4("-p tcp --tcp-option 8", ip4(6, tcp(opts=b"\x01\x01\x01\x08")))
    t4("-p tcp --tcp-option 8", ip4(6, tcp(opts=b"\x03\x00\x01\x08")))
    t4("-p tcp --tcp-option 8", ip4(6, tcp(opts=b"\x03\x03\x00\x01")))
    t4("-p tcp --tcp-option 8", ip4(6, tcp(opts=b"\x02\x04\x05\xb4", doff=8)[:40]))
    t4("-p tcp --tcp-option 2", ip4(6, tcp(doff=4)))
    # udp
    for r in ["-p udp --dport 53", "-p udp ! --dport 53", "-p udp --sport 1234 --dport 53", "-p udp ! --sport 1234 ! --dport 54",
              "-p udp --sport 1000:2000", "-p udp -m udp"]:
        t4(r, ip4(17, udp()))
        t4(r, ip4(17, udp()[:4], mf=True))
        t4(r, ip4(17, udp(), frag=3))
    # icmp
    for r in ["-p icmp --icmp-type echo-request", "-p icmp ! --icmp-type echo-request", "-p icmp --icmp-type any",
              "-p icmp ! --icmp-type any", "-p icmp --icmp-type 3/4", "-p icmp --icmp-type destination-unreachable"]:
        t4(r, ip4(1, icmp(8)))
        t4(r, ip4(1, icmp(3, 4)))
        t4(r, ip4(1, icmp(8)[:4], mf=True))
        t4(r, ip4(1, icmp(8), frag=2))
    # multiport
    for r in ["-p tcp -m multiport --dports 21,22,80", "-p tcp -m multiport ! --dports 21,22", "-p tcp -m multiport --sports 1000:2000",
              "-p tcp -m multiport --ports 1234", "-p tcp -m multiport ! --ports 1,2:5", "-p udp -m multiport --dports 53"]:
        t4(r, syn)
        t4(r, ip4(17, udp()))
    # esp, ah, ipcomp
    for r in ["-p esp -m esp --espspi 5", "-p esp -m esp ! --espspi 5", "-p esp -m esp --espspi 1:10"]:
        t4(r, ip4(50, esp(5)))
        t4(r, ip4(50, esp(50)))
        t4(r, ip4(50, esp(5)[:6], mf=True))
    for r in ["-p ah -m ah --ahspi 7", "-p ah -m ah ! --ahspi 7"]:
        t4(r, ip4(51, ah(6, 7) + tcp()))
        t4(r, ip4(51, ah(6, 7)[:8], mf=True))
    t4("-p tcp --dport 22", ip4(51, ah(6, 7) + tcp()))
    for r in ["-p 108 -m ipcomp --ipcompspi 9", "-p 108 -m ipcomp ! --ipcompspi 9"]:
        t4(r, ip4(108, struct.pack("!BBH", 4, 0, 9) + b"\0" * 8))
        t4(r, ip4(108, struct.pack("!BBH", 4, 0, 10) + b"\0" * 8))
        t4(r, ip4(108, b"\x04\x00", mf=True))
    # tcpmss: no fragment check
    for r in ["-p tcp -m tcpmss --mss 1460", "-p tcp -m tcpmss ! --mss 1460", "-p tcp -m tcpmss --mss 1000:1500"]:
        t4(r, ip4(6, tcp(opts=b"\x02\x04\x05\xb4")))
        t4(r, ip4(6, tcp(opts=b"\x01\x02\x04\x05\xb4")))
        t4(r, ip4(6, tcp()))
        t4(r, ip4(6, tcp(opts=b"\x02\x04\x05\xb4", doff=8)[:32]))
        t4(r, ip4(6, tcp(opts=b"\x02\x04\x05\xb4"), frag=5))
    # sctp
    sc = sctp(chunks=chunk(1, 0, b"\0" * 16))
    data = sctp(chunks=chunk(0, 3, b"\0" * 12) + chunk(3, 0, b"\0" * 12))
    for r in ["-p sctp --dport 5001", "-p sctp ! --sport 5000", "-p sctp --chunk-types any INIT", "-p sctp --chunk-types all DATA,SACK",
              "-p sctp --chunk-types all DATA,INIT", "-p sctp --chunk-types only DATA,SACK", "-p sctp ! --chunk-types only DATA",
              "-p sctp --chunk-types any DATA:Be", "-p sctp --chunk-types any DATA:BE", "-p sctp --chunk-types only DATA:E,SACK"]:
        t4(r, ip4(132, sc))
        t4(r, ip4(132, data))
        t4(r, ip4(132, sctp(chunks=b"\x01\x00\x00\x00")))
        t4(r, ip4(132, sctp(chunks=chunk(0, 3, b"\0" * 12))[:14]))
    # dccp
    for r in ["-p 33 -m dccp --dport 5001", "-p 33 -m dccp --dccp-types REQUEST", "-p 33 -m dccp ! --dccp-types REQUEST,DATA",
              "-p 33 -m dccp --dccp-option 32", "-p 33 -m dccp ! --dccp-option 32", "-p 33 -m dccp --dccp-types INVALID"]:
        t4(r, ip4(33, dccp()))
        t4(r, ip4(33, dccp(opts=b"\x20\x03\x01\x00")))
        t4(r, ip4(33, dccp(typ=12)))
        t4(r, ip4(33, dccp()[:8], mf=True))
    # IP header matches
    for r in ["-m dscp --dscp 0x2e", "-m dscp ! --dscp 0x2e", "-m tos --tos 0xb8/0xff", "-m tos --tos 0x10/0x10",
              "-m ecn --ecn-ip-ect 2", "-m ecn ! --ecn-ip-ect 2", "-p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr",
              "-p tcp -m ecn ! --ecn-tcp-cwr", "-m ttl --ttl-eq 64", "-m ttl ! --ttl-eq 64", "-m ttl --ttl-lt 10",
              "-m ttl --ttl-gt 63", "-m length --length 40", "-m length ! --length 41:1000", "-m length --length 60:40"]:
        t4(r, ip4(6, tcp(flags=0xc2), tos=0xba, ttl=64))
        t4(r, ip4(6, tcp(flags=0x02), tos=0x01, ttl=5))
    for r in ["-m iprange --src-range 10.9.0.0-10.9.0.1", "-m iprange ! --src-range 10.9.0.0-10.9.0.1",
              "-m iprange --dst-range 10.9.0.3-10.9.0.9", "-m iprange --src-range 10.9.0.1-10.9.0.1 --dst-range 10.9.0.2-10.9.0.2",
              "-m iprange --src-range 10.9.0.5-10.9.0.1"]:
        t4(r, syn)
    for r in ['-m u32 --u32 "0>>22&0x3C@0>>16=22"', '-m u32 ! --u32 "0>>22&0x3C@0>>16=22"', '-m u32 --u32 "6&0xFF=6&&0>>22&0x3C@12>>24&0x2=2"',
              '-m u32 --u32 "100=0"', '-m u32 ! --u32 "100=0"', '-m u32 --u32 "0>>22&0x3C@100=0"', '-m u32 --u32 "0&0xFFFF=0x28:0x40,0x100"',
              '-m u32 --u32 "0>>33=0x45"', '-m u32 --u32 "16=0xa090002"']:
        t4(r, syn)
    # string: bm and kmp, --from/--to, --icase, hex
    pay = ip4(17, udp(data=b"GET /index.html HTTP/1.1\r\nHost: Example\r\n"))
    for r in ['-m string --algo bm --string index', '-m string --algo kmp --string index', '-m string --algo bm ! --string index',
              '-m string --algo bm --string INDEX --icase', '-m string --algo kmp --string INDEX --icase',
              '-m string --algo bm --string index --to 32', '-m string --algo bm --string index --to 38',
              '-m string --algo bm --string index --from 34', '-m string --algo kmp --string index --from 33',
              '-m string --algo bm --hex-string "|0d0a|Host"', '-m string --algo bm --string abcab',
              '-m string --algo bm --string xample', '-m string --algo kmp --string example --icase',
              '-m string --algo bm --string GET --from 28 --to 31', '-m string --algo bm --string GET --from 28 --to 30',
              '-m string --algo bm --string E', '-m string --algo bm --string 1.1 --from 200']:
        t4(r, pay)
    t4("-m string --algo bm --string abcab", ip4(17, udp(data=b"xxabcabcabyy")))
    t4("-m string --algo bm --string abcab", ip4(17, udp(data=b"xxabcaabcabyy")))
    t4("-m string --algo bm --string aabaa", ip4(17, udp(data=b"aabaabaacaabaa")))
    t4("-m string --algo bm --string anpanman", ip4(17, udp(data=b"xxanpanmanxx")))
    t4('-m string --algo bm --hex-string "|df|" --icase', ip4(17, udp(data=b"x\xbfx")))
    t4('-m string --algo bm --hex-string "|e9|" --icase', ip4(17, udp(data=b"x\xc9x")))
    t4('-m string --algo kmp --hex-string "|ff|" --icase', ip4(17, udp(data=b"x\xdfx")))
    # bpf: "ip proto 6" and a load past the end
    for r in ['-m bpf --bytecode "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0"',
              '-m bpf --bytecode "4,48 0 0 200,21 0 1 6,6 0 0 1,6 0 0 0"',
              '-m bpf --bytecode "3,177 0 0 0,80 0 0 13,6 0 0 65535"',
              '-m bpf --bytecode "2,128 0 0 0,22 0 0 0"',
              '-m bpf --bytecode "4,40 0 0 4294963200,21 0 1 2048,6 0 0 1,6 0 0 0"']:
        t4(r, syn)
        t4(r, ip4(17, udp()))
    # meta
    for r in ["-m comment --comment x", "-m mac --mac-source " + MAC_A, "-m mac ! --mac-source " + MAC_A,
              "-m mac --mac-source 02:00:00:00:0a:02", "-m pkttype --pkt-type unicast", "-m pkttype --pkt-type broadcast",
              "-m pkttype --pkt-type multicast", "-m pkttype ! --pkt-type unicast",
              "-m physdev --physdev-in vm1b", "-m physdev ! --physdev-in vm1b", "-m physdev ! --physdev-is-bridged ! --physdev-is-in",
              "-m addrtype --dst-type LOCAL", "-m addrtype --src-type LOCAL", "-m addrtype ! --src-type LOCAL",
              "-m addrtype --dst-type BROADCAST", "-m addrtype --dst-type MULTICAST", "-m addrtype --src-type UNICAST --dst-type LOCAL",
              "-m addrtype --dst-type LOCAL --limit-iface-in", "-m addrtype --dst-type UNICAST,BROADCAST",
              "-p tcp -m osf --genre Linux", "-p tcp -m osf ! --genre Linux",
              "-m set --match-set s4 src", "-m set ! --match-set s4 src", "-m set --match-set s4 dst",
              "-m set --match-set n4 src", "-m set --match-set n4 dst", "-m set --match-set n4 src --return-nomatch",
              "-m set --match-set n4 dst --return-nomatch", "-m set --match-set p4 dst,dst", "-m set --match-set p4 dst,src",
              "-m set --match-set p4 dst", "-m set --match-set m src,src", "-m set --match-set m src,dst", "-m set --match-set m dst,dst",
              "-m set --match-set bp dst", "-m set --match-set l dst,dst", "-m set --match-set l src"]:
        t4(r, syn)
        t4(r, ip4(1, icmp(8), dst="10.9.0.255"), "ff:ff:ff:ff:ff:ff")
        t4(r, ip4(47, b"\0" * 8, dst="224.0.0.5"), "01:00:5e:00:00:05")
        t4(r, ip4(17, udp(dport=22)))
        t4(r, ip4(6, tcp(), frag=4))
    for r in ["-m rpfilter", "-m rpfilter --invert", "-m rpfilter --loose", "-m rpfilter --accept-local",
              "-m rpfilter --validmark", "-m rpfilter --loose --invert"]:
        t4(r, syn)
        t4(r, ip4(6, tcp(), src="10.8.0.1"))
        t4(r, ip4(6, tcp(), src=DST4))
        t4(r, ip4(17, udp(sport=68, dport=67), src="0.0.0.0", dst="255.255.255.255"), "ff:ff:ff:ff:ff:ff")
        t4(r, ip4(17, udp(), src="0.0.0.0"))
        t6(r, ip6(6, tcp()))
        t6(r, ip6(6, tcp(), src="fd08::1"))
        t6(r, ip6(6, tcp(), src=DST6))
        t6(r, ip6(6, tcp(), src="fe80::1"))
        t6(r, ip6(6, tcp(), src="::"))
    # IPv6
    syn6 = ip6(6, tcp())
    for r in ["-p tcp --dport 22", "-p tcp ! --dport 22", "-p tcp --syn", "-p tcp --dport 22 --tcp-option 2",
              "-p tcp ! --sport 1234 ! --dport 23", "-p udp --dport 22", "-p tcp -m multiport --dports 22", "-p tcp -m tcpmss --mss 1:65535",
              "-m ah", "-m ah --ahspi 7", "-m ah ! --ahspi 7", "-m ah --ahlen 24", "-m ah --ahres", "-p ah", "-p tcp -m tcp",
              "-m frag", "-m frag --fragid 0x1234", "-m frag ! --fragid 0x1234", "-m frag --fragfirst", "-m frag --fragmore",
              "-m frag --fraglast", "-m frag --fragres", "-m hbh", "-m hbh --hbh-len 8", "-m hbh --hbh-opts 1", "-m hbh --hbh-opts 1:4",
              "-m hbh --hbh-opts 0,1", "-m dst", "-m dst --dst-opts 1:4", "-m rt", "-m rt --rt-type 0", "-m rt --rt-segsleft 1:2",
              "-m rt --rt-type 0 --rt-0-addrs ::1", "-m rt --rt-type 0 --rt-0-addrs ::1 --rt-0-not-strict", "-m rt --rt-len 24",
              "-m rt --rt-type 0 --rt-0-res",
              "-m ipv6header --header prot", "-m ipv6header --header hop,prot", "-m ipv6header --header hop --soft",
              "-m ipv6header ! --header hop", "-m ipv6header --header frag,prot", "-m ipv6header --header auth,prot",
              "-m ipv6header --header none", "-m ipv6header --header esp", "-m hl --hl-eq 64", "-m hl --hl-lt 65",
              "-m length --length 60", "-m length --length 40:59", "-m dscp --dscp 0x2e", "-m tos --tos 0xb8/0xfc", "-m ecn --ecn-ip-ect 2",
              "-m eui64", "-m iprange --src-range fd09::-fd09::1", "-m iprange ! --dst-range fd09::3-fd09::ffff",
              "-m u32 --u32 \"6>>24=6\"", "-m set --match-set s6 src", "-m addrtype --dst-type LOCAL", "-m addrtype --src-type UNICAST",
              "-m addrtype --dst-type MULTICAST", "-m pkttype --pkt-type multicast", "-p ipv6-icmp --icmpv6-type echo-request",
              "-p ipv6-icmp ! --icmpv6-type echo-request", "-p mh -m mh --mh-type 5", "-m srh", "-m srh --srh-segs-left-eq 1",
              "-m srh --srh-lsid fd09::5/128", "-m srh ! --srh-next-hdr 6", "-m srh --srh-nsid fd09::5/128"]:
        t6(r, syn6)
        t6(r, ip6(6, tcp(opts=b"\x02\x04\x05\xb4"), tc=0xba))
        t6(r, ip6(0, ext(6, b"\x01\x04\0\0\0\0") + tcp()))
        t6(r, ip6(0, ext(60, b"\x00\x00\x01\x02\0\0") + ext(6, b"\x01\x04\0\0\0\0") + tcp()))
        t6(r, ip6(44, frag6(6, 0, True) + tcp()))
        t6(r, ip6(44, frag6(6, 3, False) + struct.pack("!HHI", 1234, 22, 0)))
        t6(r, ip6(44, frag6(6, 0, True) + struct.pack("!HH", 1234, 22)))
        t6(r, ip6(6, tcp(), flow=22))
        t6(r, ip6(44, frag6(6, 1, False) + b"\0" * 8, flow=22))
        t6(r, ip6(51, ah(6, 7) + tcp()))
        t6(r, ip6(43, ext(6, b"\x00\x01\0\0\0\0" + a6("::1")) + tcp()))
        t6(r, ip6(43, ext(6, struct.pack("!BBI", 4, 1, 0x00000000) + a6("fd09::5") + a6("fd09::6")) + tcp()))
        t6(r, ip6(43, ext(6, b"\x00\x02\0\0\0\0" + a6("::1") + a6("::2")) + tcp()))
        t6(r, ip6(59, b""))
        t6(r, ip6(50, esp(5)))
        t6(r, ip6(58, icmp(128)), "33:33:00:00:00:01")
        t6(r, ip6(135, struct.pack("!BBBBH", 59, 0, 5, 0, 0) + b"\0" * 2))
        t6(r, ip6(135, struct.pack("!BBBBH", 6, 0, 5, 0, 0) + b"\0" * 2))
        t6(r, ip6(6, tcp(), src="fe80::ff:fe00:a01"))
        t6(r, ip6(6, tcp(), src="fe80::ff:fe00:a02"))
    return c


def run(cases):
    fam_cmd = {4: "iptables-restore", 6: "ip6tables-restore"}
    save = {4: "iptables-save", 6: "ip6tables-save"}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("vm1a", 0))
    out = []
    for fam, rule, pkt, mac in cases:
        if fam == 6:
            sa = socket.inet_ntop(socket.AF_INET6, pkt[8:24])
        else:
            sa = socket.inet_ntop(socket.AF_INET, pkt[12:16])
        text = "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -s %s\n-A PREROUTING -s %s %s\n-A PREROUTING -s %s\nCOMMIT\n" % (sa, sa, rule, sa)
        r = subprocess.run(("ip", "netns", "exec", B, fam_cmd[fam]), input=text, capture_output=True, text=True)
        if r.returncode != 0:
            out.append("%d\t%s\t%s\t%s\terror" % (fam, rule, mac, pkt.hex()))
            continue
        et = 0x0800 if fam == 4 else 0x86DD
        s.send(bytes.fromhex(mac.replace(":", "")) + bytes.fromhex(MAC_A.replace(":", "")) + struct.pack("!H", et) + pkt)
        lines = sh(save[fam], "-c", "-t", "raw", ns=B).stdout.splitlines()
        counts = [int(l[1:].split(":")[0]) for l in lines if l.startswith("[") and "-A PREROUTING" in l]
        outcome = {(1, 1, 1): "match", (1, 0, 1): "nomatch", (1, 0, 0): "drop"}.get(tuple(counts), "odd" + str(counts))
        out.append("%d\t%s\t%s\t%s\t%s" % (fam, rule, mac, pkt.hex(), outcome))
    return out


def main():
    if os.geteuid() != 0:
        sys.exit("record.py: needs root (network namespaces)")
    try:
        setup()
        cs = cases()
        # The sender runs in A's namespace.
        r = subprocess.run(("ip", "netns", "exec", A, sys.executable, os.path.abspath(__file__), "--send"),
                           input=repr(cs), capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        with open(OUT, "w") as f:
            f.write("# family, rule, destination MAC, IP packet, outcome (tab-separated), recorded by record.py on Linux %s\n" % os.uname().release)
            for args in SETS:
                f.write("#ipset\t%s\n" % "\t".join(args))
            f.write(r.stdout)
    finally:
        teardown()


if __name__ == "__main__":
    if sys.argv[1:] == ["--send"]:
        import ast
        for line in run(ast.literal_eval(sys.stdin.read())):
            print(line)
    else:
        main()
