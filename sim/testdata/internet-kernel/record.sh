#!/bin/sh
# Records what a client sees of an "internet" host set up as sim's
# internet: true sets it up (AnyIP: its subnet and routes copied into
# table local, then "local default dev lo"): pings to any address
# answered by that address, a listener's port connected, another port
# refused, and the host still forwarding to the network behind the
# client's router. As root:
#   sh sim/testdata/internet-kernel/record.sh > sim/testdata/internet-kernel/kernel.txt
set -eu
PC=iptw-inet-pc GW=iptw-inet-gw NET=iptw-inet-net
NC=
cleanup() {
	[ -n "$NC" ] && kill "$NC" 2>/dev/null || true
	for n in $PC $GW $NET; do ip netns del $n 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
for n in $PC $GW $NET; do ip netns add $n; ip -n $n link set lo up; done
ip link add pc0 netns $PC type veth peer name gw0 netns $GW
ip link add gw1 netns $GW type veth peer name net0 netns $NET
ip -n $PC addr add 192.168.1.2/24 dev pc0; ip -n $PC link set pc0 up; ip -n $PC route add default via 192.168.1.1
ip -n $GW addr add 192.168.1.1/24 dev gw0; ip -n $GW addr add 203.0.113.2/24 dev gw1
ip -n $GW link set gw0 up; ip -n $GW link set gw1 up; ip -n $GW route add default via 203.0.113.1
ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1
ip -n $NET addr add 203.0.113.1/24 dev net0; ip -n $NET link set net0 up
ip netns exec $NET sysctl -qw net.ipv4.ip_forward=1
ip -n $NET route add 192.168.1.0/24 via 203.0.113.2
ip -n $NET route add 203.0.113.0/24 dev net0 table local
ip -n $NET route add 192.168.1.0/24 via 203.0.113.2 table local
ip -n $NET route add local 0.0.0.0/0 dev lo
ip netns exec $NET nc -l -k 80 >/dev/null 2>&1 &
NC=$!
sleep 0.3
run() { echo "\$ $2"; ip netns exec $1 $2 2>&1 || true; }
run $PC "ping -c 1 8.8.8.8"
run $PC "nc -vz -w 2 93.184.216.34 80"
run $PC "nc -vz -w 2 93.184.216.34 81"
run $NET "ping -c 1 192.168.1.2"
