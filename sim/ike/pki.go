package ike

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Public key authentication with X.509 certificates, as charon does it
// with the x509, pem, pkcs1 and openssl plugins: the CA certificates of
// /etc/ipsec.d/cacerts, a conn's leftcert=, the RSA keys ipsec.secrets
// names (": RSA moonKey.pem", from /etc/ipsec.d/private), CERTREQ and
// CERT payloads, and RFC 7427 signature authentication with
// RSA_EMSA_PKCS1_SHA2_256 (the signatures are real: PKCS#1 v1.5 is
// deterministic). The log lines are those of a recorded charon 5.9.8
// (testdata/real/cert*).

// cert is a loaded X.509 certificate.
type cert struct {
	x    *x509.Certificate
	file string // as loaded, for messages
}

// subject is the certificate's subject as charon prints it.
func (c *cert) subject() string { return dnText(c.x.RawSubject) }

// keyID is the SHA-1 of the subjectPublicKeyInfo (CERTREQ's CA
// identifier, KEYID_PUBKEY_INFO_SHA1).
func (c *cert) keyID() [20]byte { return sha1.Sum(c.x.RawSubjectPublicKeyInfo) }

// privKey is a private key of ipsec.secrets.
type privKey struct {
	k    *rsa.PrivateKey
	file string
}

// Files in /etc/ipsec.d that a conn or ipsec.secrets names are relative
// to their directory (certs/, private/), or absolute.
const ipsecDir = "/etc/ipsec.d/"

func filePath(dir, name string) string {
	if strings.HasPrefix(name, ipsecDir) {
		return strings.TrimPrefix(name, ipsecDir)
	}
	if strings.HasPrefix(name, "/") {
		return name
	}
	return dir + "/" + name
}

// parseCert reads a PEM or DER certificate.
func parseCert(data []byte) (*x509.Certificate, error) {
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a certificate", b.Type)
		}
		data = b.Bytes
	}
	return x509.ParseCertificate(data)
}

// parseKey reads a PEM or DER RSA private key (PKCS#1 or PKCS#8).
func parseKey(data []byte) (*rsa.PrivateKey, error) {
	if b, _ := pem.Decode(data); b != nil {
		if x509.IsEncryptedPEMBlock(b) { //nolint:staticcheck // as charon's pem plugin sees it
			return nil, errors.New("encrypted keys are not supported")
		}
		data = b.Bytes
	}
	if k, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(data)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key (only RSA keys are modelled)")
	}
	return rk, nil
}

// loadCACerts reads /etc/ipsec.d/cacerts (stroke_cred.c load_certdir),
// in directory order.
func loadCACerts(files map[string][]byte) ([]*cert, []Diag) {
	var names []string
	for n := range files {
		if strings.HasPrefix(n, "cacerts/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*cert
	var diags []Diag
	for _, n := range names {
		x, err := parseCert(files[n])
		if err != nil {
			diags = append(diags, Diag{File: ipsecDir + n, Msg: "loading ca certificate from '" + ipsecDir + n + "' failed: " + err.Error()})
			continue
		}
		out = append(out, &cert{x: x, file: ipsecDir + n})
	}
	return out, diags
}

// dnText renders a DER distinguished name as charon's %Y does: the
// attributes in order, "C=JP, O=iptwin, CN=moon.example.com".
func dnText(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) > 0 {
		return "(invalid DN)"
	}
	var parts []string
	for _, set := range rdns {
		for _, atv := range set {
			parts = append(parts, oidName(atv.Type)+"="+fmt.Sprint(atv.Value))
		}
	}
	return strings.Join(parts, ", ")
}

// oidName is the short name of an attribute type (asn1 oid table of
// libstrongswan).
func oidName(o asn1.ObjectIdentifier) string {
	names := map[string]string{
		"2.5.4.3": "CN", "2.5.4.4": "S", "2.5.4.5": "SN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
		"2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "T", "2.5.4.42": "G", "2.5.4.43": "I",
		"1.2.840.113549.1.9.1": "E", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
	}
	if n, ok := names[o.String()]; ok {
		return n
	}
	return o.String()
}

// sameDN compares two DNs as charon does (attribute types and values in
// order, case-insensitively), whatever string types encode them.
func sameDN(a, b []byte) bool { return strings.EqualFold(dnText(a), dnText(b)) }

// idMatchesCert: the certificate confirms the identity (its subject or a
// subjectAltName), x509_cert.c has_subject.
func idMatchesCert(id identity, c *x509.Certificate) bool {
	switch id.typ {
	case idDN:
		return sameDN(id.data, c.RawSubject)
	case idFQDN:
		for _, n := range c.DNSNames {
			if strings.EqualFold(n, string(id.data)) {
				return true
			}
		}
	case idEmail:
		for _, n := range c.EmailAddresses {
			if strings.EqualFold(n, string(id.data)) {
				return true
			}
		}
	case idIPv4, idIPv6:
		for _, ip := range c.IPAddresses {
			if string(ip.To16()) == string(ipTo16(id.data)) {
				return true
			}
		}
	}
	return false
}

func ipTo16(b []byte) []byte {
	if len(b) == 4 {
		return append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, b...)
	}
	return b
}

