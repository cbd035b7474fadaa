package xtables

import "github.com/iptwin/iptwin/packet"

// The packet semantics of extensions: what the kernel's match and target
// functions (xt_match.match, xt_target.target) do with a packet. The rule
// model is what iptables parses and prints; these interfaces are the hook
// through which the packet path (issue 3) evaluates the same rules. An
// extension implements them next to its Parse/Print/Save, in its own file;
// one whose data is rebuilt from native nf_tables expressions (tcp and udp
// on the payload path, see NFTNative) must follow nft's semantics there,
// not xt's (no hot drop of a tiny fragment, for one).

// PacketState is what a match or target sees of the packet being
// evaluated (struct xt_action_param and the sk_buff fields extensions
// read). The packet path owns it and reuses it from packet to packet, so
// extensions must not keep a pointer to it.
type PacketState struct {
	Family Family
	Hook   int // Hook* constant of the hook being run
	Table  string
	// Pkt is the packet as it is at this point of the path (rewritten by
	// NAT and mangle targets before it).
	Pkt *packet.Packet
	// In and Out are the interface names ("" when there is none at this
	// hook, as the kernel's in/out devices).
	In, Out string
	// Mark is the packet mark (skb->mark), which MARK may change.
	Mark uint32
	// FragOff is the fragment offset in 8-byte units (par->fragoff):
	// matches on transport headers do not match a later fragment.
	FragOff int
	// HotDrop is set by a match that finds the packet malformed
	// (par->hotdrop): the packet is dropped at once.
	HotDrop bool
}

// PacketMatcher is implemented by the data of a match that can evaluate
// packets.
type PacketMatcher interface {
	MatchPacket(st *PacketState) bool
}

// Verdict codes a target returns (NF_DROP, NF_ACCEPT, XT_CONTINUE,
// XT_RETURN, NF_QUEUE, NF_STOLEN).
type VerdictCode uint8

const (
	VerdictCodeDrop VerdictCode = iota
	VerdictCodeAccept
	VerdictCodeStolen
	VerdictCodeQueue
	VerdictCodeContinue
	VerdictCodeReturn
)

// PacketTargeter is implemented by the data of a target that can act on
// packets; it may change st.Pkt and st.Mark and returns the verdict.
type PacketTargeter interface {
	TargetPacket(st *PacketState) VerdictCode
}
