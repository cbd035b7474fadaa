package xtables

// ChainProtos is xtables_chain_protos: the protocol names iptables knows
// without /etc/protocols, in its order (the first name of a number is the
// one printed).
var ChainProtos = []struct {
	Name string
	Num  uint8
}{
	{"tcp", 6},
	{"sctp", 132},
	{"udp", 17},
	{"udplite", 136},
	{"icmp", 1},
	{"ipv6-icmp", 58},
	{"icmpv6", 58},
	{"esp", 50},
	{"ah", 51},
	{"mobility-header", 135},
	{"ipv6-mh", 135},
	{"mh", 135},
	{"all", 0},
}

// ParseProtocol is xtables_parse_protocol: a number 0..255, "all", a name
// from the protocols database, or one of ChainProtos.
func ParseProtocol(s string, names Resolver) (uint8, error) {
	if v, ok := StrToUintAll(s, 0, 255); ok {
		return uint8(v), nil
	}
	if s == "all" {
		return 0, nil
	}
	if names != nil {
		if p := names.ProtoByName(s); p >= 0 && p <= 255 {
			return uint8(p), nil
		}
	}
	for _, p := range ChainProtos {
		if p.Name == s {
			return p.Num, nil
		}
	}
	return 0, Errorf("unknown protocol \"%s\" specified", s)
}

// ProtoToName is proto_to_name: the built-in name first, then the
// protocols database unless nolookup; "" when there is none.
func ProtoToName(p uint8, nolookup bool, names Resolver) string {
	for _, c := range ChainProtos {
		if c.Num == p {
			return c.Name
		}
	}
	if p != 0 && !nolookup && names != nil {
		return names.ProtoName(p)
	}
	return ""
}
