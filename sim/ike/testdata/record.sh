#!/bin/bash
# record.sh: runs the real strongSwan 5.9.8 (Debian 12's charon and starter)
# in network namespaces and keeps what it prints, as the goldens of package
# ike. Needs root, iproute2, iptables, tcpdump and
#   apt-get install strongswan-starter strongswan-charon \
#     libstrongswan-standard-plugins libcharon-extauth-plugins
# Usage: sim/ike/testdata/record.sh [SCENARIO...]   (default: all)
# Namespaces are named iptw-ike-*; they are deleted on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$here/real
mkdir -p "$out"
NS="iptw-ike-a iptw-ike-b iptw-ike-r"
declare -A KEEP # pid of the process keeping each namespace's /run

cleanup() {
	for ns in $NS; do
		if [ -n "${KEEP[$ns]:-}" ]; then
			nsenter -t "${KEEP[$ns]}" -m -n ipsec stop >/dev/null 2>&1
			sleep 0.5
			kill "${KEEP[$ns]}" 2>/dev/null
			unset "KEEP[$ns]"
		fi
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	[ -n "${DUMP:-}" ] && kill "$DUMP" 2>/dev/null
	DUMP=
}
trap cleanup EXIT

# in NS CMD...: runs CMD in the namespace's network and mount namespaces.
nsin() { local ns=$1; shift; nsenter -t "${KEEP[$ns]}" -m -n "$@"; }

# etc NS FILE CONTENT: the namespace's /etc/FILE.
etc() { mkdir -p "/etc/netns/$1"; printf '%s\n' "$3" >"/etc/netns/$1/$2"; }

