#!/bin/sh
# Re-records stack/testdata/monitor/*.golden: what the real
# `xtables-monitor --trace` (iptables 1.8.9, nf_tables) prints while each
# scenario NAME.scn (internal/kernelref's format) runs in network
# namespaces iptw-mon-k-* (needs root, ip netns, iptables 1.8.9 and
# xtables-monitor). Trace ids and kernel-chosen IPv4 ids are random; the
# test (TestMonitorGolden) normalises both before comparing. A golden ends
# with "! " lines (standard error) and "[exit N]" when xtables-monitor
# stopped by itself.
set -e
cd "$(dirname "$0")/../../.."
exec go test ./stack/ -run 'TestMonitorRecord$' -count=1 -record-monitor "$@"
