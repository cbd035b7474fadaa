#!/bin/sh
# Records what the real kernel does for the packet semantics of some
# extensions, into the testdata files their tests compare the model with:
#   ext/rate/testdata/kernel-rate.txt      statistic nth, recent, limit, hashlimit
#   ext/mangle/testdata/kernel-hmark.txt   HMARK marks of given packets
#   ext/ctmatch/testdata/kernel-cluster.txt cluster node of a source
# Run as root from the repository root: sh ext/rate/testdata/measure.sh
# It makes two network namespaces (iptw-m2-a, iptw-m2-b) joined by a veth
# pair, sends UDP datagrams from a to b with python3 and reads the rule
# counters of b; the namespaces are deleted on exit.
set -eu
A=iptw-m2-a B=iptw-m2-b
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT INT TERM
cleanup
ip netns add $A
ip netns add $B
ip link add iptwm2a netns $A type veth peer name iptwm2b netns $B
ip -n $A addr add 10.77.0.1/24 dev iptwm2a
ip -n $B addr add 10.77.0.2/24 dev iptwm2b
ip -n $A link set iptwm2a up
ip -n $B link set iptwm2b up
ip -n $A link set lo up
ip -n $B link set lo up
ip -n $A -6 addr add fd77::1/64 dev iptwm2a nodad
ip -n $B -6 addr add fd77::2/64 dev iptwm2b nodad
sleep 1

# send SPORT DPORT [COUNT] [GAP] [DST]: COUNT datagrams of 72 bytes (100 on the wire)
send() {
	ip netns exec $A python3 -c '
import socket, sys, time
sport, dport, n, gap, dst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", sport))
for i in range(n):
    s.sendto(bytes(72), (dst, dport))
    if gap: time.sleep(gap)
' "$1" "$2" "${3:-1}" "${4:-0}" "${5:-10.77.0.2}"
}
# count CHAIN RULENUM [TABLE] [CMD]: packets counted by a rule of b
count() {
	ip netns exec $B ${4:-iptables} -t "${3:-filter}" -L "$1" -v -x -n --line-numbers |
		awk -v n="$2" '$1 == n { print $2 }'
}
ipt() { ip netns exec $B iptables "$@"; }
ip6t() { ip netns exec $B ip6tables "$@"; }
reset() { ipt -F; ipt -t mangle -F; ip6t -F; ip6t -t mangle -F; }

R=ext/rate/testdata/kernel-rate.txt
: >$R
echo "# recorded by ext/rate/testdata/measure.sh on $(uname -r)" >>$R

# statistic nth: which of 7 packets match --every 3 --packet P
for p in 0 1 2; do
	reset
	ipt -A INPUT -p udp --dport 9 -m statistic --mode nth --every 3 --packet $p
	seq=""
	prev=0
	for i in 1 2 3 4 5 6 7; do
		send 5000 9
		c=$(count INPUT 1)
		if [ "$c" -gt "$prev" ]; then seq="${seq}1"; else seq="${seq}0"; fi
		prev=$c
	done
	echo "nth every=3 packet=$p $seq" >>$R
done

# recent: --set then --update --seconds 60 --hitcount 3, 6 packets
reset
ipt -A INPUT -p udp --dport 9 -m recent --set --name m2
ipt -A INPUT -p udp --dport 9 -m recent --update --seconds 60 --hitcount 3 --name m2
seq=""
prev=0
for i in 1 2 3 4 5 6; do
	send 5001 9
	c=$(count INPUT 2)
	if [ "$c" -gt "$prev" ]; then seq="${seq}1"; else seq="${seq}0"; fi
	prev=$c
done
echo "recent set+update hitcount=3 $seq" >>$R

# limit (nft limit): 10 back-to-back packets, rate 2/sec burst 3; then 1
# more after 600 ms
reset
ipt -A INPUT -p udp --dport 9 -m limit --limit 2/sec --limit-burst 3
send 5002 9 10
a=$(count INPUT 1)
sleep 0.6
send 5002 9 1
b=$(count INPUT 1)
echo "limit 2/sec burst=3 burst-of-10=$a after-600ms=$b" >>$R

# hashlimit: per source port, 2/sec burst 2; 6 back-to-back from each of
# two ports, then one more from the first after 600 ms
reset
ipt -A INPUT -p udp --dport 9 -m hashlimit --hashlimit-upto 2/sec --hashlimit-burst 2 --hashlimit-mode srcport --hashlimit-name m2
send 5003 9 6
send 5004 9 6
a=$(count INPUT 1)
sleep 0.6
send 5003 9 1
b=$(count INPUT 1)
echo "hashlimit 2/sec burst=2 mode=srcport two-bursts-of-6=$a after-600ms=$b" >>$R

# quota: 250 bytes of 100-byte datagrams
reset
ipt -A INPUT -p udp --dport 9 -m quota --quota 250
send 5005 9 4
echo "quota 250 of-4x100=$(count INPUT 1)" >>$R

# HMARK: the mark of datagrams from port S, found by 16 mark rules
H=ext/mangle/testdata/kernel-hmark.txt
echo "# recorded by ext/rate/testdata/measure.sh on $(uname -r)" >$H
reset
ipt -t mangle -A PREROUTING -p udp -j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod 16 --hmark-rnd 0xcafe --hmark-offset 100
for m in $(seq 100 115); do ipt -A INPUT -m mark --mark $m; done
for s in 40000 40001 40002 5353 1; do
	ipt -Z
	send $s 53
	for i in $(seq 1 16); do
		if [ "$(count INPUT $i)" = 1 ]; then echo "hmark 10.77.0.1:$s>10.77.0.2:53 $((99 + i))" >>$H; fi
	done
done
reset
ip6t -t mangle -A PREROUTING -p udp -j HMARK --hmark-tuple src,dst,sport,dport --hmark-mod 16 --hmark-rnd 7 --hmark-offset 100
for m in $(seq 100 115); do ip6t -A INPUT -m mark --mark $m; done
for s in 40000 40001; do
	ip6t -Z
	send $s 53 1 0 fd77::2
	for i in $(seq 1 16); do
		if [ "$(count INPUT $i filter ip6tables)" = 1 ]; then echo "hmark6 [fd77::1]:$s>[fd77::2]:53 $((99 + i))" >>$H; fi
	done
done

# cluster: the node of source 10.77.0.1 among 4, seed 0xdeadbeef
C=ext/ctmatch/testdata/kernel-cluster.txt
echo "# recorded by ext/rate/testdata/measure.sh on $(uname -r)" >$C
reset
for n in 1 2 3 4; do
	ipt -A INPUT -p udp --dport 9 -m cluster --cluster-total-nodes 4 --cluster-local-node $n --cluster-hash-seed 0xdeadbeef
done
send 5006 9
for n in 1 2 3 4; do
	if [ "$(count INPUT $n)" = 1 ]; then echo "cluster 10.77.0.1 nodes=4 seed=0xdeadbeef node=$n" >>$C; fi
done
reset
for n in 1 2 3 4 5 6 7; do
	ip6t -A INPUT -p udp --dport 9 -m cluster --cluster-total-nodes 7 --cluster-local-node $n --cluster-hash-seed 12345
done
send 5006 9 1 0 fd77::2
for n in 1 2 3 4 5 6 7; do
	if [ "$(count INPUT $n filter ip6tables)" = 1 ]; then echo "cluster fd77::1 nodes=7 seed=12345 node=$n" >>$C; fi
done
cat $R $H $C
