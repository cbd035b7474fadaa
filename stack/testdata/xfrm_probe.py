# helper run inside a namespace: probe.py KIND args...
import socket, struct, sys, select
def bypass(s, fam, d):
    # struct xfrm_userpolicy_info: selector(56) lft(64) curlft(32) priority index dir action flags share
    sel = bytes(40) + struct.pack("=H", fam) + bytes(14)
    pol = sel + bytes(64) + bytes(32) + struct.pack("=IIBBBB", 0, 0, d, 0, 0, 0) + bytes(4)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, 17, pol)  # IP_XFRM_POLICY
    else:
        s.setsockopt(socket.IPPROTO_IPV6, 35, pol)  # IPV6_XFRM_POLICY
k = sys.argv[1]
fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
if k == "udp-send":   # udp-send dst port [bypass]
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if len(sys.argv) > 4: bypass(s, fam, 1)
    try:
        s.sendto(b"hello", (sys.argv[2], int(sys.argv[3])))
        print("sendto ok")
    except OSError as e:
        print("sendto:", e.strerror)
elif k == "udp-listen":  # udp-listen addr port seconds [bypass]
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if len(sys.argv) > 5: bypass(s, fam, 0)
    s.bind((sys.argv[2], int(sys.argv[3])))
    r, _, _ = select.select([s], [], [], float(sys.argv[4]))
    print("listen got" if r else "listen nothing", flush=True)
elif k == "tcp-connect":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((sys.argv[2], int(sys.argv[3]))); print("connect ok")
    except OSError as e:
        print("connect", e.strerror if e.strerror else "timed out")
