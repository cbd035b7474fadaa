package rate

import (
	"strings"

	"github.com/iptwin/iptwin/nfacct"
	"github.com/iptwin/iptwin/xtables"
)

// nfacct match, revision 1 (libxt_nfacct.c, xt_nfacct.h). The kernel
// refuses a name that no nfacct object of the host has.

const nfacctNameMax = 32 // NFACCT_NAME_MAX

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "nfacct",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "nfacct-name", ID: 0, Type: xtables.TypeString, Min: 1, Flags: xtables.Mand},
		},
		New: func() xtables.MatchInfo { return &NFAcct{} },
	})
}

// NFAcct is struct xt_nfacct_match_info_v1 (the user part).
type NFAcct struct {
	Name string
}

func (n *NFAcct) Parse(c *xtables.OptionCall) error {
	if strings.IndexByte(c.Arg, '\n') >= 0 {
		return xtables.Errorf("Newlines not allowed in --nfacct-name")
	}
	n.Name = cString(c.Arg, nfacctNameMax)
	return nil
}

// ErrNoEntry is ENOENT from a match's checkentry.
var ErrNoEntry = &xtables.KernelError{Errno: "No such file or directory"}

// Check is nfacct_mt_checkentry: the accounting object must exist.
func (n *NFAcct) Check(ctx *xtables.Context) error {
	if ctx.Objects != nil {
		if _, ok := ctx.Objects.Lookup("nfacct", n.Name); ok {
			return nil
		}
	}
	return ErrNoEntry
}

// Print and Save put two spaces before the name: nfacct_print_name ends in
// a space and xtables_save_string starts with one.
func (n *NFAcct) Print(b []byte, ctx *xtables.Context) []byte {
	return appendSaveString(append(b, " nfacct-name "...), n.Name)
}

func (n *NFAcct) Save(b []byte, ctx *xtables.Context) []byte {
	return appendSaveString(append(b, " --nfacct-name "...), n.Name)
}

// MatchPacket is nfacct_mt: the packet is counted into the accounting
// object (nfnl_acct_update), and the match is true unless the object has
// a quota it is still under (nfnl_acct_overquota, which also flags the
// object once the quota is reached). The object comes from the host
// (its Env as an xtables.ObjectStore); the kernel's checkentry makes
// sure it exists.
func (n *NFAcct) MatchPacket(st *xtables.PacketState) bool {
	os, ok := st.Env.(xtables.ObjectStore)
	if !ok {
		return false
	}
	v, ok := os.Lookup("nfacct", n.Name)
	if !ok {
		return false
	}
	o, ok := v.(*nfacct.Object)
	if !ok {
		return false
	}
	o.Pkts++
	o.Bytes += uint64(len(st.Pkt.Data))
	if o.Flags&(nfacct.QuotaPkts|nfacct.QuotaBytes) == 0 {
		return true // NFACCT_NO_QUOTA
	}
	now := o.Bytes
	if o.Flags&nfacct.QuotaPkts != 0 {
		now = o.Pkts
	}
	if now >= o.Quota {
		o.Flags |= nfacct.OverQuota
	}
	return now > o.Quota
}
