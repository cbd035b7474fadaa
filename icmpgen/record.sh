#!/bin/sh
# Records the kernel goldens of icmpgen (testdata/kernel) and defrag
# (../defrag/testdata/kernel): builds the namespaces iptw-gen-c, -h and -s
# with veth pairs, installs each case's rules with the real iptables,
# sends its trigger packets, captures the kernel's answers and writes one
# file per case. Needs root, ip, iptables/ip6tables (1.8.9) and ethtool;
# deletes the namespaces when done, also on failure or interrupt.
#   sh icmpgen/record.sh            # all cases
#   sh icmpgen/record.sh -run r4-   # cases whose name matches a regexp
set -eu
cd "$(dirname "$0")/internal/record"
go build -o /tmp/iptw-gen-record .
trap 'for n in c h s; do ip netns del iptw-gen-$n 2>/dev/null || true; done' EXIT INT TERM
/tmp/iptw-gen-record "$@"
