module github.com/iptwin/iptwin

go 1.26.8
