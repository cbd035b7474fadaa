package mangle

import (
	"fmt"

	"github.com/iptwin/iptwin/xtables"
)

// CLUSTERIP (libipt_CLUSTERIP.c, struct ipt_clusterip_tgt_info). Linux 6.x
// no longer has it: iptables parses the target, warns that the kernel
// lacks it, and the kernel refuses the rule.

const (
	cipOptNew uint = iota
	cipOptHashmode
	cipOptClustermac
	cipOptTotalNodes
	cipOptLocalNode
	cipOptHashInit
)

const cipFull = 1<<cipOptNew | 1<<cipOptHashmode | 1<<cipOptClustermac | 1<<cipOptTotalNodes | 1<<cipOptLocalNode

var cipHashmodes = []string{"", "sourceip", "sourceip-sourceport", "sourceip-sourceport-destport"}

func init() {
	also := uint64(1 << cipOptNew)
	xtables.RegisterTarget(&xtables.TargetType{
		Name:          "CLUSTERIP",
		Family:        xtables.IPv4,
		KernelMissing: true,
		Options: []xtables.Option{
			{Name: "new", ID: cipOptNew, Type: xtables.TypeNone},
			{Name: "hashmode", ID: cipOptHashmode, Type: xtables.TypeString, Also: also},
			{Name: "clustermac", ID: cipOptClustermac, Type: xtables.TypeEtherMAC, Also: also},
			{Name: "total-nodes", ID: cipOptTotalNodes, Type: xtables.TypeUint16, Also: also, Max: 16},
			{Name: "local-node", ID: cipOptLocalNode, Type: xtables.TypeUint16, Also: also, Max: 16},
			{Name: "hash-init", ID: cipOptHashInit, Type: xtables.TypeUint32, Also: also, Max: 1<<32 - 1},
		},
		New: func() xtables.TargetInfo { return &ClusterIP{} },
	})
}

// ClusterIP is struct ipt_clusterip_tgt_info.
type ClusterIP struct {
	New        bool
	HashMode   int
	ClusterMAC [6]byte
	TotalNodes uint16
	LocalNode  uint16
	HashInit   uint32
}

func (t *ClusterIP) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case cipOptNew:
		t.New = true
	case cipOptHashmode:
		t.HashMode = 0
		for i, m := range cipHashmodes[1:] {
			if c.Arg == m {
				t.HashMode = i + 1
			}
		}
		if t.HashMode == 0 {
			return xtables.Errorf("Unknown hashmode \"%s\"", c.Arg)
		}
	case cipOptClustermac:
		if c.Val.MAC[0]&1 == 0 {
			return xtables.Errorf("MAC has to be a multicast ethernet address")
		}
		t.ClusterMAC = c.Val.MAC
	case cipOptTotalNodes:
		t.TotalNodes = uint16(c.Val.U64)
	case cipOptLocalNode:
		t.LocalNode = uint16(c.Val.U64)
	case cipOptHashInit:
		t.HashInit = uint32(c.Val.U64)
	}
	return nil
}

// Final is CLUSTERIP_check: all or nothing.
func (t *ClusterIP) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 || f.XFlags&cipFull == cipFull {
		return nil
	}
	return xtables.Errorf("CLUSTERIP target: Invalid parameter combination")
}

func (t *ClusterIP) mode() string {
	if t.HashMode > 0 && t.HashMode < len(cipHashmodes) {
		return cipHashmodes[t.HashMode]
	}
	return "unknown-error"
}

func (t *ClusterIP) mac() string {
	m := t.ClusterMAC
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5])
}

func (t *ClusterIP) Print(b []byte, ctx *xtables.Context) []byte {
	if !t.New {
		return append(b, " CLUSTERIP"...)
	}
	return fmt.Appendf(b, " CLUSTERIP hashmode=%s clustermac=%s total_nodes=%d local_node=%d hash_init=%d",
		t.mode(), t.mac(), t.TotalNodes, t.LocalNode, t.HashInit)
}

func (t *ClusterIP) Save(b []byte, ctx *xtables.Context) []byte {
	if !t.New {
		return b
	}
	return fmt.Appendf(b, " --new --hashmode %s --clustermac %s --total-nodes %d --local-node %d --hash-init %d",
		t.mode(), t.mac(), t.TotalNodes, t.LocalNode, t.HashInit)
}
