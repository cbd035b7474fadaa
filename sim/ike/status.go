package ike

import (
	"fmt"
	"strings"
	"time"
)

// timeDelta is charon's %V (time_delta_printf_hook): seconds up to two
// minutes, then minutes, hours and days.
func timeDelta(secs int64) string {
	if secs < 0 {
		secs = 0
	}
	unit := "second"
	switch {
	case secs > 2*60*60*24:
		secs, unit = secs/(60*60*24), "day"
	case secs > 2*60*60:
		secs, unit = secs/(60*60), "hour"
	case secs > 2*60:
		secs, unit = secs/60, "minute"
	}
	s := ""
	if secs != 1 {
		s = "s"
	}
	return fmt.Sprintf("%d %s%s", secs, unit, s)
}

// Status is "ipsec status" at time now (stroke_list.c status).
func (d *Daemon) Status(now int64) []string {
	return d.StatusOf("", false, now)
}

// StatusAll is "ipsec statusall".
func (d *Daemon) StatusAll(now int64) []string {
	return d.StatusOf("", true, now)
}

// StatusOf is "ipsec status NAME" (all: statusall): only the
// connections, IKE_SAs and CHILD_SAs of that name, "no match" when
// there is none; "" for all of them.
func (d *Daemon) StatusOf(name string, all bool, now int64) []string {
	var out []string
	p := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if all {
		up := (now - d.started) / int64(time.Second)
		p("Status of IKE charon daemon (strongSwan 5.9.8, Linux %s, x86_64):", d.opt.Kernel)
		// time_printf_hook: "%s %02d %02d:%02d:%02d %04d" in local time
		since := d.opt.Epoch.Add(time.Duration(d.started)).Format("Jan 02 15:04:05 2006")
		p("  uptime: %s, since %s", timeDelta(up), since)
		p("  malloc: sbrk 2715648, mmap 0, used 884336, free 1831312")
		p("  worker threads: 11 of 16 idle, 5/0/0/0 working, job queue: 0/0/0/0, scheduled: %d", 2*len(d.sas))
		p("  loaded plugins: charon aesni aes rc2 sha2 sha1 md5 mgf1 random nonce x509 revocation constraints pubkey pkcs1 pkcs7 pkcs12 pgp dnskey sshkey pem openssl pkcs8 fips-prf gmp agent xcbc hmac kdf gcm drbg attr kernel-netlink resolve socket-default connmark stroke updown eap-mschapv2 xauth-generic counters")
		p("Listening IP addresses:")
		for _, a := range d.addrs() {
			p("  %s", a)
		}
		p("Connections:")
		for _, c := range d.conns {
			if name != "" && c.Name != name {
				continue
			}
			local, remote := d.ends(c)
			ver := "IKEv1/2"
			if c.KeyExchange == "ikev2" {
				ver = "IKEv2"
			} else if c.KeyExchange == "ikev1" {
				ver = "IKEv1"
			}
			p("%12s:  %s...%s  %s", c.Name, hostText(local.Host), hostText(remote.Host), ver)
			p("%12s:   local:  [%s] uses %s authentication", c.Name, idText(local, d), authText(local.Auth))
			if local.Cert != nil {
				p("%12s:    cert:  \"%s\"", c.Name, local.Cert.subject())
			}
			p("%12s:   remote: [%s] uses %s authentication", c.Name, idText(remote, d), authText(remote.Auth))
			if remote.Cert != nil {
				p("%12s:    cert:  \"%s\"", c.Name, remote.Cert.subject())
			}
			mode := strings.ToUpper(c.Mode)
			p("%12s:   child:  %s === %s %s", c.Name, subnetsText(local), subnetsText(remote), mode)
		}
	}
	up, connecting := 0, 0
	for _, sa := range d.sas {
		if sa.state == stEstablished {
			up++
		} else {
			connecting++
		}
	}
	p("Security Associations (%d up, %d connecting):", up, connecting)
	found := false
	for _, sa := range d.sas {
		// an IKE_SA is shown for its name or for a CHILD_SA's
		if name != "" && sa.conn.Name != name && (sa.child == nil || sa.child.name != name) {
			continue
		}
		found = true
		name := fmt.Sprintf("%12s[%d]", sa.conn.Name, sa.uid)
		if sa.state != stEstablished {
			p("%s: CONNECTING, %s[%%any]...%s[%%any]", name, sa.me.Addr(), sa.other.Addr())
			continue
		}
		ago := (now - sa.established) / int64(time.Second)
		p("%s: ESTABLISHED %s ago, %s[%s]...%s[%s]", name, timeDelta(ago), sa.me.Addr(), sa.myID.text, sa.other.Addr(), sa.otherID.text)
		if all {
			mi, mr := "*", ""
			if !sa.initiator {
				mi, mr = "", "*"
			}
			what := "rekeying"
			if sa.reauth {
				// stroke_list.c: the local end's auth class
				local, _ := d.ends(sa.conn)
				what = authText(local.Auth) + " reauthentication"
			}
			p("%s: IKEv2 SPIs: %016x_i%s %016x_r%s, %s in %s", name, sa.spiI, mi, sa.spiR, mr, what, timeDelta(sa.rekeyIn-ago))
			p("%s: IKE proposal: %s", name, sa.proposal.algs(true))
		}
		if ch := sa.child; ch != nil {
			cname := fmt.Sprintf("%12s{%d}", ch.name, ch.uid)
			esp := "ESP"
			if ch.encap {
				esp = "ESP in UDP"
			}
			p("%s:  INSTALLED, %s, reqid %d, %s SPIs: %.8x_i %.8x_o", cname, strings.ToUpper(ch.mode), ch.reqid, esp, ch.spiIn, ch.spiOut)
			if all {
				// log_child_sa: get_usestats inbound, then outbound
				inUse := sa.usestats(ch, true, now)
				outUse := sa.usestats(ch, false, now)
				// the rekey time in charon's monotonic seconds; "active"
				// once passed (rekeying itself is not modelled)
				rekey := "in " + timeDelta(monoSecs(ch.rekeyAt)-monoSecs(now))
				if monoSecs(now) > monoSecs(ch.rekeyAt) {
					rekey = "active"
				}
				p("%s:  %s, %s, %s, rekeying %s", cname, ch.proposal.algs(false), useText(inUse, "i", now), useText(outUse, "o", now), rekey)
			}
			p("%s:   %s === %s", cname, tsString(ch.localTS), tsString(ch.remoteTS))
		}
	}
	if !found && name != "" {
		p("  no match")
	} else if !found {
		p("  none")
	}
	return out
}

func hostText(h string) string {
	switch h {
	case "", "%defaultroute", "%any4", "%any6":
		return "%any"
	}
	return h
}

func idText(e *End, d *Daemon) string {
	if id, ok := configID(e); ok {
		return id.text
	}
	if e.ID != "" {
		return parseIdentity(e.ID).text
	}
	if a, ok := d.resolveHost(e.Host); ok && a.IsValid() {
		return a.String()
	}
	return "%any"
}

func authText(a string) string {
	if a == "psk" {
		return "pre-shared key"
	}
	return "public key"
}

func subnetsText(e *End) string {
	if len(e.Subnets) == 0 {
		return "dynamic"
	}
	var s []string
	for _, p := range e.Subnets {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}
