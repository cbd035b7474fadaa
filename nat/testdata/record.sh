#!/bin/bash
# Records the kernel's conntrack and NAT behaviour for nat's differential
# test (kernel_test.go). Needs root, iproute2, iptables 1.8.9, conntrack
# 1.4.7, tcpdump, ethtool and python3. Run from this directory:
#
#	sudo ./record.sh            # all scenarios
#	sudo ./record.sh ping dnat  # some
#
# Topology (namespaces iptw-ct-*, deleted on exit):
#
#	c1 10.0.1.2 fd00:1::2 ─ r1 10.0.1.1 fd00:1::1 ┐
#	                                              router ─ rs 192.0.2.1 fd00:9::1 ─ s 192.0.2.2 fd00:9::2
#	c2 10.0.2.2 fd00:2::2 ─ r2 10.0.2.1 fd00:2::1 ┘
#
# The router forwards, MASQUERADEs what leaves by rs (IPv4 and IPv6) and
# DNATs tcp 192.0.2.1:8080 to 10.0.1.2:80; UDP to port 5001 is SNATed to
# 198.51.100.10-198.51.100.20 (fd00:8::10-fd00:8::20, routed to the
# router by the server) instead, to port 5002
# the same with --persistent, to port 5003 to 192.0.2.1:2000-2010. The
# server rejects TCP port 2223 with admin-prohibited. UDP to and from port
# 5004 is in conntrack zone 7 (raw table, CT --zone). Its FORWARD chain counts packets
# per conntrack state. For each scenario the router's conntrack table is
# flushed, tcpdump records every packet the router receives and sends
# (kernel/NAME.pcap), the traffic runs, and kernel/NAME.txt gets the time,
# `conntrack -L` (both families) with its stderr line, and the counters.
set -euo pipefail
cd "$(dirname "$0")"
OUT=kernel
PY="python3 $PWD/traffic.py"
NS="iptw-ct-c1 iptw-ct-c2 iptw-ct-r iptw-ct-s"
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for n in $NS; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

r() { ip netns exec iptw-ct-r "$@"; }
c1() { ip netns exec iptw-ct-c1 "$@"; }
c2() { ip netns exec iptw-ct-c2 "$@"; }
s() { ip netns exec iptw-ct-s "$@"; }

bg() { # bg NS ARGS...: a server in the background, killed on exit
	local n=$1; shift
	ip netns exec "$n" $PY "$@" & PIDS+=($!)
}

link() { # link NS1 IF1 NS2 IF2
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	for x in "$1:$2" "$3:$4"; do
		ip netns exec "${x%%:*}" ethtool -K "${x#*:}" tx off rx off gso off tso off gro off >/dev/null 2>&1 || true
		ip netns exec "${x%%:*}" ip link set "${x#*:}" up
	done
}

