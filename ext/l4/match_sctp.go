package l4

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// sctp match (libxt_sctp.c, struct xt_sctp_info). Old-style parse with its
// own wording; --chunk-types takes two arguments.

const (
	sctpOptSport uint = iota
	sctpOptDport
	sctpOptChunks
)

const (
	sctpSrcPorts   = 0x01 // XT_SCTP_SRC_PORTS
	sctpDestPorts  = 0x02
	sctpChunkTypes = 0x04
)

const (
	sctpMatchAny  = 0x01
	sctpMatchAll  = 0x02
	sctpMatchOnly = 0x04
)

const sctpNumFlags = 4 // XT_NUM_SCTP_FLAGS

func init() {
	inv := xtables.Invert | xtables.Multi // once-checks are the extension's own
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "sctp",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "source-port", ID: sctpOptSport, Type: xtables.TypeString, Flags: inv},
			{Name: "sport", ID: sctpOptSport, Type: xtables.TypeString, Flags: inv},
			{Name: "destination-port", ID: sctpOptDport, Type: xtables.TypeString, Flags: inv},
			{Name: "dport", ID: sctpOptDport, Type: xtables.TypeString, Flags: inv},
			{Name: "chunk-types", ID: sctpOptChunks, Type: xtables.TypeString, Flags: inv},
		},
		New: func() xtables.MatchInfo {
			s := &SCTP{}
			for i := range s.FlagInfo {
				s.FlagInfo[i].ChunkType = 0xFF // sctp_init's -1
			}
			return s
		},
		Help: "sctp match options\n" +
			"[!] --source-port port[:port]                          match source port(s)\n" +
			" --sport ...\n" +
			"[!] --destination-port port[:port]                     match destination port(s)\n" +
			" --dport ...\n" +
			"[!] --chunk-types (all|any|none) (chunktype[:flags])+\tmatch if all, any or none of\n" +
			"\t\t\t\t\t\t        chunktypes are present\n" +
			"chunktypes - DATA INIT INIT_ACK SACK HEARTBEAT HEARTBEAT_ACK ABORT SHUTDOWN SHUTDOWN_ACK ERROR COOKIE_ECHO COOKIE_ACK ECN_ECNE ECN_CWR SHUTDOWN_COMPLETE ASCONF ASCONF_ACK FORWARD_TSN ALL NONE\n",
	})
}

// SCTPFlagInfo is struct xt_sctp_flag_info.
type SCTPFlagInfo struct {
	ChunkType uint8
	Flag      uint8
	FlagMask  uint8
}

// SCTP is struct xt_sctp_info. The chunk map has 64 words, as the kernel
// header's 256 / sizeof(__u32) makes it.
type SCTP struct {
	Dpts, Spts     [2]uint16
	ChunkMap       [64]uint32
	ChunkMatchType uint32
	FlagInfo       [sctpNumFlags]SCTPFlagInfo
	FlagCount      int32
	Flags          uint32
	InvFlags       uint32
}

var sctpChunkNames = []struct {
	name  string
	typ   uint
	flags string
}{
	{"DATA", 0, "----IUBE"},
	{"INIT", 1, "--------"},
	{"INIT_ACK", 2, "--------"},
	{"SACK", 3, "--------"},
	{"HEARTBEAT", 4, "--------"},
	{"HEARTBEAT_ACK", 5, "--------"},
	{"ABORT", 6, "-------T"},
	{"SHUTDOWN", 7, "--------"},
	{"SHUTDOWN_ACK", 8, "--------"},
	{"ERROR", 9, "--------"},
	{"COOKIE_ECHO", 10, "--------"},
	{"COOKIE_ACK", 11, "--------"},
	{"ECN_ECNE", 12, "--------"},
	{"ECN_CWR", 13, "--------"},
	{"SHUTDOWN_COMPLETE", 14, "-------T"},
	{"I_DATA", 64, "----IUBE"},
	{"RE_CONFIG", 130, "--------"},
	{"PAD", 132, "--------"},
	{"ASCONF", 193, "--------"},
	{"ASCONF_ACK", 128, "--------"},
	{"FORWARD_TSN", 192, "--------"},
	{"I_FORWARD_TSN", 194, "--------"},
}

