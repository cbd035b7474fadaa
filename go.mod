module github.com/iptwin/iptwin

go 1.26.8

require (
	github.com/google/gopacket v1.1.19
	go.yaml.in/yaml/v3 v3.0.6
)
