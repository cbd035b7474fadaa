# Seed 002's host: eth0 with its MAC and address, a default route, and the
# ruleset of the post (LOG and DROP of server 2's pings, REJECT of its SSH
# connection, LOG of every ICMP message the host sends).
ip link set lo up
ip link add eth0 type dummy
ip link set eth0 address 0a:11:d1:09:77:ce
ip link set eth0 up
ip addr add 10.1.51.165/24 dev eth0
ip route add default via 10.1.51.1
iptables-restore < rules.txt