func (s *SCTP) chunkSet(t uint) { s.ChunkMap[t/32] |= 1 << (t % 32) }

func (s *SCTP) chunkIsSet(t uint) bool { return s.ChunkMap[t/32]&(1<<(t%32)) != 0 }

// parseSCTPPorts is parse_sctp_ports.
func parseSCTPPorts(arg string, names xtables.Resolver) ([2]uint16, error) {
	k := strings.IndexByte(arg, ':')
	if k < 0 {
		p, err := xtables.ParsePort(arg, "sctp", names)
		return [2]uint16{p, p}, err
	}
	r := [2]uint16{0, 0xffff}
	var err error
	if lo := arg[:k]; lo != "" {
		if r[0], err = xtables.ParsePort(lo, "sctp", names); err != nil {
			return r, err
		}
	}
	if hi := arg[k+1:]; hi != "" {
		if r[1], err = xtables.ParsePort(hi, "sctp", names); err != nil {
			return r, err
		}
	}
	if r[0] > r[1] {
		return r, xtables.Errorf("invalid portrange (min > max)")
	}
	return r, nil
}

// saveFlag is save_chunk_flag_info. Like the C code it records the chunk's
// index in the name table, not its type.
func (s *SCTP) saveFlag(idx uint8, bit uint, set bool) error {
	for i := 0; i < int(s.FlagCount) && i < sctpNumFlags; i++ {
		if s.FlagInfo[i].ChunkType == idx {
			s.FlagInfo[i].FlagMask |= 1 << bit
			if set {
				s.FlagInfo[i].Flag |= 1 << bit
			}
			return nil
		}
	}
	if s.FlagCount >= sctpNumFlags {
		return xtables.Errorf("Number of chunk types with flags exceeds currently allowed limit. Increasing this limit involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space modules")
	}
	fi := &s.FlagInfo[s.FlagCount]
	fi.ChunkType = idx
	fi.FlagMask |= 1 << bit
	if set {
		fi.Flag |= 1 << bit
	}
	s.FlagCount++
	return nil
}

