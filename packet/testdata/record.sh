#!/bin/sh
# Records the tcpdump goldens: for every testdata/NAME.pcap, NAME.tcpdump
# is what the real tcpdump 4.99 prints for it with -nn -S -t (no name
# resolution, absolute sequence numbers, no timestamps). Regenerate
# built.pcap first when the built packets change:
#   go test ./packet -run TestBuiltPcap -update && sh packet/testdata/record.sh
set -eu
cd "$(dirname "$0")"
tcpdump --version 2>&1 | head -1
for f in *.pcap; do
	tcpdump -nn -S -t -r "$f" 2>/dev/null >"${f%.pcap}.tcpdump"
done