// certIdentity is the identity of a certificate's subject.
func certIdentity(c *cert) identity {
	return identity{typ: idDN, data: c.x.RawSubject, text: c.subject()}
}

// ---- CERTREQ and CERT payloads (RFC 7296 3.6, 3.7) ----

const certX509Sig = 4 // certificate encoding: X.509 Certificate - Signature

// certReqPayload names every trusted CA by its key identifier
// (ike_cert_pre.c build_certreqs without rightca=).
func (d *Daemon) certReqPayload() (payload, bool) {
	if len(d.cas) == 0 {
		return payload{}, false
	}
	b := []byte{certX509Sig}
	for _, ca := range d.cas {
		k := ca.keyID()
		b = append(b, k[:]...)
	}
	return payload{typ: plCertReq, body: b}, true
}

// logCertReqs logs "sending cert request" for each CA.
func (sa *ikeSA) logCertReqs() {
	for _, ca := range sa.d.cas {
		sa.log("IKE", "sending cert request for \"%s\"", ca.subject())
	}
}

// processCertReqs logs the CAs the peer asks for (ike_cert_pre.c
// process_certreq) and notes that it asked (leftsendcert=ifasked).
func (sa *ikeSA) processCertReqs(m *message) {
	for _, p := range m.payloads {
		if p.typ != plCertReq || len(p.body) < 1 || p.body[0] != certX509Sig {
			continue
		}
		sa.peerCertReq = true
		for b := p.body[1:]; len(b) >= 20; b = b[20:] {
			var k [20]byte
			copy(k[:], b)
			if ca := sa.d.caByKeyID(k); ca != nil {
				sa.log("IKE", "received cert request for \"%s\"", ca.subject())
			} else {
				sa.log("IKE", "received cert request for unknown ca with keyid %x", k[:])
			}
		}
	}
}

func (d *Daemon) caByKeyID(k [20]byte) *cert {
	for _, ca := range d.cas {
		if ca.keyID() == k {
			return ca
		}
	}
	return nil
}

// certPayload is our end entity certificate.
func certPayload(c *cert) payload {
	return payload{typ: plCert, body: append([]byte{certX509Sig}, c.x.Raw...)}
}

// peerCert reads the end entity certificate of a CERT payload.
func (sa *ikeSA) peerCertFrom(m *message) *cert {
	for _, p := range m.payloads {
		if p.typ != plCert || len(p.body) < 1 || p.body[0] != certX509Sig {
			continue
		}
		x, err := x509.ParseCertificate(p.body[1:])
		if err != nil {
			sa.log("IKE", "parsing certificate failed")
			continue
		}
		c := &cert{x: x}
		sa.log("IKE", "received end entity cert \"%s\"", c.subject())
		return c
	}
	return nil
}

// ---- AUTH with signatures (RFC 7427) ----

