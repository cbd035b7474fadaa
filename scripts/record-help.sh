#!/bin/sh
# Re-record the help texts of the extensions (internal/cli/help/) from the
# real iptables 1.8.9 in a fresh network namespace. Run as root; needs the
# iptables source's extension list (IPT_SRC, default /tmp/ipt189).
set -eu
cd "$(dirname "$0")/.."
src=${IPT_SRC:-/tmp/ipt189}/extensions
ns=iptw-help-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
out=internal/cli/help
ip netns exec "$ns" iptables -h > "$out/iptables.txt"
ip netns exec "$ns" ip6tables -h > "$out/ip6tables.txt"
mkdir -p "$out/ext"
rm -f "$out"/ext/*.txt
for f in "$src"/libxt_*.c "$src"/libipt_*.c "$src"/libip6t_*.c; do
	b=$(basename "$f" .c)
	fam=${b%%_*}
	name=${b#*_}
	case $name in [A-Z]*) kind=target opt=-j ;; *) kind=match opt=-m ;; esac
	for tool in iptables ip6tables; do
		case $fam:$tool in libipt:ip6tables | libip6t:iptables) continue ;; esac
		base=$(wc -l < "$out/$tool.txt")
		# the extension's part follows the tool's own help and one blank line
		ip netns exec "$ns" $tool $opt "$name" -h 2>/dev/null | tail -n +$((base + 2)) > "$out/ext/$tool-$kind-$name.txt" || true
		[ -s "$out/ext/$tool-$kind-$name.txt" ] || rm -f "$out/ext/$tool-$kind-$name.txt"
	done
done
