#!/bin/bash
# What the simulator's applications were checked against: iputils ping
# 20221126, OpenBSD netcat (Debian's netcat-openbsd) and the kernel's
# TCP connect and neighbour layer, between two network namespaces
# (iptw-sim-a 10.9.0.1, iptw-sim-b 10.9.0.2, a veth pair). Run as root;
# prints the applications' lines and tcpdump -nn -v of b's side.
#
# Facts taken from it (Linux 6.18): the SYN offers wscale 10 and window
# 64240, the handshake's ACK "win 63", IP IDs of a connection count up
# from a random start; three ARP requests a second apart for an absent
# neighbour; ping's "time" is the last probe's send time; ping prints
# nothing when an OUTPUT rule drops its probe (sendto EPERM) and "ping:
# local error: message too long, mtu=1500" for -M do beyond the MTU;
# nc -w: "nc: connect to H port P (tcp) timed out: Operation now in
# progress"; REJECT icmp-host-prohibited: "No route to host".
set -u
A=iptw-sim-a; B=iptw-sim-b
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $A; ip netns add $B
ip link add va netns $A type veth peer name vb netns $B
ip -n $A addr add 10.9.0.1/24 dev va; ip -n $B addr add 10.9.0.2/24 dev vb
ip -n $A link set va up; ip -n $B link set vb up
ip -n $A link set lo up; ip -n $B link set lo up
pcap=$(mktemp)
ip netns exec $B tcpdump -nn -v -i vb -w "$pcap" 2>/dev/null &
TD=$!
sleep 1
ip netns exec $A ping -c 2 -i 0.2 10.9.0.2
ip netns exec $A ping -c 3 10.9.0.77
ip netns exec $A ping -c 1 -M do -s 1600 10.9.0.2
ip netns exec $A nc -vz -w 1 10.9.0.2 22
ip netns exec $B nc -l -p 80 & NCL=$!
sleep 0.3
ip netns exec $A nc -vz -w 1 10.9.0.2 80
ip netns exec $A nc -vz -w 2 10.9.0.3 80
ip netns exec $A bash -c 'echo hi | nc -u -w 1 10.9.0.2 53'
ip netns exec $B iptables -A INPUT -p tcp --dport 23 -j REJECT --reject-with icmp-host-prohibited
ip netns exec $A nc -vz -w 1 10.9.0.2 23
ip netns exec $B iptables -F
ip netns exec $A iptables -A OUTPUT -p icmp -j DROP
ip netns exec $A ping -c 1 -W 1 10.9.0.2
ip netns exec $A iptables -F
sleep 0.5
kill $NCL 2>/dev/null
kill $TD; wait $TD 2>/dev/null
tcpdump -nn -v -r "$pcap" 2>/dev/null | grep -v "IP6"
rm -f "$pcap"
