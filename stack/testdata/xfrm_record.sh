#!/bin/bash
# xfrm_record.sh: measures what the kernel does with packets that xfrm
# policies cover when no state exists (this kernel has no ESP): the
# forward and input policy checks, ACQUIRE (larval drop), block
# policies, level use, disable_policy / disable_xfrm, socket bypass
# policies, NAT before the lookup, the default policies; IPv4 and IPv6.
# Prints one block per scenario: the probes' outcomes, the non-zero
# packet counters of the mangle chains (ab: A to B, ba: B to A) and
# the non-zero /proc/net/xfrm_stat counters of each namespace.
#
#   sudo stack/testdata/xfrm_record.sh > stack/testdata/xfrm_kernel.golden
set -u
P=iptw-x5
A=$P-a R=$P-r B=$P-b
HERE=$(cd "$(dirname "$0")" && pwd)
PROBE="python3 $HERE/xfrm_probe.py"
cleanup() { for n in $A $R $B; do ip netns del $n 2>/dev/null; done; }
trap cleanup EXIT

A4=10.1.0.2 RA4=10.1.0.1 RB4=10.2.0.1 B4=10.2.0.2
A6=fd01::2 RA6=fd01::1 RB6=fd02::1 B6=fd02::2

setup() {
	cleanup
	for n in $A $R $B; do ip netns add $n; ip -n $n link set lo up; done
	ip link add eth0 netns $A type veth peer name eth0 netns $R
	ip link add eth1 netns $R type veth peer name eth0 netns $B
	ip -n $A link set eth0 address 02:00:00:00:0a:02
	ip -n $R link set eth0 address 02:00:00:00:0a:01
	ip -n $R link set eth1 address 02:00:00:00:0b:01
	ip -n $B link set eth0 address 02:00:00:00:0b:02
	for n in $A $R $B; do ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
	ip -n $A addr add $A4/24 dev eth0; ip -n $A addr add $A6/64 dev eth0 nodad
	ip -n $R addr add $RA4/24 dev eth0; ip -n $R addr add $RA6/64 dev eth0 nodad
	ip -n $R addr add $RB4/24 dev eth1; ip -n $R addr add $RB6/64 dev eth1 nodad
	ip -n $B addr add $B4/24 dev eth0; ip -n $B addr add $B6/64 dev eth0 nodad
	for n in $A $R $B; do for d in $(ip -n $n -o link | awk -F': ' '{print $2}' | cut -d@ -f1); do ip -n $n link set $d up; done; done
	ip -n $A route add default via $RA4; ip -n $A -6 route add default via $RA6
	ip -n $B route add default via $RB4; ip -n $B -6 route add default via $RB6
	ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for n in $A $R $B; do
		for c in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do
			ip netns exec $n iptables -t mangle -A $c -s $A4 -d $B4
			ip netns exec $n iptables -t mangle -A $c -s $B4 -d $A4
			ip netns exec $n ip6tables -t mangle -A $c -s $A6 -d $B6
			ip netns exec $n ip6tables -t mangle -A $c -s $B6 -d $A6
		done
	done
	# neighbours resolved before the probes (their own packets are not counted)
	ip netns exec $A ping -c1 -W1 $RA4 >/dev/null; ip netns exec $B ping -c1 -W1 $RB4 >/dev/null
	ip netns exec $A ping -6 -c1 -W1 $RA6 >/dev/null; ip netns exec $B ping -6 -c1 -W1 $RB6 >/dev/null
}

