#!/bin/bash
# Server 1 at boot: the iptables service loads /etc/sysconfig/iptables,
# which the previous post left with no rules.
iptables-restore < iptables