// parseChunks is parse_sctp_chunks and parse_sctp_chunk.
func (s *SCTP) parseChunks(matchType, chunks string) error {
	switch {
	case strings.EqualFold(matchType, "ANY"):
		s.ChunkMatchType = sctpMatchAny
	case strings.EqualFold(matchType, "ALL"):
		s.ChunkMatchType = sctpMatchAll
	case strings.EqualFold(matchType, "ONLY"):
		s.ChunkMatchType = sctpMatchOnly
	default:
		return xtables.Errorf("Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"")
	}
	s.ChunkMap = [64]uint32{}
	if strings.EqualFold(chunks, "ALL") {
		for i := range s.ChunkMap {
			s.ChunkMap[i] = ^uint32(0)
		}
		return nil
	}
	if strings.EqualFold(chunks, "NONE") {
		return nil
	}
	for _, ptr := range strings.Split(chunks, ",") {
		if ptr == "" { // strtok skips empty fields
			continue
		}
		name, flags, hasFlags := strings.Cut(ptr, ":")
		idx := -1
		for i, c := range sctpChunkNames {
			if strings.EqualFold(c.name, name) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return xtables.Errorf("Unknown sctp chunk `%s'", name)
		}
		s.chunkSet(sctpChunkNames[idx].typ)
		if !hasFlags {
			continue
		}
		valid := sctpChunkNames[idx].flags
		for j := 0; j < len(flags); j++ {
			ch := flags[j]
			up := ch
			if ch >= 'a' && ch <= 'z' {
				up = ch - 'a' + 'A'
			}
			// strchr also finds the terminating NUL: a NUL flag cannot
			// come from argv, so only real characters are looked up.
			p := strings.IndexByte(valid, up)
			if p < 0 {
				return xtables.Errorf("Invalid flags for chunk type %d", idx)
			}
			if err := s.saveFlag(uint8(idx), uint(7-p), ch >= 'A' && ch <= 'Z'); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *SCTP) Parse(c *xtables.OptionCall) error {
	var err error
	switch c.Opt.ID {
	case sctpOptSport:
		if c.Has(sctpOptSport) {
			return xtables.Errorf("Only one `--source-port' allowed")
		}
		s.Flags |= sctpSrcPorts
		if s.Spts, err = parseSCTPPorts(c.Arg, c.Ctx.Names); err != nil {
			return err
		}
		if c.Invert {
			s.InvFlags |= sctpSrcPorts
		}
	case sctpOptDport:
		if c.Has(sctpOptDport) {
			return xtables.Errorf("Only one `--destination-port' allowed")
		}
		s.Flags |= sctpDestPorts
		if s.Dpts, err = parseSCTPPorts(c.Arg, c.Ctx.Names); err != nil {
			return err
		}
		if c.Invert {
			s.InvFlags |= sctpDestPorts
		}
	case sctpOptChunks:
		if c.Has(sctpOptChunks) {
			return xtables.Errorf("Only one `--chunk-types' allowed")
		}
		next, ok := c.PeekArg()
		if !ok || (next != "" && (next[0] == '-' || next[0] == '!')) {
			return xtables.Errorf("--chunk-types requires two args")
		}
		s.Flags |= sctpChunkTypes
		if err := s.parseChunks(c.Arg, next); err != nil {
			return err
		}
		if c.Invert {
			s.InvFlags |= sctpChunkTypes
		}
		c.TakeArg()
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p sctp).
func (s *SCTP) Check(ctx *xtables.Context) error { return checkProto(ctx, 132) }

func (s *SCTP) appendChunkFlags(b []byte, chunk uint, flag, mask uint8) []byte {
	if mask != 0 {
		b = append(b, ':')
	}
	valid := "--------"
	if chunk < uint(len(sctpChunkNames)) {
		valid = sctpChunkNames[chunk].flags
	}
	for i := 7; i >= 0; i-- {
		if mask&(1<<i) == 0 {
			continue
		}
		ch := valid[7-i]
		if flag&(1<<i) == 0 && ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	return b
}

// appendChunks is print_chunks.
func (s *SCTP) appendChunks(b []byte, numeric bool) []byte {
	switch s.ChunkMatchType {
	case sctpMatchAny:
		b = append(b, " any"...)
	case sctpMatchAll:
		b = append(b, " all"...)
	case sctpMatchOnly:
		b = append(b, " only"...)
	default:
		b = append(b, "Never reach here\n"...)
	}
	clear, all := true, true
	for _, w := range s.ChunkMap {
		if w != 0 {
			clear = false
		}
		if w != ^uint32(0) {
			all = false
		}
	}
	if clear {
		return append(b, " NONE"...)
	}
	if all {
		return append(b, " ALL"...)
	}
	first := true
	for i := uint(0); i < 256; i++ {
		if !s.chunkIsSet(i) {
			continue
		}
		if first {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		first = false
		if numeric {
			b = append(b, "0x"...)
			h := appendHexUpper(nil, uint64(i))
			for k := len(h); k < 4; k++ {
				b = append(b, '0')
			}
			b = append(b, h...)
		} else {
			for _, c := range sctpChunkNames {
				if c.typ == i {
					b = append(b, c.name...)
				}
			}
		}
		for j := 0; j < int(s.FlagCount) && j < sctpNumFlags; j++ {
			if uint(s.FlagInfo[j].ChunkType) == i {
				b = s.appendChunkFlags(b, i, s.FlagInfo[j].Flag, s.FlagInfo[j].FlagMask)
			}
		}
	}
	return b
}

func (s *SCTP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " sctp"...)
	if s.Flags&sctpSrcPorts != 0 {
		b = appendPorts(b, "spt", s.Spts, s.InvFlags&sctpSrcPorts != 0, "sctp", ctx)
	}
	if s.Flags&sctpDestPorts != 0 {
		b = appendPorts(b, "dpt", s.Dpts, s.InvFlags&sctpDestPorts != 0, "sctp", ctx)
	}
	if s.Flags&sctpChunkTypes != 0 {
		if s.InvFlags&sctpChunkTypes != 0 {
			b = append(b, " !"...)
		}
		b = s.appendChunks(b, ctx.Numeric)
	}
	return b
}

func (s *SCTP) Save(b []byte, ctx *xtables.Context) []byte {
	if s.Flags&sctpSrcPorts != 0 {
		b = appendSaveRange(b, "--sport", uint64(s.Spts[0]), uint64(s.Spts[1]), s.InvFlags&sctpSrcPorts != 0)
	}
	if s.Flags&sctpDestPorts != 0 {
		b = appendSaveRange(b, "--dport", uint64(s.Dpts[0]), uint64(s.Dpts[1]), s.InvFlags&sctpDestPorts != 0)
	}
	if s.Flags&sctpChunkTypes != 0 {
		b = xtables.AppendInv(b, s.InvFlags&sctpChunkTypes != 0)
		b = append(b, " --chunk-types"...)
		b = s.appendChunks(b, false)
	}
	return b
}

// sctpMatchFlags is match_flags: the flag rule given for the chunk type
// (the first one), else any flags.
func (s *SCTP) sctpMatchFlags(typ, flags uint8) bool {
	n := int(s.FlagCount)
	if n > sctpNumFlags {
		n = sctpNumFlags
	}
	for i := 0; i < n; i++ {
		if s.FlagInfo[i].ChunkType == typ {
			return flags&s.FlagInfo[i].FlagMask == s.FlagInfo[i].Flag
		}
	}
	return true
}

// matchChunks is match_packet of xt_sctp.c: the chunks from off on, each
// padded to 4 bytes; a chunk header past the end or of length 0 drops the
// packet.
func (s *SCTP) matchChunks(in *pktinfo, off int) (ok, drop bool) {
	var left [64]uint32 // the chunk types "all" still waits for
	if s.ChunkMatchType == sctpMatchAll {
		left = s.ChunkMap
	}
	for {
		sch := in.at(off, 4)
		if sch == nil || be16(sch[2:]) == 0 {
			return false, true
		}
		typ, flags := sch[0], sch[1]
		off += (int(be16(sch[2:])) + 3) &^ 3
		if s.chunkIsSet(uint(typ)) {
			switch s.ChunkMatchType {
			case sctpMatchAny:
				if s.sctpMatchFlags(typ, flags) {
					return true, false
				}
			case sctpMatchAll:
				if s.sctpMatchFlags(typ, flags) {
					left[typ/32] &^= 1 << (typ % 32)
				}
			case sctpMatchOnly:
				if !s.sctpMatchFlags(typ, flags) {
					return false, false
				}
			}
		} else if s.ChunkMatchType == sctpMatchOnly {
			return false, false
		}
		if off >= len(in.data) {
			break
		}
	}
	switch s.ChunkMatchType {
	case sctpMatchAll:
		return left == [64]uint32{}, false
	case sctpMatchOnly:
		return true, false
	}
	return false, false
}

// MatchPacket is sctp_mt (xt_sctp.c): ports, then the chunks.
func (s *SCTP) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	sh := in.header(12)
	if sh == nil {
		st.HotDrop = true
		return false
	}
	check := func(bit uint32, cond bool) bool {
		return s.Flags&bit == 0 || cond != (s.InvFlags&bit != 0)
	}
	sport, dport := be16(sh), be16(sh[2:])
	if !check(sctpSrcPorts, sport >= s.Spts[0] && sport <= s.Spts[1]) ||
		!check(sctpDestPorts, dport >= s.Dpts[0] && dport <= s.Dpts[1]) {
		return false
	}
	if s.Flags&sctpChunkTypes == 0 {
		return true
	}
	ok, drop := s.matchChunks(&in, in.thoff+12)
	if drop {
		st.HotDrop = true
		return false
	}
	return ok != (s.InvFlags&sctpChunkTypes != 0)
}
