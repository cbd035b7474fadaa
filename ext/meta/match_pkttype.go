package meta

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// pkttype match (libxt_pkttype.c, xt_pkttype.h).

// Packet types of linux/if_packet.h.
const (
	packetHost      = 0
	packetBroadcast = 1
	packetMulticast = 2
	packetOtherHost = 3
)

var pktTypes = []struct {
	name string
	typ  uint8
	help string
}{
	{"unicast", packetHost, "to us"},
	{"broadcast", packetBroadcast, "to all"},
	{"multicast", packetMulticast, "to group"},
	{"otherhost", packetOtherHost, "to someone else"},
	// aliases, not in the help
	{"bcast", packetBroadcast, ""},
	{"mcast", packetMulticast, ""},
	{"host", packetHost, ""},
}

func init() {
	help := "pkttype match options:\n[!] --pkt-type packettype    match packet type\nValid packet types:\n"
	for _, t := range pktTypes {
		if t.help != "" {
			help += "\t" + t.name + strings.Repeat(" ", 14-len(t.name)) + "\t\t" + t.help + "\n"
		}
	}
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "pkttype",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "pkt-type", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New:  func() xtables.MatchInfo { return &PktType{} },
		Help: help + "\n",
	})
}

// PktType is struct xt_pkttype_info.
type PktType struct {
	PktType uint8
	Invert  bool
}

func (m *PktType) Parse(c *xtables.OptionCall) error {
	for _, t := range pktTypes {
		if strings.EqualFold(t.name, c.Arg) {
			m.PktType = t.typ
			if c.Invert {
				m.Invert = true
			}
			return nil
		}
	}
	return xtables.Errorf("Bad packet type '%s'", c.Arg)
}

func (m *PktType) appendType(b []byte) []byte {
	for _, t := range pktTypes {
		if t.typ == m.PktType {
			return append(b, t.name...)
		}
	}
	return xtables.AppendUint(b, uint64(m.PktType))
}

func (m *PktType) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " PKTTYPE "...)
	if m.Invert {
		b = append(b, '!')
	}
	b = append(b, "= "...)
	return m.appendType(b)
}

func (m *PktType) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert)
	b = append(b, " --pkt-type "...)
	return m.appendType(b)
}

// MatchPacket is pkttype_mt (xt_pkttype.c): a looped-back packet counts
// as multicast (IPv4 multicast destination, or any IPv6 one) or else
// broadcast.
func (m *PktType) MatchPacket(st *xtables.PacketState) bool {
	_, dst, _ := packetAddrs(st)
	typ := skbPktType(st, dst)
	if typ == packetLoopback {
		switch {
		case st.Family == xtables.IPv4 && dst.IsMulticast():
			typ = packetMulticast
		case st.Family == xtables.IPv6:
			typ = packetMulticast
		default:
			typ = packetBroadcast
		}
	}
	return (typ == m.PktType) != m.Invert
}
