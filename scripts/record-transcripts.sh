#!/bin/sh
# Re-record the golden transcripts of .cmds scripts from the real iptables
# 1.8.9 (nf_tables) in fresh network namespaces. Run as root.
#   scripts/record-transcripts.sh                 every *.cmds in the repository
#   scripts/record-transcripts.sh FILE.cmds...    just those
set -e
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
	set -- $(find . -name '*.cmds' -path '*/testdata/*' | sort)
fi
exec go run ./internal/transcript/record "$@"
