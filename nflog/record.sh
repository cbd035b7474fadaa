#!/bin/sh
# Re-records nflog/testdata/kernel.golden from the running kernel.
#
# Needs root (network namespaces iptw-log-a and iptw-log-b, veth pairs,
# raw and packet sockets, /dev/kmsg) and iptables/ip6tables. It sets
# net.netfilter.nf_log_all_netns=1 so that LOG works inside a namespace,
# and holds /tmp/iptw-kmsg.lock while it reads the kernel log, as every
# recording that reads dmesg does. Extra arguments go to the recorder
# (e.g. -run 'tcp6' -out /tmp/x.golden).
#
#   sh nflog/record.sh && go test ./nflog/
set -eu
cd "$(dirname "$0")/.."
cleanup() {
	for ns in iptw-log-a iptw-log-b; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" || true
	done
}
trap cleanup EXIT INT TERM
sysctl -qw net.netfilter.nf_log_all_netns=1
go build -o /tmp/iptw-log-record ./nflog/internal/record
flock /tmp/iptw-kmsg.lock /tmp/iptw-log-record "$@"
