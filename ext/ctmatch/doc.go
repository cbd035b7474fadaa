// Package ctmatch holds the matches on connection tracking and other
// per-connection or per-socket state, as iptables 1.8.9 drives them:
// conntrack (revision 3) and its alias state, connbytes, connmark
// (revision 1), connlabel, connlimit (revision 1), helper, policy, cluster,
// mark (revision 1), socket (revision 3) and ipvs. Each file mirrors one
// extensions/libxt_*.c: the option table, the parse and final checks with
// the real tool's wording, the -L (print) and -S (save) renderings, and the
// checks the kernel makes when the rule is committed. The per-rule structs
// mirror the kernel's xt_*_info structs.
//
// Each match also evaluates packets (MatchPacket, the kernel's match
// function): the connection comes from xtables.PacketState.Ct/CtInfo, and
// what xtables.Env and xtables.Conn do not say is asked of the host through
// the interfaces in packet.go (ConnFinder, ConnZone, ConnMaster,
// ConnClosed, SocketLookup, IPsecPath); connlimit keeps its connection
// lists as nf_conncount does (conncount.go). Subpackage kern holds the
// kernel arithmetic several extension packages share (jiffies at HZ=250,
// jhash), kern/kerntest the fakes of their tests.
package ctmatch
