#!/bin/bash
# run by a step: adds a rule, then a mistake on line 5
iptables -A INPUT -p icmp -j DROP
echo "rules added"
iptables -A INPUT -j NOSUCHCHAIN
echo "still runs"
