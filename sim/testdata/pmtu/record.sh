#!/bin/sh
# Records what Linux's ping prints when a router on the path has a
# smaller MTU (a - r - b, r's link to b at 1400): the first big probe
# gets "Frag needed", the host learns the path MTU, the next ones go out
# in fragments; with -M do they fail locally. As root:
#   sh sim/testdata/pmtu/record.sh > sim/testdata/pmtu/kernel.txt
set -eu
A=iptw-pmtu-a R=iptw-pmtu-r B=iptw-pmtu-b
cleanup() { for n in $A $R $B; do ip netns del $n 2>/dev/null || true; done; }
trap cleanup EXIT
cleanup
for n in $A $R $B; do ip netns add $n; done
ip link add va netns $A type veth peer name ra netns $R
ip link add rb netns $R type veth peer name vb netns $B
ip -n $A addr add 10.1.0.2/24 dev va; ip -n $A link set va up; ip -n $A link set lo up
ip -n $A route add default via 10.1.0.1
ip -n $R addr add 10.1.0.1/24 dev ra; ip -n $R addr add 10.2.0.1/24 dev rb
ip -n $R link set ra up; ip -n $R link set rb up mtu 1400
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip -n $B addr add 10.2.0.2/24 dev vb; ip -n $B link set vb up mtu 1400; ip -n $B link set lo up
ip -n $B route add default via 10.2.0.1
ip -n $A addr add 2001:db8:1::2/64 dev va nodad; ip -n $A route add default via 2001:db8:1::1
ip -n $R addr add 2001:db8:1::1/64 dev ra nodad; ip -n $R addr add 2001:db8:2::1/64 dev rb nodad
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n $B addr add 2001:db8:2::2/64 dev vb nodad; ip -n $B route add default via 2001:db8:2::1
sleep 1
echo '$ ping -c 3 -i 0.2 -s 1450 10.2.0.2'
ip netns exec $A ping -c 3 -i 0.2 -s 1450 10.2.0.2 2>&1 || true
echo '$ ping -c 2 -i 0.2 -s 1450 -M do 10.2.0.2'
ip netns exec $A ping -c 2 -i 0.2 -s 1450 -M do 10.2.0.2 2>&1 || true
echo '$ ping -c 3 -i 0.2 -s 1450 2001:db8:2::2'
ip netns exec $A ping -c 3 -i 0.2 -s 1450 2001:db8:2::2 2>&1 || true
echo '$ ping -c 2 -i 0.2 -s 1450 -M do 2001:db8:2::2'
ip netns exec $A ping -c 2 -i 0.2 -s 1450 -M do 2001:db8:2::2 2>&1 || true
