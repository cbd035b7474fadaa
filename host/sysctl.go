package host

import (
	"sort"
	"strconv"
	"strings"
)

// perConf are the per-interface keys of net.ipv4.conf.* and their defaults.
var perConf4 = map[string]string{
	"accept_local": "0", "accept_redirects": "1", "arp_announce": "0", "arp_ignore": "0", "forwarding": "0", "route_localnet": "0",
	"rp_filter": "0", "send_redirects": "1", "disable_xfrm": "0", "disable_policy": "0",
}

var perConf6 = map[string]string{
	"accept_ra": "1", "disable_ipv6": "0", "forwarding": "0", "hop_limit": "64", "disable_policy": "0",
}

// loConf4 are lo's own IPv4 values: IPsec never applies to it
// (devinet_init_net marks the loopback device NOXFRM and NOPOLICY).
var loConf4 = map[string]string{"disable_xfrm": "1", "disable_policy": "1"}

// global keys with the defaults read from a fresh network namespace
// (Linux 6.18).
var globalSysctls = map[string]string{
	"net.ipv4.ip_forward":                                       "0",
	"net.ipv4.icmp_errors_use_inbound_ifaddr":                   "0",
	"net.ipv4.icmp_echo_ignore_all":                             "0",
	"net.ipv4.icmp_echo_ignore_broadcasts":                      "1",
	"net.ipv4.icmp_ratelimit":                                   "1000",
	"net.ipv4.icmp_ratemask":                                    "6168",
	"net.ipv4.icmp_msgs_per_sec":                                "1000",
	"net.ipv4.icmp_msgs_burst":                                  "50",
	"net.ipv4.ipfrag_time":                                      "30",
	"net.ipv4.ipfrag_high_thresh":                               "4194304",
	"net.ipv4.ipfrag_max_dist":                                  "64",
	"net.ipv4.ip_no_pmtu_disc":                                  "0",
	"net.ipv6.auto_flowlabels":                                  "1",
	"net.ipv6.ip6frag_time":                                     "60",
	"net.ipv6.icmp.ratelimit":                                   "100",
	"net.netfilter.nf_conntrack_tcp_be_liberal":                 "0",
	"net.netfilter.nf_conntrack_tcp_ignore_invalid_rst":         "0",
	"net.netfilter.nf_conntrack_tcp_max_retrans":                "3",
	"net.netfilter.nf_conntrack_log_invalid":                    "0",
	"net.netfilter.nf_conntrack_events":                         "2",
	"net.netfilter.nf_conntrack_expect_max":                     "4096",
	"net.netfilter.nf_conntrack_timestamp":                      "0",
	"net.ipv4.ip_default_ttl":                                   "64",
	"net.netfilter.nf_conntrack_acct":                           "0",
	"net.netfilter.nf_conntrack_buckets":                        "262144",
	"net.netfilter.nf_conntrack_checksum":                       "1",
	"net.netfilter.nf_conntrack_max":                            "262144",
	"net.netfilter.nf_conntrack_tcp_loose":                      "1",
	"net.netfilter.nf_conntrack_frag6_timeout":                  "60",
	"net.netfilter.nf_conntrack_generic_timeout":                "600",
	"net.netfilter.nf_conntrack_gre_timeout":                    "30",
	"net.netfilter.nf_conntrack_gre_timeout_stream":             "180",
	"net.netfilter.nf_conntrack_icmp_timeout":                   "30",
	"net.netfilter.nf_conntrack_icmpv6_timeout":                 "30",
	"net.netfilter.nf_conntrack_sctp_timeout_closed":            "10",
	"net.netfilter.nf_conntrack_sctp_timeout_cookie_echoed":     "3",
	"net.netfilter.nf_conntrack_sctp_timeout_cookie_wait":       "3",
	"net.netfilter.nf_conntrack_sctp_timeout_established":       "210",
	"net.netfilter.nf_conntrack_sctp_timeout_heartbeat_sent":    "30",
	"net.netfilter.nf_conntrack_sctp_timeout_shutdown_ack_sent": "3",
	"net.netfilter.nf_conntrack_sctp_timeout_shutdown_recd":     "3",
	"net.netfilter.nf_conntrack_sctp_timeout_shutdown_sent":     "3",
	"net.netfilter.nf_conntrack_tcp_timeout_close":              "10",
	"net.netfilter.nf_conntrack_tcp_timeout_close_wait":         "60",
	"net.netfilter.nf_conntrack_tcp_timeout_established":        "432000",
	"net.netfilter.nf_conntrack_tcp_timeout_fin_wait":           "120",
	"net.netfilter.nf_conntrack_tcp_timeout_last_ack":           "30",
	"net.netfilter.nf_conntrack_tcp_timeout_max_retrans":        "300",
	"net.netfilter.nf_conntrack_tcp_timeout_syn_recv":           "60",
	"net.netfilter.nf_conntrack_tcp_timeout_syn_sent":           "120",
	"net.netfilter.nf_conntrack_tcp_timeout_time_wait":          "120",
	"net.netfilter.nf_conntrack_tcp_timeout_unacknowledged":     "300",
	"net.netfilter.nf_conntrack_udp_timeout":                    "30",
	"net.netfilter.nf_conntrack_udp_timeout_stream":             "120",
}

