//go:build ignore

// mkcerts makes the test PKI of package ike (go run mkcerts.go in this
// directory): a self-signed RSA 2048 root CA and two end entity
// certificates (debian2, debian3) with their keys, valid 2000-2099, as
// "ipsec pki" or openssl would make them. The recorded charon runs
// (../record.sh cert, cert6, cert6-nofrag) and the simulator's seed 001
// use them.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"time"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func write(name, typ string, der []byte) {
	must(os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644))
}

// org is the certificates' O attribute: with it seed 001's IKE_AUTH is
// 1596 bytes, as in the seed (the recorded cert6-nofrag run).
const org = "iptwin twin network"

func main() {
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	caName := pkix.Name{Country: []string{"JP"}, Organization: []string{org}, CommonName: "iptwin Root CA"}
	spki, _ := x509.MarshalPKIXPublicKey(&caKey.PublicKey)
	ski := sha1.Sum(spki)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: caName, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId: ski[:]}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	must(err)
	write("caCert.pem", "CERTIFICATE", caDER)
	caCert, _ := x509.ParseCertificate(caDER)
	for i, host := range []string{"debian2", "debian3"} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		fqdn := host + ".example.com"
		c := &x509.Certificate{SerialNumber: big.NewInt(int64(2 + i)), NotBefore: from, NotAfter: to,
			Subject:  pkix.Name{Country: []string{"JP"}, Organization: []string{org}, CommonName: fqdn},
			DNSNames: []string{fqdn}, KeyUsage: x509.KeyUsageDigitalSignature,
			AuthorityKeyId: ski[:]}
		der, err := x509.CreateCertificate(rand.Reader, c, caCert, &k.PublicKey, caKey)
		must(err)
		write(host+"Cert.pem", "CERTIFICATE", der)
		write(host+"Key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	}
}