setup() {
	for n in $NS; do ip netns add "$n"; ip netns exec "$n" ip link set lo up; done
	link iptw-ct-c1 eth0 iptw-ct-r r1
	link iptw-ct-c2 eth0 iptw-ct-r r2
	link iptw-ct-s eth0 iptw-ct-r rs
	c1 ip addr add 10.0.1.2/24 dev eth0; c1 ip -6 addr add fd00:1::2/64 dev eth0 nodad
	c2 ip addr add 10.0.2.2/24 dev eth0; c2 ip -6 addr add fd00:2::2/64 dev eth0 nodad
	s ip addr add 192.0.2.2/24 dev eth0; s ip -6 addr add fd00:9::2/64 dev eth0 nodad
	r ip addr add 10.0.1.1/24 dev r1; r ip -6 addr add fd00:1::1/64 dev r1 nodad
	r ip addr add 10.0.2.1/24 dev r2; r ip -6 addr add fd00:2::1/64 dev r2 nodad
	r ip addr add 192.0.2.1/24 dev rs; r ip -6 addr add fd00:9::1/64 dev rs nodad
	c1 ip route add default via 10.0.1.1; c1 ip -6 route add default via fd00:1::1
	c2 ip route add default via 10.0.2.1; c2 ip -6 route add default via fd00:2::1
	r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for t in iptables ip6tables; do
		r $t -t nat -A POSTROUTING -o rs -j MASQUERADE
		for st in INVALID NEW RELATED ESTABLISHED UNTRACKED; do
			r $t -A FORWARD -m conntrack --ctstate $st
		done
	done
	r iptables -t nat -A PREROUTING -d 192.0.2.1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.1.2:80
	# an address range: the address is a hash of source and destination
	r iptables -t nat -I POSTROUTING -o rs -p udp --dport 5001 -j SNAT --to-source 198.51.100.10-198.51.100.20
	r ip6tables -t nat -I POSTROUTING -o rs -p udp --dport 5001 -j SNAT --to-source fd00:8::10-fd00:8::20
	r iptables -t nat -I POSTROUTING -o rs -p udp --dport 5002 -j SNAT --to-source 198.51.100.10-198.51.100.20 --persistent
	r iptables -t nat -I POSTROUTING -o rs -p udp --dport 5003 -j SNAT --to-source 192.0.2.1:2000-2010
	# UDP port 5004 is tracked in conntrack zone 7, both ways
	r iptables -t raw -A PREROUTING -p udp --dport 5004 -j CT --zone 7
	r iptables -t raw -A PREROUTING -p udp --sport 5004 -j CT --zone 7
	# the SNAT ranges are routed to the router, not its addresses
	s ip route add 198.51.100.0/24 via 192.0.2.1; s ip -6 route add fd00:8::/64 via fd00:9::1
	s iptables -A INPUT -p tcp --dport 2222 -j DROP
	s iptables -A INPUT -p tcp --dport 2223 -j REJECT --reject-with icmp-admin-prohibited
	s ip6tables -A INPUT -p tcp --dport 2223 -j REJECT --reject-with icmp6-adm-prohibited
	# the servers
	bg iptw-ct-s tcp-serve 80
	bg iptw-ct-s tcp-serve 80 --v6
	bg iptw-ct-s udp-serve 5000
	bg iptw-ct-s udp-serve 5000 --v6
	bg iptw-ct-s udp-serve 5001
	bg iptw-ct-s udp-serve 5001 --v6
	bg iptw-ct-s udp-serve 5002
	bg iptw-ct-s udp-serve 5003
	bg iptw-ct-s udp-serve 5004
	bg iptw-ct-c1 tcp-serve 80
	sleep 1
	# neighbours resolved before any scenario
	c1 $PY ping 10.0.1.1 --id 1; c2 $PY ping 10.0.2.1 --id 1; s $PY ping 192.0.2.1 --id 1
	c1 $PY ping fd00:1::1 --id 1; c2 $PY ping fd00:2::1 --id 1; s $PY ping fd00:9::1 --id 1
	sleep 1
}

# record NAME CMD...: runs the scenario function CMD with capture around it.
record() {
	local name=$1; shift
	r conntrack -F >/dev/null 2>&1 || true
	r conntrack -F -f ipv6 >/dev/null 2>&1 || true
	r iptables -Z; r ip6tables -Z
	ip netns exec iptw-ct-r tcpdump -i any -w "$OUT/$name.pcap" -U -s 0 -Q inout 'ip or ip6' 2>/dev/null &
	local dump=$!
	sleep 1
	"$@"
	sleep 0.5
	local now; now=$(date +%s%N)
	{
		echo "# scenario $name"
		echo "# tcp_loose $(r sysctl -n net.netfilter.nf_conntrack_tcp_loose)"
		echo "# acct $(r sysctl -n net.netfilter.nf_conntrack_acct)"
		echo "# now $now"
		echo "## conntrack -L"
		r conntrack -L 2>"$OUT/.err" || true
		echo "## stderr"
		cat "$OUT/.err"
		echo "## conntrack -L -f ipv6"
		r conntrack -L -f ipv6 2>"$OUT/.err" || true
		echo "## stderr"
		cat "$OUT/.err"
		echo "## counters"
		for t in iptables ip6tables; do
			r $t -L FORWARD -v -x -n | awk -v t=$t 'NR>2 {print t, $NF, $1}'
		done
	} >"$OUT/$name.txt"
	rm -f "$OUT/.err"
	sleep 0.5
	kill -INT $dump; wait $dump 2>/dev/null || true
	echo "recorded $name"
}

