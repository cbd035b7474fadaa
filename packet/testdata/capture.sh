#!/bin/sh
# Records kernel.pcap: real packets built by the Linux kernel between two
# network namespaces joined by a veth pair (MTU 1280, fixed MAC addresses),
# captured by tcpdump on the receiving side. Needs root, ip, ethtool, tcpdump
# and python3. Re-record with:
#   sh packet/testdata/capture.sh && sh packet/testdata/record.sh
# (then run go test ./packet; port numbers, sequence numbers and IDs change
# with every recording, the goldens are recorded from the same capture).
set -eu
cd "$(dirname "$0")"
A=iptw-packet-a
B=iptw-packet-b
cleanup() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null || true
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $A
ip netns add $B
ip -n $A link add veth0 address 02:00:00:00:00:0a mtu 1280 type veth peer name veth0 address 02:00:00:00:00:0b mtu 1280 netns $B
for n in $A $B; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n $n link set lo up
done
ip -n $A addr add 10.9.0.1/24 dev veth0
ip -n $B addr add 10.9.0.2/24 dev veth0
ip -n $A addr add 2001:db8:9::1/64 dev veth0 nodad
ip -n $B addr add 2001:db8:9::2/64 dev veth0 nodad
# No checksum offload: the capture must hold complete checksums.
for n in $A $B; do
	ip netns exec $n ethtool -K veth0 tx off rx off >/dev/null
	ip -n $n link set veth0 up
done
# A TCP server on port 5002 answering one line, for IPv4 and IPv6.
ip netns exec $B python3 -c '
import socket, threading
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 5002)); s.listen(1)
    c, _ = s.accept(); c.recv(100); c.sendall(b"ok\n"); c.close()
t = threading.Thread(target=serve, args=(socket.AF_INET6, "2001:db8:9::2")); t.start()
serve(socket.AF_INET, "10.9.0.2"); t.join()
' &
SRV=$!
sleep 1
# Only IP; no MLD (hop-by-hop first): those are multicast chatter.
ip netns exec $B tcpdump -q -U -i veth0 -w kernel.pcap '(ip or ip6) and not (ip6 and ip6[6] == 0)' 2>/dev/null &
TD=$!
sleep 1
ip netns exec $A python3 traffic.py
sleep 1
kill $TD
wait $TD 2>/dev/null || true
wait $SRV 2>/dev/null || true
SRV=