// authDigitalSignature is auth method 14; its data starts with the
// length and DER of the signature's AlgorithmIdentifier.
const authDigitalSignature = 14

// sha256WithRSAEncryption is the AlgorithmIdentifier of
// RSA_EMSA_PKCS1_SHA2_256 (with its NULL parameters).
var sha256WithRSA = []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}

// signedOctets is what an AUTH payload signs (RFC 7296 2.15): our
// IKE_SA_INIT message, the peer's nonce, prf(SK_px, our ID payload).
func (sa *ikeSA) signedOctets(initiator bool, msg, idBody []byte) []byte {
	if len(msg) >= 4 && msg[0] == 0 && msg[1] == 0 && msg[2] == 0 && msg[3] == 0 {
		msg = msg[4:]
	}
	nonce, skp := sa.nr, sa.keys.pi
	if !initiator {
		nonce, skp = sa.ni, sa.keys.pr
	}
	out := append(append([]byte(nil), msg...), nonce...)
	return append(out, prf(sa.prfID(), skp, idBody)...)
}

// signAuth is our AUTH payload signed with key.
func (sa *ikeSA) signAuth(key *rsa.PrivateKey, initiator bool, msg, idBody []byte) (payload, error) {
	h := sha256.Sum256(sa.signedOctets(initiator, msg, idBody))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		return payload{}, err
	}
	b := []byte{authDigitalSignature, 0, 0, 0, byte(len(sha256WithRSA))}
	b = append(append(b, sha256WithRSA...), sig...)
	return payload{typ: plAuth, body: b}, nil
}

// verifyAuth checks the peer's signature with its certificate's key.
func (sa *ikeSA) verifyAuth(c *cert, auth []byte, initiator bool, msg, idBody []byte) bool {
	pub, ok := c.x.PublicKey.(*rsa.PublicKey)
	if !ok || len(auth) < 5 || auth[0] != authDigitalSignature {
		return false
	}
	n := int(auth[4])
	if len(auth) < 5+n || string(auth[5:5+n]) != string(sha256WithRSA) {
		return false
	}
	h := sha256.Sum256(sa.signedOctets(initiator, msg, idBody))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], auth[5+n:]) == nil
}

type rsaKey = rsa.PrivateKey

// keyFor finds the private key of a certificate.
func (d *Daemon) keyFor(c *cert) *rsa.PrivateKey {
	pub, ok := c.x.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil
	}
	for _, k := range d.keys {
		if k.k.PublicKey.Equal(pub) {
			return k.k
		}
	}
	return nil
}

// trust verifies the peer's certificate as charon's credential manager
// does, logging its steps: issued by a loaded CA, valid now, then the
// (unavailable) revocation status.
func (sa *ikeSA) trust(c *cert) bool {
	d := sa.d
	now := d.opt.Epoch.Add(time.Duration(d.now))
	sa.log("CFG", "  using certificate \"%s\"", c.subject())
	if now.Before(c.x.NotBefore) || now.After(c.x.NotAfter) {
		sa.log("CFG", "certificate \"%s\" is not valid (valid from %s to %s)", c.subject(),
			c.x.NotBefore.Format("Jan 02 15:04:05 2006"), c.x.NotAfter.Format("Jan 02 15:04:05 2006"))
		return false
	}
	var issuer *cert
	for _, ca := range d.cas {
		if sameDN(ca.x.RawSubject, c.x.RawIssuer) && c.x.CheckSignatureFrom(ca.x) == nil {
			issuer = ca
			break
		}
	}
	if issuer == nil {
		sa.log("CFG", "no issuer certificate found for \"%s\"", c.subject())
		sa.log("CFG", "  issuer is \"%s\"", dnText(c.x.RawIssuer))
		return false
	}
	sa.log("CFG", "  using trusted ca certificate \"%s\"", issuer.subject())
	sa.log("CFG", "  reached self-signed root ca with a path length of 0")
	sa.log("CFG", "checking certificate status of \"%s\"", c.subject())
	sa.log("CFG", "certificate status is not available")
	return true
}