sc_masq_tcp() { # two clients on source port 40000: the second is remapped
	c1 $PY tcp-conn 192.0.2.2 80 --sport 40000
	ip netns exec iptw-ct-c2 $PY tcp-conn 192.0.2.2 80 --sport 40000 --hold 4 & local p=$!
	sleep 1.5
	DEFER=$p
}
sc_udp() { # request and reply; then a stream (a second request after 2.5 s)
	c1 $PY udp-send 192.0.2.2 5000 --sport 41000
	c2 $PY udp-send 192.0.2.2 5000 --sport 41000 --count 2 --gap 2.5
}
sc_ping() { # two clients with the same echo id
	c1 $PY ping 192.0.2.2 --id 4660 --count 2
	c2 $PY ping 192.0.2.2 --id 4660
}
sc_unreach() { # UDP to a closed port: ICMP port unreachable is RELATED
	c1 $PY udp-send 192.0.2.2 9 --sport 42000
}
sc_refused() { # TCP to a closed port: the RST ends the entry
	c1 $PY tcp-conn 192.0.2.2 81 --sport 43000
}
sc_stray_ack() { # an ACK of no known connection (the server drops it)
	c1 $PY rawtcp 192.0.2.2 2222 --sport 44000 --flags A
}
sc_dnat() { # port forwarding from the server side to c1
	s $PY tcp-conn 192.0.2.1 8080 --sport 45000
}
sc_esp() { # generic protocol: two clients, one masquerade address
	c1 $PY esp 192.0.2.2 --spi 256
	c2 $PY esp 192.0.2.2 --spi 512
}
sc_snat_range() { # SNAT to an address range, IPv4 and IPv6
	c1 $PY udp-send 192.0.2.2 5001 --sport 48000
	c2 $PY udp-send 192.0.2.2 5001 --sport 48000
	c1 $PY udp-send fd00:9::2 5001 --sport 48000
	c2 $PY udp-send fd00:9::2 5001 --sport 48000
}
sc_gre() { # GRE version 0: tracked by addresses (keys 0)
	c1 $PY gre 192.0.2.2
}
sc_tcp_rst() { # a connection aborted by the client: CLOSE
	c1 $PY tcp-conn 192.0.2.2 80 --sport 47000 --rst
}
sc_reopen() { # a new SYN on the tuple of an aborted connection replaces it
	c1 $PY tcp-conn 192.0.2.2 80 --sport 47001 --rst
	c1 $PY tcp-conn 192.0.2.2 80 --sport 47001
}
sc_snat_persistent() { # --persistent: the address hashes the source alone
	c1 $PY udp-send 192.0.2.2 5002 --sport 48000
	c2 $PY udp-send 192.0.2.2 5002 --sport 48000
}
sc_snat_ports() { # a port range the source port is not in: a random one
	c1 $PY udp-send 192.0.2.2 5003 --sport 48000
	c2 $PY udp-send 192.0.2.2 5003 --sport 48000
}
sc_reject() { # ICMP errors quoting a whole TCP header, IPv4 and IPv6
	c1 $PY tcp-conn 192.0.2.2 2223 --sport 49000
	c1 $PY tcp-conn fd00:9::2 2223 --sport 49000
	c2 $PY udp-send fd00:9::2 9 --sport 49001
}
sc_bulk() { # 300 kB through a masqueraded connection: window tracking
	c1 $PY tcp-conn 192.0.2.2 80 --sport 49500 --size 300000
}
sc_zone() { # the same flow in zone 7 and in zone 0
	c1 $PY udp-send 192.0.2.2 5004 --sport 50000
	c1 $PY udp-send 192.0.2.2 5000 --sport 50000
}
sc_acct() { # nf_conntrack_acct: packets and bytes per direction
	c1 $PY udp-send 192.0.2.2 5000 --sport 51000 --count 3 --gap 0.1
	c2 $PY tcp-conn 192.0.2.2 80 --sport 51001
}
sc_v6() { # IPv6: TCP handshake and close, ping, UDP
	c1 $PY tcp-conn fd00:9::2 80 --sport 46000
	c1 $PY ping fd00:9::2 --id 4660
	c2 $PY udp-send fd00:9::2 5000 --sport 46001
}

run() {
	local name=$1
	case $name in
	masq-tcp) DEFER=""; record masq-tcp sc_masq_tcp; [ -n "$DEFER" ] && wait "$DEFER" || true ;;
	udp) record udp sc_udp ;;
	ping) record ping sc_ping ;;
	unreach) record unreach sc_unreach ;;
	refused) record refused sc_refused ;;
	stray-ack-loose1) r sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1; record stray-ack-loose1 sc_stray_ack ;;
	stray-ack-loose0) r sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0; record stray-ack-loose0 sc_stray_ack
		r sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1 ;;
	dnat) record dnat sc_dnat ;;
	esp) record esp sc_esp ;;
	v6) record v6 sc_v6 ;;
	snat-range) record snat-range sc_snat_range ;;
	gre) record gre sc_gre ;;
	tcp-rst) record tcp-rst sc_tcp_rst ;;
	reopen) record reopen sc_reopen ;;
	snat-persistent) record snat-persistent sc_snat_persistent ;;
	snat-ports) record snat-ports sc_snat_ports ;;
	reject) record reject sc_reject ;;
	bulk) record bulk sc_bulk ;;
	zone) record zone sc_zone ;;
	acct) r sysctl -qw net.netfilter.nf_conntrack_acct=1; record acct sc_acct
		r sysctl -qw net.netfilter.nf_conntrack_acct=0 ;;
	*) echo "unknown scenario $name" >&2; exit 2 ;;
	esac
}

mkdir -p "$OUT"
setup
ALL="masq-tcp udp ping unreach refused stray-ack-loose1 stray-ack-loose0 dnat esp v6 snat-range gre tcp-rst reopen snat-persistent snat-ports reject bulk zone acct"
for n in ${@:-$ALL}; do run "$n"; done
