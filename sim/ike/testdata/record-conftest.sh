#!/bin/bash
# record-conftest.sh: what the real starter (strongSwan 5.9.8) says about
# each testdata/conf/*.conf: "starter --conftest --conf FILE" into FILE.out.
cd "$(dirname "$0")/conf" || exit 1
for f in *.conf; do
	/usr/lib/ipsec/starter --conftest --conf "$PWD/$f" > "${f%.conf}.out" 2>&1
	echo "exit $?" >> "${f%.conf}.out"
done
