package sim

import "strings"

// A host with `internet: true` stands for the rest of the world, as Linux
// can with "AnyIP": a local route for every address (`ip route add local
// default dev lo`, in table local) makes each one the host's own, so it
// answers pings, TCP and UDP for any address (with the listeners it has).
// Because the local table is looked up first, the host's own routes (its
// connected subnets, then the routes it was given) are copied into table
// local ahead of it, so that packets for the topology's hosts are still
// forwarded. Checked against the kernel (testdata/internet-kernel, recorded
// in namespaces by its record.sh): the same routes
// give the same answers (ping from any address, a listener's SYN-ACK, a
// RST for a closed port, forwarding to a more specific route).

// internetSysctls are the sysctls an internet host starts with: it
// forwards both families (unless the file sets them otherwise).
func internetSysctls(given []KV, at node) []KV {
	var out []KV
	for _, k := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"} {
		set := false
		for _, kv := range given {
			if strings.ReplaceAll(kv.Key, "/", ".") == k {
				set = true
			}
		}
		if !set {
			out = append(out, KV{Key: k, Value: "1", at: at})
		}
	}
	return out
}

// internetRoutes are the `ip` commands that make an internet host's
// table local: its connected subnets, its routes, then every other
// address local.
func internetRoutes(hs *HostSpec) [][]string {
	var out [][]string
	v6 := false
	for _, ifc := range hs.Interfaces {
		for _, p := range ifc.Addresses {
			v6 = v6 || p.Addr().Is6()
		}
	}
	for _, ifc := range hs.Interfaces {
		for _, p := range ifc.Addresses {
			if p.Addr().IsLinkLocalUnicast() || (p.Addr().Is4() && p.Bits() == 32) || (p.Addr().Is6() && p.Bits() == 128) {
				continue
			}
			out = append(out, []string{"route", "add", p.Masked().String(), "dev", ifc.Name, "table", "local"})
		}
		if v6 && ifc.Up {
			// link-local neighbours stay on the link
			out = append(out, []string{"-6", "route", "add", "fe80::/64", "dev", ifc.Name, "table", "local"})
		}
	}
	for _, r := range hs.Routes {
		words, err := splitWords(r.Text)
		// A default route has no place there: AnyIP's local default
		// takes its prefix (the host is where unknown addresses end).
		if err != nil || hasWord(words, "table") || len(words) == 0 || isRouteType(words[0]) || isDefault(words[0]) {
			continue
		}
		out = append(out, append(append([]string{"route", "add"}, words...), "table", "local"))
	}
	out = append(out, []string{"route", "add", "local", "0.0.0.0/0", "dev", "lo"})
	if v6 {
		out = append(out, []string{"-6", "route", "add", "local", "::/0", "dev", "lo"})
	}
	return out
}

func isDefault(w string) bool {
	return w == "default" || w == "0.0.0.0/0" || w == "::/0" || w == "all" || w == "any"
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// isRouteType says whether a route starts with its type (local,
// blackhole ...), which the copy into table local leaves out.
func isRouteType(w string) bool {
	switch w {
	case "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast":
		return true
	}
	return false
}
