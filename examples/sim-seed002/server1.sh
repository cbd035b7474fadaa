#!/bin/bash
# Server 1's boot: the iptables service (iptables-services) restores the
# file "service iptables save" wrote while no rule was loaded.
cat > /tmp/iptables.$$ <<'RULES'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
RULES
iptables-restore < /tmp/iptables.$$
rm -f /tmp/iptables.$$
