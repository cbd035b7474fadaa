package ike

// defaultProposals are charon 5.9.8's default proposals with Debian 12's
// plugins (proposal_create_default and _default_aead), as recorded.
func defaultProposals(proto uint8) []*Proposal {
	// TODO: recorded values
	if proto == protoIKE {
		p, _ := parseProposal(protoIKE, "aes128-aes192-aes256-sha256-sha384-sha512-prfsha256-prfsha384-prfsha512-ecp256-ecp384-ecp521-curve25519-curve448-modp3072-modp4096-modp6144-modp8192-modp2048")
		return []*Proposal{p}
	}
	p, _ := parseProposal(protoESP, "aes128gcm16-aes192gcm16-aes256gcm16")
	q, _ := parseProposal(protoESP, "aes128-aes192-aes256-sha256-sha384-sha512")
	return []*Proposal{p, q}
}
