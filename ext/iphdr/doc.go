package iphdr
