package ike

// defaultIKE and defaultIKEAEAD are charon 5.9.8's default IKE
// proposals with Debian 12's plugins (proposal_create_default and
// proposal_create_default_aead: the plugins' algorithms in the order
// they register), as recorded from the real daemon's IKE_SA_INIT
// (testdata/real/defaults-libipsec/link.pcap).
var defaultIKE = [][3]uint16{
	{1, 12, 128}, {1, 12, 192}, {1, 12, 256}, {1, 13, 128}, {1, 13, 192}, {1, 13, 256},
	{1, 23, 128}, {1, 23, 192}, {1, 23, 256}, {1, 24, 128}, {1, 24, 192}, {1, 24, 256}, {1, 3, 0},
	{3, 12, 0}, {3, 13, 0}, {3, 14, 0}, {3, 5, 0}, {3, 8, 0}, {3, 2, 0},
	{2, 5, 0}, {2, 6, 0}, {2, 7, 0}, {2, 4, 0}, {2, 8, 0}, {2, 2, 0},
	{4, 31, 0}, {4, 32, 0}, {4, 19, 0}, {4, 20, 0}, {4, 21, 0}, {4, 28, 0}, {4, 29, 0}, {4, 30, 0},
	{4, 15, 0}, {4, 16, 0}, {4, 17, 0}, {4, 18, 0}, {4, 14, 0},
}

var defaultIKEAEAD = [][3]uint16{
	{1, 16, 128}, {1, 16, 192}, {1, 16, 256}, {1, 20, 128}, {1, 20, 192}, {1, 20, 256}, {1, 28, 0},
	{1, 14, 128}, {1, 14, 192}, {1, 14, 256}, {1, 15, 128}, {1, 15, 192}, {1, 15, 256},
	{1, 18, 128}, {1, 18, 192}, {1, 18, 256}, {1, 19, 128}, {1, 19, 192}, {1, 19, 256},
	{2, 5, 0}, {2, 6, 0}, {2, 7, 0}, {2, 4, 0}, {2, 8, 0}, {2, 2, 0},
	{4, 31, 0}, {4, 32, 0}, {4, 19, 0}, {4, 20, 0}, {4, 21, 0}, {4, 28, 0}, {4, 29, 0}, {4, 30, 0},
	{4, 15, 0}, {4, 16, 0}, {4, 17, 0}, {4, 18, 0}, {4, 14, 0},
}

// defaultESP and defaultESPAEAD are proposal.c's fixed ESP defaults
// (AES-CBC with SHA-2, SHA-1 and AES-XCBC, and AES-GCM-16), as the
// responder logs them at "cfg 2" (testdata/real/nobang-libipsec).
var defaultESP = [][3]uint16{
	{1, 12, 128}, {1, 12, 192}, {1, 12, 256},
	{3, 12, 0}, {3, 13, 0}, {3, 14, 0}, {3, 2, 0}, {3, 5, 0}, {5, 0, 0},
}

var defaultESPAEAD = [][3]uint16{{1, 20, 128}, {1, 20, 192}, {1, 20, 256}, {5, 0, 0}}

func proposalOf(proto uint8, ts [][3]uint16) *Proposal {
	p := &Proposal{Proto: proto}
	for _, t := range ts {
		p.Transforms = append(p.Transforms, Transform{Type: uint8(t[0]), ID: t[1], KeyLen: t[2]})
	}
	return p
}

// defaultProposals are the proposals a conn without ike=/esp= (or
// without "!") offers: the default one, then the AEAD one
// (stroke_config.c add_proposals).
func defaultProposals(proto uint8) []*Proposal {
	if proto == protoIKE {
		return []*Proposal{proposalOf(protoIKE, defaultIKE), proposalOf(protoIKE, defaultIKEAEAD)}
	}
	return []*Proposal{proposalOf(protoESP, defaultESP), proposalOf(protoESP, defaultESPAEAD)}
}

// promoteDH moves the key exchange method used in the KE payload to the
// front of the DH transforms of every proposal that has it, and the
// proposals without it to the back (ike_init.c build_payloads).
func promoteDH(ps []*Proposal, group uint16) []*Proposal {
	var with, without []*Proposal
	for _, p := range ps {
		has := false
		for _, t := range p.Transforms {
			has = has || (t.Type == tfDH && t.ID == group)
		}
		if !has {
			without = append(without, p)
			continue
		}
		q := &Proposal{Proto: p.Proto}
		inserted := false
		for _, t := range p.Transforms {
			if t.Type == tfDH {
				if !inserted {
					q.Transforms = append(q.Transforms, Transform{Type: tfDH, ID: group})
					inserted = true
				}
				if t.ID == group {
					continue
				}
			}
			q.Transforms = append(q.Transforms, t)
		}
		with = append(with, q)
	}
	return append(with, without...)
}
