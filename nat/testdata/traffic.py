#!/usr/bin/env python3
"""Traffic for record.sh: sockets in the client and server namespaces.

Each subcommand does one exchange and exits; servers run until killed.
Only talks to the addresses record.sh gives it (its own namespaces).
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def local_addr(dst):
    s = socket.socket(fam(dst), socket.SOCK_DGRAM)
    s.connect((dst, 9))
    a = s.getsockname()[0]
    s.close()
    return a


def pseudo(src, dst, proto, length):
    f = fam(dst)
    sb, db = socket.inet_pton(f, src), socket.inet_pton(f, dst)
    if f == socket.AF_INET:
        return sb + db + struct.pack("!BBH", 0, proto, length)
    return sb + db + struct.pack("!IxxxB", length, proto)


def tcp_serve(a):
    f = socket.AF_INET6 if a.v6 else socket.AF_INET
    s = socket.socket(f, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if a.v6 else "0.0.0.0", a.port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        data = c.recv(1000)
        if data:
            c.sendall(data)
        # wait for the client's FIN, then close: the client closes first
        c.settimeout(10)
        try:
            while c.recv(1000):
                pass
        except OSError:
            pass
        c.close()


def tcp_conn(a):
    s = socket.socket(fam(a.dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.sport:
        s.bind(("", a.sport))
    s.settimeout(3)
    try:
        s.connect((a.dst, a.port))
    except OSError as e:
        print("connect:", e, file=sys.stderr)
        return
    s.sendall(b"hello\n")
    s.recv(100)
    if a.size:
        s.sendall(b"x" * a.size)
    time.sleep(a.hold)
    if a.rst:  # abort: SO_LINGER with a zero timeout sends a RST
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.3)


def udp_serve(a):
    s = socket.socket(socket.AF_INET6 if a.v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if a.v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if a.v6 else "0.0.0.0", a.port))
    while True:
        data, peer = s.recvfrom(2000)
        s.sendto(data, peer)


def udp_send(a):
    s = socket.socket(fam(a.dst), socket.SOCK_DGRAM)
    if a.sport:
        s.bind(("", a.sport))
    for i in range(a.count):
        if i:
            time.sleep(a.gap)
        s.sendto(b"ping %d\n" % i, (a.dst, a.port))
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            try:
                s.recv(2000)
            except OSError:
                pass


def ping(a):
    v6 = fam(a.dst) == socket.AF_INET6
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        typ = 128
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        typ = 8
    for i in range(a.count):
        if i:
            time.sleep(a.gap)
        body = b"iptwin-ct-%02d" % i
        hdr = struct.pack("!BBHHH", typ, 0, 0, a.id, i + 1)
        if not v6:  # the kernel fills in the ICMPv6 checksum
            hdr = struct.pack("!BBHHH", typ, 0, csum(hdr + body), a.id, i + 1)
        s.sendto(hdr + body, (a.dst, 0))
        time.sleep(0.2)


def rawtcp(a):
    v6 = fam(a.dst) == socket.AF_INET6
    src = local_addr(a.dst)
    flags = 0
    for ch, bit in zip("FSRPAU", (1, 2, 4, 8, 16, 32)):
        if ch in a.flags:
            flags |= bit
    hdr = struct.pack("!HHIIBBHHH", a.sport, a.port, a.seq, a.ack, 5 << 4, flags, a.win, 0, 0)
    c = csum(pseudo(src, a.dst, 6, len(hdr)) + hdr)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.sendto(hdr, (a.dst, 0))


def gre(a):
    s = socket.socket(fam(a.dst), socket.SOCK_RAW, 47)
    # GRE version 0 carrying IPv4 (an empty, made-up inner packet)
    s.sendto(struct.pack("!HH", 0, 0x0800) + b"\0" * 20, (a.dst, 0))


def esp(a):
    s = socket.socket(fam(a.dst), socket.SOCK_RAW, 50)
    s.sendto(struct.pack("!II", a.spi, 1) + b"\0" * 24, (a.dst, 0))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("tcp-serve"); x.add_argument("port", type=int); x.add_argument("--v6", action="store_true")
    x = sub.add_parser("udp-serve"); x.add_argument("port", type=int); x.add_argument("--v6", action="store_true")
    x = sub.add_parser("tcp-conn"); x.add_argument("dst"); x.add_argument("port", type=int)
    x.add_argument("--sport", type=int, default=0); x.add_argument("--hold", type=float, default=0)
    x.add_argument("--rst", action="store_true")
    x.add_argument("--size", type=int, default=0)
    x = sub.add_parser("udp-send"); x.add_argument("dst"); x.add_argument("port", type=int)
    x.add_argument("--sport", type=int, default=0); x.add_argument("--count", type=int, default=1)
    x.add_argument("--gap", type=float, default=0)
    x = sub.add_parser("ping"); x.add_argument("dst"); x.add_argument("--id", type=int, default=0x1234)
    x.add_argument("--count", type=int, default=1); x.add_argument("--gap", type=float, default=0.2)
    x = sub.add_parser("rawtcp"); x.add_argument("dst"); x.add_argument("port", type=int)
    x.add_argument("--sport", type=int, required=True); x.add_argument("--flags", default="A")
    x.add_argument("--seq", type=int, default=1000); x.add_argument("--ack", type=int, default=2000)
    x.add_argument("--win", type=int, default=512)
    x = sub.add_parser("gre"); x.add_argument("dst")
    x = sub.add_parser("esp"); x.add_argument("dst"); x.add_argument("--spi", type=int, default=0x100)
    a = p.parse_args()
    {"tcp-serve": tcp_serve, "udp-serve": udp_serve, "tcp-conn": tcp_conn, "udp-send": udp_send,
     "ping": ping, "rawtcp": rawtcp, "esp": esp, "gre": gre}[a.cmd](a)


if __name__ == "__main__":
    main()
