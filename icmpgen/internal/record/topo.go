//go:build linux

package main

import (
	"fmt"
	"net"
	"strings"
)

// The namespaces: a client C and a server S on either side of a host H
// that is also their router.
//
//	C c0 10.0.1.2 fd00:1::2 ── h0 10.0.1.1 fd00:1::1  H  h1 10.0.2.1 fd00:2::1 ── s0 10.0.2.2 fd00:2::2  S
//	        mtu 1500                                    mtu 1280
//
// Neighbours are static, C and S drop all input (their kernels stay
// silent), checksum offload is off on every veth (so captures carry the
// checksums the kernel computes) and H's ICMP rate limits are off.
const (
	nsC = "iptw-gen-c"
	nsH = "iptw-gen-h"
	nsS = "iptw-gen-s"
)

var (
	macC0 = net.HardwareAddr{2, 0, 0, 0, 1, 2}
	macH0 = net.HardwareAddr{2, 0, 0, 0, 1, 1}
	macH1 = net.HardwareAddr{2, 0, 0, 0, 2, 1}
	macS0 = net.HardwareAddr{2, 0, 0, 0, 2, 2}
)

func teardown() {
	for _, ns := range []string{nsC, nsH, nsS} {
		run("", "ip", "netns", "del", ns)
	}
}

func setup() error {
	teardown()
	steps := [][]string{
		{"", "ip netns add " + nsC},
		{"", "ip netns add " + nsH},
		{"", "ip netns add " + nsS},
		{"", fmt.Sprintf("ip -n %s link add c0 address %s type veth peer name h0 address %s netns %s", nsC, macC0, macH0, nsH)},
		{"", fmt.Sprintf("ip -n %s link add h1 address %s mtu 1280 type veth peer name s0 address %s mtu 1280 netns %s", nsH, macH1, macS0, nsS)},
		{nsC, "sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0"},
		{nsS, "sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0"},
		{nsH, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000"},
		{nsC, "ip link set lo up; ip link set c0 up; ip addr add 10.0.1.2/24 dev c0; ip addr add fd00:1::2/64 dev c0 nodad"},
		{nsH, "ip link set lo up; ip link set h0 up; ip link set h1 up; ip addr add 10.0.1.1/24 dev h0; ip addr add fd00:1::1/64 dev h0 nodad; ip addr add 10.0.2.1/24 dev h1; ip addr add fd00:2::1/64 dev h1 nodad"},
		{nsS, "ip link set lo up; ip link set s0 up; ip addr add 10.0.2.2/24 dev s0; ip addr add fd00:2::2/64 dev s0 nodad"},
		{nsC, "ip route add default via 10.0.1.1; ip -6 route add default via fd00:1::1"},
		{nsS, "ip route add default via 10.0.2.1; ip -6 route add default via fd00:2::1"},
		{nsC, fmt.Sprintf("ip neigh add 10.0.1.1 lladdr %s dev c0 nud permanent; ip neigh add fd00:1::1 lladdr %s dev c0 nud permanent", macH0, macH0)},
		{nsS, fmt.Sprintf("ip neigh add 10.0.2.1 lladdr %s dev s0 nud permanent; ip neigh add fd00:2::1 lladdr %s dev s0 nud permanent", macH1, macH1)},
		{nsH, fmt.Sprintf("ip neigh add 10.0.1.2 lladdr %s dev h0 nud permanent; ip neigh add fd00:1::2 lladdr %s dev h0 nud permanent; ip neigh add 10.0.2.2 lladdr %s dev h1 nud permanent; ip neigh add fd00:2::2 lladdr %s dev h1 nud permanent; ip neigh add 10.0.1.3 lladdr %s dev h0 nud permanent; ip neigh add fd00:1::3 lladdr %s dev h0 nud permanent", macC0, macC0, macS0, macS0, macC0, macC0)},
		{nsC, "ethtool -K c0 tx off rx off >/dev/null"},
		{nsH, "ethtool -K h0 tx off rx off >/dev/null; ethtool -K h1 tx off rx off >/dev/null; ethtool -K lo tx off >/dev/null"},
		{nsS, "ethtool -K s0 tx off rx off >/dev/null"},
		{nsC, "iptables -P INPUT DROP; ip6tables -P INPUT DROP"},
		{nsS, "iptables -P INPUT DROP; ip6tables -P INPUT DROP"},
	}
	for _, s := range steps {
		if err := sh(s[0], s[1]); err != nil {
			return err
		}
	}
	return nil
}

// resetHost removes every rule of H and restores its sysctls to the
// defaults the cases assume.
func resetHost() error {
	var b strings.Builder
	for _, cmd := range []string{"iptables", "ip6tables"} {
		for _, t := range []string{"filter", "raw", "mangle", "nat"} {
			fmt.Fprintf(&b, "%s -t %s -F; %s -t %s -X; ", cmd, t, cmd, t)
		}
	}
	b.WriteString("sysctl -qw net.ipv4.ipfrag_time=30 net.ipv6.ip6frag_time=60 net.ipv4.icmp_errors_use_inbound_ifaddr=0 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000; ")
	b.WriteString("ip route del 10.0.1.2/32 2>/dev/null; true")
	return sh(nsH, b.String())
}
