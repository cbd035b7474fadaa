package ike

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestConftest compares the model's messages about ipsec.conf files with
// what the real starter --conftest printed (testdata/record-conftest.sh).
// starter walks a hash table, so the messages are compared as sets.
func TestConftest(t *testing.T) {
	files, _ := filepath.Glob("testdata/conf/*.conf")
	if len(files) == 0 {
		t.Fatal("no testdata/conf")
	}
	for _, f := range files {
		conf, _ := os.ReadFile(f)
		real := readLines(t, strings.TrimSuffix(f, ".conf")+".out")
		var want []string
		fatal := false
		for _, l := range real {
			switch {
			case strings.HasPrefix(l, "exit "):
				fatal = l != "exit 0"
			case strings.HasPrefix(l, "###"), l == "config OK", l == "config invalid!", strings.HasPrefix(l, "invalid config file"):
			default:
				if i := strings.Index(l, ".conf:"); i >= 0 {
					l = l[i+len(".conf:"):] // the line number stays
				}
				want = append(want, l)
			}
		}
		d := New(Options{ConfFile: "x.conf"})
		err := d.Load(string(conf), "", "", 0)
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("%s: no error", f)
		}
		var got []string
		for _, m := range le.Diags {
			if m.Fatal && m.Line > 0 && strings.HasPrefix(m.Msg, "syntax error") {
				got = append(got, itoa(m.Line)+": "+m.Msg)
				continue
			}
			got = append(got, m.Msg)
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", f, got, want)
		}
		if le.Fatal() != fatal {
			t.Errorf("%s: fatal %v, starter %v", f, le.Fatal(), fatal)
		}
		for _, m := range le.Diags {
			if m.File != "x.conf" || (m.Line == 0 && !strings.Contains(m.Msg, "not found")) {
				t.Errorf("%s: %+v has no place", f, m)
			}
		}
	}
}

func TestSeedConfig(t *testing.T) {
	d := New(Options{})
	conf := seedConf("debian3", "debian2.example.com", "debian3.example.com", "debian3.example.com",
		"192.168.200.0/24", "192.168.201.0/24", "        keyingtries=%forever\n        leftikeport=4510\n        forceencaps=yes\n        dpdaction=restart\n        fragmentation=no\n")
	if err := d.Load("config setup\n\tcharondebug=\"ike 2\"\n\n"+conf, seedSecrets,
		"charon {\n  install_routes = no\n  port_nat_t = 4501\n  retransmit_tries = 2\n}\n", 0); err != nil {
		t.Fatal(err)
	}
	c := d.conn("debian3")
	if c == nil || c.KeyingTries != 0 || c.Mobike != true || c.Left.IKEPort != 4510 || !c.ForceEncaps ||
		c.DPDAction != "restart" || c.Fragmentation != "no" || c.Reauth || c.Auto != "add" || c.Mode != "tunnel" ||
		c.Left.Auth != "psk" || len(c.IKE) != 1 || c.IKE[0].String() != "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024" ||
		len(c.ESP) != 1 || c.ESP[0].String() != "ESP:AES_CBC_128/HMAC_SHA1_96/NO_EXT_SEQ" ||
		c.Left.Subnets[0].String() != "192.168.200.0/24" {
		t.Fatalf("%+v", c)
	}
	if s := d.settings; s.InstallRoutes || s.PortNATT != 4501 || s.RetransmitTries != 2 || s.Port != 500 {
		t.Errorf("%+v", s)
	}
	if len(d.secrets) != 1 || string(d.secrets[0].secret) != "presharedkey" {
		t.Errorf("%+v", d.secrets)
	}
}

func TestAlsoAndDefault(t *testing.T) {
	d := New(Options{})
	err := d.Load(`conn %default
	keyexchange=ikev2
	mobike=no
conn base
	leftsubnet=10.1.0.0/16
	esp=aes256gcm16!
conn a
	also=base
	left=1.1.1.1
	right=2.2.2.2
	mobike=yes
	auto=add
`, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := d.conn("a")
	if c == nil || c.KeyExchange != "ikev2" || !c.Mobike || c.Left.Subnets[0].String() != "10.1.0.0/16" ||
		c.ESP[0].String() != "ESP:AES_GCM_16_256/NO_EXT_SEQ" {
		t.Fatalf("%+v", c)
	}
	if d.conn("base") != nil {
		t.Error("auto=ignore conns are not loaded")
	}
}

func TestSecretsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"a b PSK x\n":                      "line 1: missing ' : ' separator",
		": PSK\n":                          "line 1: malformed secret: missing secret",
		"\n: PSK \"abc\n":                  "line 2: malformed secret: missing second delimiter",
		": FOO x\n":                        "line 1: token must be either RSA, ECDSA, BLISS, PKCS8 P12, PIN, PSK, EAP, XAUTH or NTLM",
		"1.1.1.1 @moon : PSK 0x41424344\n": "",
	} {
		keys, diags := parseSecrets("s", in)
		got := ""
		if len(diags) > 0 {
			got = diags[0].Msg
		}
		if got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
		if want == "" && (len(keys) != 1 || string(keys[0].secret) != "ABCD" || keys[0].ids[1] != "@moon") {
			t.Errorf("%q: %+v", in, keys)
		}
	}
	keys := []psk{{secret: []byte("any")}, {ids: []string{"moon", "sun"}, secret: []byte("exact")}}
	if k, _ := findPSK(keys, "moon", "sun"); string(k) != "exact" {
		t.Error(string(k))
	}
	if k, _ := findPSK(keys, "venus", "mars"); string(k) != "any" {
		t.Error(string(k))
	}
}

func TestProposals(t *testing.T) {
	for in, want := range map[string]string{
		"aes128-sha1-modp1024":         "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024",
		"aes256gcm16-prfsha384-ecp384": "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384",
		"aes-sha256-curve25519":        "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519",
	} {
		p, ok := parseProposal(protoIKE, in)
		if !ok || p.String() != want {
			t.Errorf("%s: %v %v", in, p, ok)
		}
	}
	for _, bad := range []string{"aes999-sha1-modp1024", "aes128-sha1", "sha1-modp1024"} {
		if _, ok := parseProposal(protoIKE, bad); ok {
			t.Errorf("%s accepted", bad)
		}
	}
	d := New(Options{})
	err := d.Load("conn a\n\tike=aes128-foo!\n\tauto=add\n", "", "", 0)
	if err == nil || !strings.Contains(err.Error(), "/etc/ipsec.conf:2: skipped invalid proposal string: aes128-foo") ||
		!strings.Contains(err.Error(), "# ignored conn 'a' due to 1 parsing error") || d.conn("a") != nil {
		t.Errorf("%v", err)
	}
}
