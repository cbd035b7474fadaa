package ike

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The test PKI (testdata/certs, made by mkcerts.go) as /etc/ipsec.d of a
// host.
func ipsecD(t *testing.T, host string) map[string][]byte {
	t.Helper()
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "certs", f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return map[string][]byte{
		"cacerts/caCert.pem":          read("caCert.pem"),
		"certs/" + host + "Cert.pem":  read(host + "Cert.pem"),
		"private/" + host + "Key.pem": read(host + "Key.pem"),
	}
}

// certConf is record.sh's certconf: public key authentication with the
// test certificates.
func certConf(name, mine, peer, right, lsub, rsub, extra string) string {
	s := "conn " + name + "\n\tleft=%defaultroute\n\tleftcert=" + mine + "Cert.pem\n\tright=" + right +
		"\n\trightid=\"C=JP, O=iptwin twin network, CN=" + peer + ".example.com\"\n"
	if lsub != "" {
		s += "\tleftsubnet=" + lsub + "\n\trightsubnet=" + rsub + "\n"
	}
	return s + "\tkeyexchange=ikev2\n\tike=aes128-sha1-modp1024!\n\tesp=aes128-sha1!\n\tauto=add\n" + extra
}

// certPair is record.sh's cert (IPv4, the seed's routers) or cert6
// (seed 001's IPv6 addresses on one link) scenario; the responder's
// kernel refuses SAs as the recording kernel did.
func certPair(t *testing.T, v6 bool, extra string) (*testNet, *testHost, *testHost) {
	n := &testNet{natMap: map[netip.AddrPort]netip.AddrPort{}}
	var a, b *testHost
	if v6 {
		dev := map[netip.Prefix]string{netip.MustParsePrefix("2001:db8::/32"): "eth0"}
		a = newHostFiles(t, n, "a", mustAddrs("2001:db8::be6b:d879"), dev, "", 1, ipsecD(t, "debian2"))
		b = newHostFiles(t, n, "b", mustAddrs("2001:db8:f:608::2"), dev, "", 2, ipsecD(t, "debian3"))
		load(t, a, certConf("debian3", "debian2", "debian3", "2001:db8:f:608::2", "", "", extra), ": RSA debian2Key.pem\n")
		load(t, b, certConf("debian2", "debian3", "debian2", "2001:db8::be6b:d879", "", "", extra), ": RSA debian3Key.pem\n")
	} else {
		a = newHostFiles(t, n, "debian2", mustAddrs("10.0.0.200", "192.168.200.1"), map[netip.Prefix]string{
			netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.200.0/24"): "eth1"}, "10.0.0.1", 1, ipsecD(t, "debian2"))
		b = newHostFiles(t, n, "debian3", mustAddrs("10.0.0.201", "192.168.201.1"), map[netip.Prefix]string{
			netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.201.0/24"): "eth1"}, "10.0.0.1", 2, ipsecD(t, "debian3"))
		load(t, a, certConf("debian3", "debian2", "debian3", "10.0.0.201", "192.168.200.0/24", "192.168.201.0/24", extra), ": RSA debian2Key.pem\n")
		load(t, b, certConf("debian2", "debian3", "debian2", "10.0.0.200", "192.168.201.0/24", "192.168.200.0/24", extra), ": RSA debian3Key.pem\n")
	}
	b.noESP = true
	return n, a, b
}

func load(t *testing.T, h *testHost, conf, secrets string) {
	t.Helper()
	if err := h.d.Load(conf, secrets, "", 0); err != nil {
		t.Fatal(err)
	}
}

// TestCert: certificates over IPv4; the IKE_AUTH messages (1548 and 1324
// bytes) leave in two fragments each, as recorded.
func TestCert(t *testing.T) {
	n, a, b := certPair(t, false, "")
	lines, done, ok := up(n, a, "debian3", time.Minute)
	if !done || ok {
		t.Fatalf("want the recorded failure (no CHILD_SA on the responder):\n%s", strings.Join(lines, "\n"))
	}
	check(t, "cert", lines)
	// statusall's connection and IKE_SA lines as recorded
	real := readLines(t, filepath.Join("testdata", "real", "cert", "statusall-a.txt"))
	got := strings.Join(a.d.StatusAll(n.now), "\n")
	for _, l := range real {
		if strings.Contains(l, "debian3:") || strings.Contains(l, "IKE proposal") {
			if !strings.Contains(got, l) {
				t.Errorf("statusall lacks %q:\n%s", l, got)
			}
		}
	}
	if !strings.Contains(got, ", public key reauthentication in 2 hours") {
		t.Errorf("statusall:\n%s", got)
	}
	log := strings.Join(daemonLog(b), "\n")
	for _, want := range []string{
		"sending cert request for \"C=JP, O=iptwin twin network, CN=iptwin Root CA\"",
		"received fragment #2 of 2, reassembled fragmented IKE message (1548 bytes)",
		"received end entity cert \"C=JP, O=iptwin twin network, CN=debian2.example.com\"",
		"looking for peer configs matching 10.0.0.201[C=JP, O=iptwin twin network, CN=debian3.example.com]...10.0.0.200[C=JP, O=iptwin twin network, CN=debian2.example.com]",
		"authentication of 'C=JP, O=iptwin twin network, CN=debian2.example.com' with RSA_EMSA_PKCS1_SHA2_256 successful",
		"splitting IKE message (1324 bytes) into 2 fragments",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("responder log lacks %q:\n%s", want, log)
		}
	}
}

// TestCert6: the same over IPv6 (seed 001's addresses): 1596 bytes in
// fragments of 1216 and 448.
func TestCert6(t *testing.T) {
	n, a, _ := certPair(t, true, "")
	lines, _, _ := up(n, a, "debian3", time.Minute)
	check(t, "cert6", lines)
}

// TestCert6NoFrag: with fragmentation=no the 1596-byte IKE_AUTH is one
// datagram (1608 bytes of UDP), which IPv6 fragments at 1232: seed 001's
// figure.
func TestCert6NoFrag(t *testing.T) {
	n, a, _ := certPair(t, true, "\tfragmentation=no\n")
	lines, _, _ := up(n, a, "debian3", time.Minute)
	check(t, "cert6-nofrag", lines)
	found := false
	for _, s := range n.sent {
		if strings.HasSuffix(s, " 1600") && strings.Contains(s, "[4500] > ") {
			found = true // 1596 bytes and the non-ESP marker
		}
	}
	if !found {
		t.Errorf("no 1600-byte datagram on 4500: %q", n.sent)
	}
}

// TestNoID: PSK without leftid/rightid: the initiator falls back on its
// address and sends the peer's address as IDr.
func TestNoID(t *testing.T) {
	n := &testNet{natMap: map[netip.AddrPort]netip.AddrPort{}}
	a := newHost(t, n, "a", mustAddrs("10.0.0.200", "192.168.200.1"), map[netip.Prefix]string{
		netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.200.0/24"): "eth1"}, "10.0.0.1", 1)
	b := newHost(t, n, "b", mustAddrs("10.0.0.201", "192.168.201.1"), map[netip.Prefix]string{
		netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.201.0/24"): "eth1"}, "10.0.0.1", 2)
	conf := "conn peer\n\tleft=%defaultroute\n\tright=%s\n\tauthby=secret\n\tike=aes128-sha1-modp1024!\n\tesp=aes128-sha1!\n\tauto=add\n"
	load(t, a, strings.Replace(conf, "%s", "10.0.0.201", 1), seedSecrets)
	load(t, b, strings.Replace(conf, "%s", "10.0.0.200", 1), seedSecrets)
	b.noESP = true
	lines, _, _ := up(n, a, "peer", time.Minute)
	check(t, "noid", lines)
}

// TestCertUntrusted: without the CA the responder asks for no
// certificate, so the initiator sends none (leftsendcert=ifasked) and
// the responder has no trusted key; with leftsendcert=always it gets the
// certificate but no issuer for it. AUTHENTICATION_FAILED both times.
func TestCertUntrusted(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  []string
	}{
		{"", []string{"no trusted RSA public key found for 'C=JP, O=iptwin twin network, CN=debian2.example.com'"}},
		{"\tleftsendcert=always\n", []string{
			"received end entity cert \"C=JP, O=iptwin twin network, CN=debian2.example.com\"",
			"no issuer certificate found for \"C=JP, O=iptwin twin network, CN=debian2.example.com\"",
			"  issuer is \"C=JP, O=iptwin twin network, CN=iptwin Root CA\"",
			"no trusted RSA public key found for 'C=JP, O=iptwin twin network, CN=debian2.example.com'",
		}},
	} {
		n, a, b := certPair(t, false, c.extra)
		b.d.cas = nil
		lines, done, ok := up(n, a, "debian3", time.Minute)
		if !done || ok {
			t.Fatal("should have failed")
		}
		out := strings.Join(lines, "\n")
		if !strings.Contains(out, "received AUTHENTICATION_FAILED notify error") {
			t.Errorf("initiator:\n%s", out)
		}
		if sent := strings.Contains(out, "sending end entity cert"); sent != (c.extra != "") {
			t.Errorf("%q: certificate sent: %v", c.extra, sent)
		}
		log := strings.Join(daemonLog(b), "\n")
		for _, want := range c.want {
			if !strings.Contains(log, want) {
				t.Errorf("%q: responder log lacks %q:\n%s", c.extra, want, log)
			}
		}
	}
}

// TestCertLoadErrors: a missing certificate or key is reported with the
// file that names it.
func TestCertLoadErrors(t *testing.T) {
	d := New(Options{Files: map[string][]byte{"cacerts/x.pem": []byte("junk")}})
	err := d.Load(certConf("c", "nobody", "peer", "10.0.0.1", "", "", ""), ": RSA missing.pem\n", "", 0)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"/etc/ipsec.secrets:1:   loading private key from '/etc/ipsec.d/private/missing.pem' failed",
		"/etc/ipsec.d/cacerts/x.pem: loading ca certificate from '/etc/ipsec.d/cacerts/x.pem' failed",
		"/etc/ipsec.conf:1:   loading certificate from 'nobodyCert.pem' failed",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
