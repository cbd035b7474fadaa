package ctmatch

import (
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/xtables"
)

// cluster match (libxt_cluster.c, xt_cluster.h). --cluster-local-node N is
// stored as the node mask 1<<(N-1) and saved as --cluster-local-nodemask.

const (
	clOptTotalNodes uint = iota
	clOptLocalNode
	clOptLocalNodeMask
	clOptHashSeed
)

const (
	clusterNodesMax = 32 // XT_CLUSTER_NODES_MAX
	clusterFInv     = 1  // XT_CLUSTER_F_INV
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "cluster",
		Family:    xtables.AnyFamily,
		Help: `cluster match options:
  --cluster-total-nodes <num>		Set number of total nodes in cluster
  [!] --cluster-local-node <num>	Set the local node number
  [!] --cluster-local-nodemask <num>	Set the local node mask
  --cluster-hash-seed <num>		Set seed value of the Jenkins hash
`,
		Options: []xtables.Option{
			{Name: "cluster-total-nodes", ID: clOptTotalNodes, Type: xtables.TypeUint32, Min: 1, Max: clusterNodesMax, Flags: xtables.Mand},
			{Name: "cluster-local-node", ID: clOptLocalNode, Type: xtables.TypeUint32, Min: 1, Max: clusterNodesMax, Flags: xtables.Invert, Excl: 1 << clOptLocalNodeMask},
			// Range-checked in Parse: the saved mask of a node above 6 is out of
			// range, yet iptwin must read its own state file back.
			{Name: "cluster-local-nodemask", ID: clOptLocalNodeMask, Type: xtables.TypeString, Flags: xtables.Invert, Excl: 1 << clOptLocalNode},
			{Name: "cluster-hash-seed", ID: clOptHashSeed, Type: xtables.TypeUint32, Flags: xtables.Mand},
		},
		New: func() xtables.MatchInfo { return &Cluster{} },
	})
}

// Cluster is struct xt_cluster_match_info.
type Cluster struct {
	TotalNodes uint32
	NodeMask   uint32
	HashSeed   uint32
	Flags      uint32
}

func (cl *Cluster) Parse(c *xtables.OptionCall) error {
	v := uint32(c.Val.U64)
	switch c.Opt.ID {
	case clOptTotalNodes:
		cl.TotalNodes = v
	case clOptLocalNode:
		if c.Invert {
			cl.Flags |= clusterFInv
		}
		cl.NodeMask = 1 << (v - 1)
	case clOptLocalNodeMask:
		hi := uint64(clusterNodesMax)
		if c.Ctx != nil && c.Ctx.State {
			hi = 0xffffffff
		}
		m, ok := xtables.StrToUintAll(c.Arg, 1, hi)
		if !ok {
			return xtables.Errorf("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", c.Ext, c.Opt.Name, 1, clusterNodesMax)
		}
		if c.Invert {
			cl.Flags |= clusterFInv
		}
		cl.NodeMask = uint32(m)
	case clOptHashSeed:
		cl.HashSeed = v
	}
	return nil
}

// Final is cluster_check.
func (cl *Cluster) Final(f *xtables.FinalCall) error {
	test := uint64(1<<clOptTotalNodes | 1<<clOptLocalNode | 1<<clOptHashSeed)
	if f.XFlags&test == test {
		if uint64(cl.NodeMask) >= uint64(1)<<cl.TotalNodes {
			return xtables.Errorf("cluster match: `--cluster-local-node' must be <= `--cluster-total-nodes'")
		}
		return nil
	}
	test = 1<<clOptTotalNodes | 1<<clOptLocalNodeMask | 1<<clOptHashSeed
	if f.XFlags&test == test {
		if uint64(cl.NodeMask) >= uint64(1)<<cl.TotalNodes {
			return xtables.Errorf("cluster match: `--cluster-local-nodemask' too big for `--cluster-total-nodes'")
		}
		return nil
	}
	if !f.Has(clOptLocalNode) && !f.Has(clOptLocalNodeMask) {
		return xtables.Errorf("cluster match: `--cluster-local-node' or`--cluster-local-nodemask' is missing")
	}
	return nil
}

func (cl *Cluster) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " cluster "...)
	if cl.Flags&clusterFInv != 0 {
		b = append(b, '!')
	}
	b = append(b, "node_mask="...)
	b = appendHex08(b, cl.NodeMask)
	b = append(b, " total_nodes="...)
	b = xtables.AppendUint(b, uint64(cl.TotalNodes))
	b = append(b, " hash_seed="...)
	return appendHex08(b, cl.HashSeed)
}

func (cl *Cluster) Save(b []byte, ctx *xtables.Context) []byte {
	if cl.Flags&clusterFInv != 0 {
		b = append(b, " !"...)
	}
	b = append(b, " --cluster-local-nodemask "...)
	b = appendHex08(b, cl.NodeMask)
	b = append(b, " --cluster-total-nodes "...)
	b = xtables.AppendUint(b, uint64(cl.TotalNodes))
	b = append(b, " --cluster-hash-seed "...)
	return appendHex08(b, cl.HashSeed)
}

// MatchPacket is xt_cluster_mt: the original source address of the
// connection (of its master for an expected one) hashed with the seed
// into one of the nodes, matched against the local node mask. The
// kernel also turns a multicast-MAC packet to a unicast address into a
// PACKET_HOST one here, which the packet path has to do itself.
func (cl *Cluster) MatchPacket(st *xtables.PacketState) bool {
	c := st.Ct
	if c == nil {
		return false
	}
	if m, ok := c.(ConnMaster); ok {
		if master := m.Master(); master != nil {
			c = master
		}
	}
	src := c.Tuple(0).Src
	var h uint32
	if src.Is4() {
		b := src.As4()
		h = kern.Jhash1Word(kern.LEWord(b[:]), cl.HashSeed)
	} else {
		// jhash2(ip, NF_CT_TUPLE_L3SIZE / sizeof(__u32)): the size is
		// the 4 words' count, not their bytes, so only the first word
		// is hashed (measured: testdata/kernel-cluster.txt).
		b := src.As16()
		w := [1]uint32{kern.LEWord(b[0:])}
		h = kern.Jhash2(w[:], cl.HashSeed)
	}
	node := kern.ReciprocalScale(h, cl.TotalNodes)
	return (uint32(1)<<(node&31)&cl.NodeMask != 0) != (cl.Flags&clusterFInv != 0)
}