// DefaultSysctls are a fresh namespace's values (with lo).
func DefaultSysctls() map[string]string {
	m := map[string]string{}
	for k, v := range globalSysctls {
		m[k] = v
	}
	for _, d := range []string{"all", "default", "lo"} {
		addConf(m, d, nil)
	}
	return m
}

func addConf(m map[string]string, dev string, from map[string]string) {
	for k, v := range perConf4 {
		if from != nil {
			if fv, ok := from["net.ipv4.conf.default."+k]; ok {
				v = fv
			}
		}
		if lv, ok := loConf4[k]; ok && dev == "lo" {
			v = lv
		}
		m["net.ipv4.conf."+dev+"."+k] = v
	}
	for k, v := range perConf6 {
		if from != nil {
			if fv, ok := from["net.ipv6.conf.default."+k]; ok {
				v = fv
			}
		}
		m["net.ipv6.conf."+dev+"."+k] = v
	}
}

// newLinkSysctls gives a new link its conf directories, copied from
// "default" as the kernel does.
func (n *Net) newLinkSysctls(name string) { addConf(n.Sysctl, name, n.Sysctl) }

func (n *Net) dropSysctls(name string) {
	for k := range n.Sysctl {
		if strings.HasPrefix(k, "net.ipv4.conf."+name+".") || strings.HasPrefix(k, "net.ipv6.conf."+name+".") {
			delete(n.Sysctl, k)
		}
	}
}

func (n *Net) renameSysctls(old, name string) {
	for k, v := range n.Sysctl {
		for _, f := range []string{"net.ipv4.conf.", "net.ipv6.conf."} {
			if strings.HasPrefix(k, f+old+".") {
				delete(n.Sysctl, k)
				n.Sysctl[f+name+"."+strings.TrimPrefix(k, f+old+".")] = v
			}
		}
	}
}

// SysctlKeys are the known keys, sorted.
func (n *Net) SysctlKeys() []string {
	ks := make([]string, 0, len(n.Sysctl))
	for k := range n.Sysctl {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// SetSysctl writes a key as the kernel's proc handlers do: every key
// here is an integer; ip_forward and conf.all.forwarding set the
// forwarding of every interface.
func (n *Net) SetSysctl(key, val string) error {
	if _, ok := n.Sysctl[key]; !ok {
		return ErrNoDevice
	}
	v := strings.TrimSpace(val)
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil || i < -2147483648 || i > 2147483647 {
		return ErrInval
	}
	if (strings.HasSuffix(key, ".ip_default_ttl") || strings.HasSuffix(key, ".hop_limit")) && (i < 1 || i > 255) {
		return ErrInval
	}
	s := strconv.FormatInt(i, 10)
	n.Sysctl[key] = s
	// devinet_sysctl_forward / addrconf_fixup_forwarding: the value goes
	// to every interface and "default"; IPv4 also flips all.accept_redirects.
	setFwd := func(f string) {
		for k := range n.Sysctl {
			if strings.HasPrefix(k, f) && strings.HasSuffix(k, ".forwarding") {
				n.Sysctl[k] = s
			}
		}
		if f == "net.ipv4.conf." {
			n.Sysctl["net.ipv4.ip_forward"] = s
			r := "1"
			if i != 0 {
				r = "0"
			}
			n.Sysctl["net.ipv4.conf.all.accept_redirects"] = r
		}
	}
	switch key {
	case "net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding":
		setFwd("net.ipv4.conf.")
	case "net.ipv6.conf.all.forwarding":
		setFwd("net.ipv6.conf.")
	}
	return nil
}
