#!/bin/bash

iptables -F           # filterテーブルの初期化
iptables -F -t nat    # natテーブルの初期化
iptables -F -t mangle # mangleテーブルの初期化
iptables -F -t raw    # rawテーブルの初期化
iptables -X           # ユーザー定義のチェーンを削除
iptables -Z           # パケットカウンタ・バイトカウンタをクリア

iptables -P INPUT   DROP   # INPUTは原則拒否
iptables -P FORWARD DROP   # FORWARDは原則拒否
iptables -P OUTPUT  ACCEPT # OUTPUTは全て許可

WAN=eth0              # eth0をWAN側の接続とする
LAN=eth1              # eth1をLAN側の接続とする

#-------
# INPUT
#-------

iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT   # ルーターからの通信の戻りの許可
iptables -A INPUT -m state --state INVALID -j DROP                 # 不正なパケットは廃棄
iptables -A INPUT -i lo -j ACCEPT                                  # ルーター自身からのアクセスは許可
iptables -A INPUT -p icmp -j ACCEPT                                # ルーターへのicmpは許可
iptables -A INPUT -i $LAN -j ACCEPT                                # LANからのアクセスは許可
iptables -A INPUT ! -i $WAN -p tcp --dport 22 -j ACCEPT            # WAN以外からのSSHは許可
iptables -A INPUT -j LOG --log-prefix "[INPUT] "                   # dropのログ

#---------
# FORWARD
#---------

iptables -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT # 接続が確立したものの転送は許可
iptables -A FORWARD -i $LAN -j ACCEPT                              # LANからの通信は許可
iptables -A FORWARD -j LOG --log-prefix "[FORWARD] "               # dropのログ

#-----
# NAT
#-----

iptables -t nat -A POSTROUTING -o $WAN -j MASQUERADE               # WAN側からの出力はNAPTする
