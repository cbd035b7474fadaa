#!/bin/sh
# Restore a kube-proxy-shaped ruleset (default 100,000 rules) into a twin
# host with iptwin and into a fresh network namespace with the real
# iptables-restore (nf_tables), side by side, and list it with both. Run as
# root for the real side; without it only iptwin is timed.
#   scripts/bench-restore.sh [RULES]
set -eu
cd "$(dirname "$0")/.."
n=${1:-100000}
tmp=$(mktemp -d)
ns=iptw-bench-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/iptwin" ./cmd/iptwin
go run ./internal/kubegen/cmd "$n" > "$tmp/rules"
echo "ruleset: $(grep -c '^-A' "$tmp/rules") rules, $(wc -l < "$tmp/rules") lines"
t() { # t LABEL CMD... : wall seconds of the best of 3 runs, stdin from rules
	label=$1; shift
	best=""
	for i in 1 2 3; do
		[ "$label" = "iptwin restore" ] && rm -rf "$tmp/state"
		[ "$label" = "real restore" ] && { ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; }
		s=$(date +%s.%N)
		"$@" < "$tmp/rules" > /dev/null
		e=$(date +%s.%N)
		d=$(echo "$e - $s" | bc)
		if [ -z "$best" ] || [ "$(echo "$d < $best" | bc)" = 1 ]; then best=$d; fi
	done
	printf '%-18s %8.3f s\n' "$label" "$best"
	eval "$(echo "$label" | tr ' -' '__')=$best"
}
t "iptwin restore" "$tmp/iptwin" --state "$tmp/state" iptables-restore
/usr/bin/time -o "$tmp/rss" -f "%M" "$tmp/iptwin" --state "$tmp/state2" iptables-restore < "$tmp/rules"
rules=$(grep -c '^-A' "$tmp/rules")
echo "iptwin restore peak RSS $(cat "$tmp/rss") KB, $(( $(cat "$tmp/rss") * 1024 / rules )) bytes per rule"
t "iptwin save" "$tmp/iptwin" --state "$tmp/state" iptables-save
t "iptwin -S" "$tmp/iptwin" --state "$tmp/state" iptables -t nat -S
t "iptwin -L -n" "$tmp/iptwin" --state "$tmp/state" iptables -t nat -L -n
if [ "$(id -u)" = 0 ] && command -v iptables-restore > /dev/null; then
	t "real restore" ip netns exec "$ns" iptables-restore
	t "real save" ip netns exec "$ns" iptables-save
	echo "restore: iptwin is $(echo "scale=1; $real_restore / $iptwin_restore" | bc)x faster than iptables-restore (nf_tables)"
	ip netns exec "$ns" iptables-save | grep -v '^#' > "$tmp/real.save"
	"$tmp/iptwin" --state "$tmp/state" iptables-save | grep -v '^#' > "$tmp/twin.save"
	cmp -s "$tmp/real.save" "$tmp/twin.save" && echo "iptables-save output: identical" || echo "iptables-save output: DIFFERS"
else
	echo "real iptables not timed (needs root and iptables)"
fi