# counters prints the non-zero counting rules and xfrm statistics.
counters() {
	for n in $A $R $B; do
		local h=${n##*-}; h=${h^^}
		for t in iptables ip6tables; do
			local fam=4; [ $t = ip6tables ] && fam=6
			for c in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do
				ip netns exec $n $t -t mangle -L $c -v -x -n | awk -v h=$h -v c=$c -v f=$fam 'NR>2 { d = (NR==3) ? "ab" : "ba"; if ($1 != 0) print h " " c " v" f " " d " " $1 }'
			done
		done
		ip netns exec $n cat /proc/net/xfrm_stat | awk -v h=$h '$2 != 0 { print h " " $1 " " $2 }'
	done
}

# ping6/ping4 print ping's outcome: received count and the kind of
# error lines.
pingout() {
	sed -n -e 's/.* \([0-9]*\) received.*/received \1/p' \
		-e 's/^From .* \(Time to live exceeded\|Time exceeded: Hop limit\).*/error time-exceeded/p' \
		-e 's/^From .* Destination Port Unreachable.*/error port-unreachable/p' \
		-e 's/^ping: sendmsg: \(.*\)/error sendmsg: \1/p' \
		-e 's/^ping: connect: \(.*\)/error connect: \1/p'
}
ping4() { local h=${1##*-}; ip netns exec $1 ping -c1 -W1 "${@:2}" 2>&1 | pingout | sed "s/^/${h^^} ping: /"; }

run() { # run NAME: a scenario block
	echo "== $1"
}

xpol() { ip -n $1 xfrm policy add "${@:2}"; }
tmpl4() { echo "tmpl src $1 dst $2 proto esp reqid 1 mode tunnel"; }

scenario() {
	local name=$1; shift
	setup
	echo "== $name"
	"$@"
	counters
}

s_clear() { ping4 $A -I $A4 $B4; }
s_local_nostate() {
	xpol $A src $A4/32 dst $B4/32 dir out $(tmpl4 $A4 $B4)
	ip netns exec $A iptables -A OUTPUT -d $B4 -o lo
	ip netns exec $A iptables -A OUTPUT -d $B4 -o eth0
	ping4 $A -I $A4 $B4
	echo "A udp: $(ip netns exec $A $PROBE udp-send $B4 9)"
	# the blackhole route leaves by lo
	ip netns exec $A iptables -L OUTPUT -v -x -n | awk 'NR>2 { print "A filter OUTPUT -o " $6 ": " $1 }'
}
s_local_block() {
	xpol $A src $A4/32 dst $B4/32 dir out action block
	ping4 $A -I $A4 $B4
	echo "A udp: $(ip netns exec $A $PROBE udp-send $B4 9)"
}
s_fwd_nostate() {
	xpol $R src $A4/32 dst $B4/32 dir out $(tmpl4 $RB4 $B4)
	ping4 $A -I $A4 $B4
	ping4 $A -I $A4 -t 1 $B4
}
s_fwd_block() {
	xpol $R src $A4/32 dst $B4/32 dir out action block
	ping4 $A -I $A4 $B4
}
s_fwd_check() {
	xpol $R src $A4/32 dst $B4/32 dir fwd $(tmpl4 $A4 $RA4) level required
	ping4 $A -I $A4 $B4
	ping4 $A -I $A4 -t 1 $B4
}
s_fwd_check_use() {
	xpol $R src $A4/32 dst $B4/32 dir fwd $(tmpl4 $A4 $RA4) level use
	ping4 $A -I $A4 $B4
}
s_fwd_check_block() {
	xpol $R src $A4/32 dst $B4/32 dir fwd action block
	ping4 $A -I $A4 $B4
}
s_fwd_check_nopolicy_in() {
	xpol $R src $A4/32 dst $B4/32 dir fwd $(tmpl4 $A4 $RA4) level required
	ip netns exec $R sysctl -qw net.ipv4.conf.eth0.disable_policy=1
	ping4 $A -I $A4 $B4
}
s_fwd_check_nopolicy_out() {
	xpol $R src $A4/32 dst $B4/32 dir fwd $(tmpl4 $A4 $RA4) level required
	ip netns exec $R sysctl -qw net.ipv4.conf.eth1.disable_policy=1
	ping4 $A -I $A4 $B4
}
s_fwd_noxfrm_out() {
	xpol $R src $A4/32 dst $B4/32 dir out $(tmpl4 $RB4 $B4)
	ip netns exec $R sysctl -qw net.ipv4.conf.eth1.disable_xfrm=1
	ping4 $A -I $A4 $B4
}
s_fwd_noxfrm_in() {
	xpol $R src $A4/32 dst $B4/32 dir out $(tmpl4 $RB4 $B4)
	ip netns exec $R sysctl -qw net.ipv4.conf.eth0.disable_xfrm=1
	ping4 $A -I $A4 $B4
}
s_local_noxfrm() {
	xpol $A src $A4/32 dst $B4/32 dir out $(tmpl4 $A4 $B4)
	ip netns exec $A sysctl -qw net.ipv4.conf.eth0.disable_xfrm=1
	ping4 $A -I $A4 $B4
}
s_in_check() {
	xpol $B src $A4/32 dst $B4/32 dir in $(tmpl4 $A4 $B4) level required
	ping4 $A -I $A4 $B4
	echo "A udp: $(ip netns exec $A $PROBE udp-send $B4 9)"
	echo "A tcp: $(ip netns exec $A $PROBE tcp-connect $B4 22)"
}
s_in_check_open() {
	xpol $B src $A4/32 dst $B4/32 dir in $(tmpl4 $A4 $B4) level required
	ip netns exec $B $PROBE udp-listen 0.0.0.0 5000 2 > /tmp/$P-l1 &
	ip netns exec $B $PROBE udp-listen 0.0.0.0 4500 2 bypass > /tmp/$P-l2 &
	sleep 0.3
	ip netns exec $A $PROBE udp-send $B4 5000 >/dev/null
	ip netns exec $A $PROBE udp-send $B4 4500 >/dev/null
	wait
	echo "B udp 5000: $(cat /tmp/$P-l1)"
	echo "B udp 4500 bypass: $(cat /tmp/$P-l2)"
	rm -f /tmp/$P-l1 /tmp/$P-l2
}
s_in_check_nopolicy() {
	xpol $B src $A4/32 dst $B4/32 dir in $(tmpl4 $A4 $B4) level required
	ip netns exec $B sysctl -qw net.ipv4.conf.eth0.disable_policy=1
	ping4 $A -I $A4 $B4
}
s_in_check_use() {
	xpol $B src $A4/32 dst $B4/32 dir in $(tmpl4 $A4 $B4) level use
	ping4 $A -I $A4 $B4
}
s_out_bypass() {
	xpol $A src $A4/32 dst $B4/32 dir out $(tmpl4 $A4 $B4)
	ip netns exec $B $PROBE udp-listen 0.0.0.0 4500 2 > /tmp/$P-l1 &
	sleep 0.3
	echo "A udp bypass: $(ip netns exec $A $PROBE udp-send $B4 4500 bypass)"
	wait
	echo "B udp 4500: $(cat /tmp/$P-l1)"
	rm -f /tmp/$P-l1
}
s_nat_after() {
	# the policy matches the masqueraded source only: found again after NAT
	ip netns exec $R iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE
	xpol $R src $RB4/32 dst $B4/32 dir out $(tmpl4 $RB4 $B4)
	ping4 $A -I $A4 $B4
}
s_nat_before() {
	# the policy matches the LAN source: the route's bundle, before NAT
	ip netns exec $R iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE
	xpol $R src $A4/32 dst $B4/32 dir out $(tmpl4 $RB4 $B4)
	ping4 $A -I $A4 $B4
}
s_local_snat() {
	ip -n $A addr add 10.1.0.3/24 dev eth0
	ip netns exec $A iptables -t nat -A POSTROUTING -p udp -j SNAT --to-source 10.1.0.3
	xpol $A src 10.1.0.3/32 dst $B4/32 dir out $(tmpl4 10.1.0.3 $B4)
	echo "A udp: $(ip netns exec $A $PROBE udp-send $B4 9)"
}
s_loopback() {
	# IPv4 local traffic is never transformed: lo has disable_xfrm
	xpol $A src 0.0.0.0/0 dst 0.0.0.0/0 dir out $(tmpl4 $A4 $B4)
	echo "A lo: $(ip netns exec $A ping -c1 -W1 127.0.0.1 2>&1 | pingout)"
	echo "A self: $(ip netns exec $A ping -c1 -W1 $A4 2>&1 | pingout)"
}
s6_loopback() {
	# IPv6 has no disable_xfrm: local traffic meets the policy
	xpol $A src ::/0 dst ::/0 dir out $(tmpl4 $A6 $B6)
	echo "A lo: $(ip netns exec $A ping -6 -c1 -W1 -I ::1 ::1 2>&1 | pingout)"
	echo "A self: $(ip netns exec $A ping -6 -c1 -W1 -I $A6 $A6 2>&1 | pingout)"
}
s_default_block_out() {
	ip -n $A xfrm policy setdefault in accept fwd accept out block
	ping4 $A -I $A4 $B4
	echo "A lo: $(ip netns exec $A ping -c1 -W1 127.0.0.1 2>&1 | pingout)"
}
s_default_block_fwd() {
	ip -n $R xfrm policy setdefault in accept fwd block out accept
	ping4 $A -I $A4 $B4
}
s_default_block_in() {
	ip -n $B xfrm policy setdefault in block fwd accept out accept
	ping4 $A -I $A4 $B4
}
# IPv6
s6_fwd_check() {
	xpol $R src $A6/128 dst $B6/128 dir fwd $(tmpl4 $A6 $RA6) level required
	ping4 $A -6 -I $A6 $B6
	ping4 $A -6 -I $A6 -t 1 $B6
}
s6_fwd_check_nopolicy_in() {
	xpol $R src $A6/128 dst $B6/128 dir fwd $(tmpl4 $A6 $RA6) level required
	ip netns exec $R sysctl -qw net.ipv6.conf.eth0.disable_policy=1
	ping4 $A -6 -I $A6 $B6
}
s6_fwd_nostate() {
	xpol $R src $A6/128 dst $B6/128 dir out $(tmpl4 $RB6 $B6)
	ping4 $A -6 -I $A6 $B6
}
s6_local_nostate() {
	xpol $A src $A6/128 dst $B6/128 dir out $(tmpl4 $A6 $B6)
	ping4 $A -6 -I $A6 $B6
}
s6_in_check() {
	xpol $B src $A6/128 dst $B6/128 dir in $(tmpl4 $A6 $B6) level required
	ping4 $A -6 -I $A6 $B6
	echo "A udp: $(ip netns exec $A $PROBE udp-send $B6 9)"
	echo "A tcp: $(ip netns exec $A $PROBE tcp-connect $B6 22)"
}
s6_in_check_nopolicy() {
	xpol $B src $A6/128 dst $B6/128 dir in $(tmpl4 $A6 $B6) level required
	ip netns exec $B sysctl -qw net.ipv6.conf.eth0.disable_policy=1
	ping4 $A -6 -I $A6 $B6
}

for s in ${SCENARIOS:-clear local_nostate local_block fwd_nostate fwd_block fwd_check fwd_check_use fwd_check_block \
	fwd_check_nopolicy_in fwd_check_nopolicy_out fwd_noxfrm_out fwd_noxfrm_in local_noxfrm in_check in_check_open \
	in_check_nopolicy in_check_use out_bypass nat_after nat_before local_snat loopback default_block_out \
	default_block_fwd default_block_in 6_fwd_check 6_fwd_check_nopolicy_in 6_fwd_nostate 6_local_nostate \
	6_in_check 6_in_check_nopolicy 6_loopback}; do
	scenario "${s//_/-}" s$([ "${s:0:1}" = 6 ] || echo _)$s
done