swconf() { # strongswan.conf with a file log; $1 extra charon options
	cat <<EOT
charon {
	# Debian 12's default plugin set; with LIBIPSEC=1 also kernel-libipsec:
	# the kernel the goldens were recorded on has no ESP, so a CHILD_SA
	# can only be installed in charon (which then forces UDP
	# encapsulation, faking a NAT as forceencaps does).
	load = aesni aes rc2 sha2 sha1 md5 mgf1 random nonce x509 revocation constraints pubkey pkcs1 pkcs7 pkcs12 pgp dnskey sshkey pem openssl pkcs8 fips-prf gmp agent xcbc hmac kdf gcm drbg attr ${LIBIPSEC:+kernel-libipsec} kernel-netlink resolve socket-default connmark stroke updown eap-mschapv2 xauth-generic counters
	filelog {
		charon {
			path = /run/charon.log
			time_format = %T
			time_precision = ms
			default = 1
			cfg = ${CFGLOG:-1}
			flush_line = yes
		}
	}
	$1
}
include strongswan.d/*.conf
EOT
}

# start NS: a /run of its own (tmpfs), then "ipsec start".
start() {
	local ns=$1
	ip netns exec "$ns" sh -c 'mount -t tmpfs tmpfs /run && ipsec start >/dev/null 2>&1; exec sleep 100000' &
	KEEP[$ns]=$!
	for i in $(seq 50); do
		sleep 0.2
		nsin "$ns" test -S /run/charon.ctl 2>/dev/null && break
	done
	sleep 1
}

# lan NS: eth1, the LAN side (a veth pair: this kernel has no dummy).
lan() {
	ip -n "$1" link add eth1 type veth peer name eth1p
	ip -n "$1" link set eth1 up
	ip -n "$1" link set eth1p up
}

# topo2: A eth0 10.0.0.200 <-> B eth0 10.0.0.201, LANs on dummy eth1.
topo2() {
	ip netns add iptw-ike-a; ip netns add iptw-ike-b
	ip link add eth0 netns iptw-ike-a type veth peer name eth0 netns iptw-ike-b
	for ns in a b; do
		lan iptw-ike-$ns
		ip -n iptw-ike-$ns link set lo up
		ip -n iptw-ike-$ns link set eth0 up
		ip -n iptw-ike-$ns link set eth1 up
	done
	ip -n iptw-ike-a addr add 10.0.0.200/24 dev eth0
	ip -n iptw-ike-b addr add 10.0.0.201/24 dev eth0
	ip -n iptw-ike-a addr add 192.168.200.1/24 dev eth1
	ip -n iptw-ike-b addr add 192.168.201.1/24 dev eth1
	ip -n iptw-ike-a route add default via 10.0.0.1 dev eth0 onlink
	ip -n iptw-ike-b route add default via 10.0.0.1 dev eth0 onlink
	hosts="127.0.0.1 localhost
10.0.0.200 debian2.example.com
10.0.0.201 debian3.example.com"
	etc iptw-ike-a hosts "$hosts"
	etc iptw-ike-b hosts "$hosts"
}

# topo3: A eth0 10.1.0.2 -- R (10.1.0.1 | 10.0.0.1, MASQUERADE) -- B eth0 10.0.0.201
topo3() {
	ip netns add iptw-ike-a; ip netns add iptw-ike-b; ip netns add iptw-ike-r
	ip link add eth0 netns iptw-ike-a type veth peer name eth1 netns iptw-ike-r
	ip link add eth0 netns iptw-ike-b type veth peer name eth0 netns iptw-ike-r
	for ns in a b; do
		lan iptw-ike-$ns
	done
	for ns in a b r; do
		ip -n iptw-ike-$ns link set lo up
		ip -n iptw-ike-$ns link set eth0 up
	done
	ip -n iptw-ike-r link set eth1 up
	ip -n iptw-ike-a addr add 10.1.0.2/24 dev eth0
	ip -n iptw-ike-r addr add 10.1.0.1/24 dev eth1
	ip -n iptw-ike-r addr add 10.0.0.1/24 dev eth0
	ip -n iptw-ike-b addr add 10.0.0.201/24 dev eth0
	ip -n iptw-ike-a addr add 192.168.200.1/24 dev eth1
	ip -n iptw-ike-b addr add 192.168.201.1/24 dev eth1
	ip -n iptw-ike-a route add default via 10.1.0.1
	ip -n iptw-ike-b route add default via 10.0.0.1
	ip netns exec iptw-ike-r sysctl -qw net.ipv4.ip_forward=1
	ip netns exec iptw-ike-r iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
	hosts="127.0.0.1 localhost
10.0.0.201 debian3.example.com"
	etc iptw-ike-a hosts "$hosts"
	etc iptw-ike-b hosts "$hosts"
}

conf() { # conf NAME LEFTID RIGHT RIGHTID LSUB RSUB EXTRA
	cat <<EOT
conn $1
	left=%defaultroute
	leftid=$2
	right=$3
	rightid=$4
	leftsubnet=$5
	rightsubnet=$6
	keyexchange=ike
	authby=secret
	type=tunnel
${IKE-	ike=aes128-sha1-modp1024!}
${ESP-	esp=aes128-sha1!}
	reauth=no
	auto=add
$7
EOT
}

secrets=': PSK "presharedkey"'

# topo6: A eth0 2001:db8::be6b:d879 <-> B eth0 2001:db8:f:608::2 (seed
# 001's addresses, one /32 on the link), the link's MTU 1280 so that a
# large IKE_AUTH leaves in IPv6 fragments of 1232 bytes as in the seed.
topo6() {
	ip netns add iptw-ike-a; ip netns add iptw-ike-b
	ip link add eth0 netns iptw-ike-a type veth peer name eth0 netns iptw-ike-b
	for ns in a b; do
		ip -n iptw-ike-$ns link set lo up
		ip -n iptw-ike-$ns link set eth0 mtu 1280
		ip -n iptw-ike-$ns link set eth0 up
	done
	ip -n iptw-ike-a addr add 2001:db8::be6b:d879/32 dev eth0 nodad
	ip -n iptw-ike-b addr add 2001:db8:f:608::2/32 dev eth0 nodad
	sleep 1
}

# certs NS HOST: /etc/ipsec.d with the test CA, HOST's certificate and
# key (certs/mkcerts.go), and ipsec.secrets naming the key.
certs() {
	local d=/etc/netns/$1/ipsec.d
	mkdir -p "$d/cacerts" "$d/certs" "$d/private"
	cp "$here/certs/caCert.pem" "$d/cacerts/"
	cp "$here/certs/$2Cert.pem" "$d/certs/"
	cp "$here/certs/$2Key.pem" "$d/private/"
	etc "$1" ipsec.secrets ": RSA $2Key.pem"
}

# certconf NAME LEFTCERT RIGHT RIGHTHOST LSUB RSUB EXTRA: public key
# authentication with certificates (leftid is the certificate's subject).
certconf() {
	cat <<EOT
conn $1
	left=%defaultroute
	leftcert=$2Cert.pem
	right=$4
	rightid="C=JP, O=iptwin twin network, CN=$3.example.com"
${5:+	leftsubnet=$5}
${6:+	rightsubnet=$6}
	keyexchange=ikev2
	ike=aes128-sha1-modp1024!
	esp=aes128-sha1!
	auto=add
$7
EOT
}

# noidconf NAME RIGHT: PSK without leftid/rightid.
noidconf() {
	cat <<EOT
conn $1
	left=%defaultroute
	right=$2
	authby=secret
	ike=aes128-sha1-modp1024!
	esp=aes128-sha1!
	auto=add
EOT
}

# seedconf EXTRA_A EXTRA_B [SWCONF_A]: the seed's two ipsec.conf files.
seedconf() {
	etc iptw-ike-a ipsec.conf "$(conf debian3 debian2.example.com debian3.example.com debian3.example.com 192.168.200.0/24 192.168.201.0/24 "$1")"
	etc iptw-ike-b ipsec.conf "$(conf debian2 debian3.example.com debian2.example.com debian2.example.com 192.168.201.0/24 192.168.200.0/24 "$2")"
	for ns in a b; do
		etc iptw-ike-$ns ipsec.secrets "$secrets"
	done
	etc iptw-ike-a strongswan.conf "$(swconf "${3:-}")"
	etc iptw-ike-b strongswan.conf "$(swconf "${4:-}")"
}

dump() { # dump NS IFACE FILE: a pcap of the link while the scenario runs
	ip netns exec "$1" tcpdump -i "$2" -s 0 -U -w "$3" >/dev/null 2>&1 &
	DUMP=$!
	sleep 1
}

# collect DIR NAME: up, then what the tools show on both sides.
collect() {
	local d=$1 name=$2 t=${3:-200}
	nsin iptw-ike-a timeout "$t" ipsec up "$name" >"$d/up.txt" 2>&1
	echo "exit $?" >>"$d/up.txt"
	sleep 1
	# TRAFFIC: commands run between "ipsec up" and the listings (their
	# output in traffic.txt)
	[ -n "${TRAFFIC:-}" ] && eval "$TRAFFIC" >"$d/traffic.txt" 2>&1
	for ns in a b; do
		nsin iptw-ike-$ns ipsec statusall >"$d/statusall-$ns.txt" 2>&1
		nsin iptw-ike-$ns ipsec status >"$d/status-$ns.txt" 2>&1
		nsin iptw-ike-$ns ip xfrm state >"$d/xfrm-state-$ns.txt" 2>&1
		nsin iptw-ike-$ns ip xfrm policy >"$d/xfrm-policy-$ns.txt" 2>&1
		nsin iptw-ike-$ns ip route show table 220 >"$d/route220-$ns.txt" 2>&1
		nsin iptw-ike-$ns ip rule >"$d/rule-$ns.txt" 2>&1
		nsin iptw-ike-$ns cat /run/charon.log >"$d/charon-$ns.log" 2>&1
	done
}

scenario() { # scenario NAME[-libipsec]: set up, run, collect, clean up
	local s=$1 d=$out/$1
	LIBIPSEC=
	case $s in *-libipsec) LIBIPSEC=1; s=${s%-libipsec} ;; esac
	rm -rf "$d"; mkdir -p "$d"
	echo "== $s"
	case $s in
	ok) # the seed's configuration, MOBIKE on by default: IKE_AUTH on 4500
		topo2; seedconf "" ""
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	mobike-no)
		topo2; seedconf "	mobike=no" "	mobike=no"
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	traffic) # pings through the CHILD_SA, then what statusall counts:
		# "84 bytes_i (1 pkt, 2s ago)" in traffic.txt, then "464 bytes_i
		# (5 pkts, 3s ago)" (with libipsec the counters are
		# charon's own; the kernel's are read by query_sa)
		topo2; seedconf "" ""
		start iptw-ike-a; start iptw-ike-b
		TRAFFIC='nsin iptw-ike-a ping -c 1 -I 192.168.200.1 192.168.201.1; sleep 2
			nsin iptw-ike-a ipsec statusall | grep "{1}"
			nsin iptw-ike-a ping -c 3 -i 1 -I 192.168.200.1 192.168.201.1; sleep 2
			nsin iptw-ike-a ping -c 1 -s 100 -I 192.168.200.1 192.168.201.1; sleep 3'
		collect "$d" debian3
		TRAFFIC= ;;
	noroutes) # install_routes = no on the initiator
		topo2; seedconf "" "" "install_routes = no"
		start iptw-ike-a; start iptw-ike-b
		collect "$d" debian3 ;;
	nat) # the initiator behind a MASQUERADE router
		topo3
		etc iptw-ike-a ipsec.conf "$(conf debian3 debian2.example.com debian3.example.com debian3.example.com 192.168.200.0/24 192.168.201.0/24 "")"
		etc iptw-ike-b ipsec.conf "$(conf debian2 debian3.example.com %any debian2.example.com 192.168.201.0/24 192.168.200.0/24 "")"
		for ns in a b; do etc iptw-ike-$ns ipsec.secrets "$secrets"; etc iptw-ike-$ns strongswan.conf "$(swconf "")"; done
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	drop500) # the responder drops UDP 500: retransmits, then failure
		topo2; seedconf "	keyingtries=1" ""
		ip netns exec iptw-ike-b iptables -A INPUT -p udp --dport 500 -j DROP
		start iptw-ike-a; start iptw-ike-b
		collect "$d" debian3 ;;
	drop4500) # the responder drops UDP 4500: IKE_AUTH retransmits
		topo2; seedconf "	keyingtries=1" ""
		ip netns exec iptw-ike-b iptables -A INPUT -p udp --dport 4500 -j DROP
		start iptw-ike-a; start iptw-ike-b
		collect "$d" debian3 ;;
	defaults) # no ike= nor esp=: charon's default proposals
		topo2; IKE= ESP= seedconf "" ""
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	nobang) # ike= and esp= without "!": the defaults follow
		topo2; IKE="	ike=aes256-sha256-modp2048" ESP="	esp=aes256-sha256" seedconf "" ""
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	wrongpsk) # the responder has another PSK: AUTHENTICATION_FAILED
		topo2; seedconf "" ""
		etc iptw-ike-b ipsec.secrets ': PSK "other"'
		start iptw-ike-a; start iptw-ike-b
		collect "$d" debian3 ;;
	forever) # the seed's keyingtries=%forever against a dropped 500 (cut at 200 s)
		topo2; seedconf "	keyingtries=%forever" ""
		ip netns exec iptw-ike-b iptables -A INPUT -p udp --dport 500 -j DROP
		start iptw-ike-a; start iptw-ike-b
		collect "$d" debian3 200 ;;
	noid) # PSK without leftid/rightid: the IDs are the addresses
		topo2
		etc iptw-ike-a ipsec.conf "$(noidconf peer 10.0.0.201)"
		etc iptw-ike-b ipsec.conf "$(noidconf peer 10.0.0.200)"
		for ns in a b; do etc iptw-ike-$ns ipsec.secrets "$secrets"; etc iptw-ike-$ns strongswan.conf "$(swconf "")"; done
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" peer ;;
	cert) # certificates (RSA 2048) over IPv4
		topo2
		etc iptw-ike-a ipsec.conf "$(certconf debian3 debian2 debian3 10.0.0.201 192.168.200.0/24 192.168.201.0/24 "")"
		etc iptw-ike-b ipsec.conf "$(certconf debian2 debian3 debian2 10.0.0.200 192.168.201.0/24 192.168.200.0/24 "")"
		certs iptw-ike-a debian2; certs iptw-ike-b debian3
		for ns in a b; do etc iptw-ike-$ns strongswan.conf "$(swconf "")"; done
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	cert6|cert6-nofrag) # seed 001: certificates over IPv6 with a 1280-byte MTU,
		# IKE fragmentation on (the default) or off
		topo6
		extra=""; [ "$s" = cert6-nofrag ] && extra="	fragmentation=no"
		etc iptw-ike-a ipsec.conf "$(certconf debian3 debian2 debian3 2001:db8:f:608::2 "" "" "$extra")"
		etc iptw-ike-b ipsec.conf "$(certconf debian2 debian3 debian2 2001:db8::be6b:d879 "" "" "$extra")"
		certs iptw-ike-a debian2; certs iptw-ike-b debian3
		for ns in a b; do etc iptw-ike-$ns strongswan.conf "$(swconf "")"; done
		start iptw-ike-a; start iptw-ike-b
		dump iptw-ike-b eth0 "$d/link.pcap"
		collect "$d" debian3 ;;
	esac
	cleanup
}

all="ok ok-libipsec traffic-libipsec mobike-no mobike-no-libipsec noroutes-libipsec nat nat-libipsec drop500 drop4500 forever defaults-libipsec nobang-libipsec wrongpsk noid cert cert6 cert6-nofrag"
for s in ${@:-$all}; do scenario "$s"; done
