# Traffic generator for capture.sh: run inside network namespace
# iptw-packet-a, talking to iptw-packet-b (10.9.0.2, 2001:db8:9::2).
import socket, struct, sys, time

B4, B6 = "10.9.0.2", "2001:db8:9::2"

def tcp_closed(fam, addr):
    # SYN answered by RST,ACK
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((addr, 5001))
    except OSError:
        pass
    s.close()

def tcp_exchange(fam, addr):
    # handshake with options, data both ways, FIN/ACK close
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect((addr, 5002))
    s.sendall(b"hello packet layer\n")
    s.recv(100)
    s.close()
    time.sleep(0.2)

def udp(fam, addr, port, data, pmtudisc_dont=False):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if pmtudisc_dont:
        s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
    s.sendto(data, (addr, port))
    s.close()

def raw(fam, proto, addr, data):
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    if fam == socket.AF_INET6 and proto == 58:
        pass  # the kernel computes ICMPv6 checksums on raw sockets
    s.sendto(data, (addr, 0))
    s.close()

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def echo4(ident, seq, n):
    body = bytes(range(n))
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    c = csum(h + body)
    return struct.pack("!BBHHH", 8, 0, c, ident, seq) + body

def echo6(ident, seq, n):
    return struct.pack("!BBHHH", 128, 0, 0, ident, seq) + bytes(range(n))

for fam, addr in ((socket.AF_INET, B4), (socket.AF_INET6, B6)):
    tcp_closed(fam, addr)
    tcp_exchange(fam, addr)
    udp(fam, addr, 5003, b"to a closed port")
    udp(fam, addr, 5004, bytes(3000), pmtudisc_dont=(fam == socket.AF_INET))
    udp(fam, addr, 4500, struct.pack("!II", 0x100, 7) + bytes(40))  # ESP in UDP
    udp(fam, addr, 4500, b"\xff")  # NAT-T keepalive
    raw(fam, 50, addr, struct.pack("!II", 1, 1) + bytes(92))  # ESP
    # AH (next header UDP, 12 bytes of ICV) over a UDP header
    ah = struct.pack("!BBHII", 17, 4, 0, 0x2000, 3) + bytes(range(12))
    raw(fam, 51, addr, ah + struct.pack("!HHHH", 5005, 5006, 12, 0) + b"abcd")
    if fam == socket.AF_INET:
        raw(fam, 1, addr, echo4(0x1234, 1, 56))
    else:
        raw(fam, 58, addr, echo6(0x1234, 1, 56))
    time.sleep(0.3)
