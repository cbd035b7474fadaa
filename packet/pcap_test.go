package packet

import (
	"encoding/binary"
	"fmt"
	"os"
)

// Link types of the pcap files in testdata.
const (
	linkEthernet = 1
	linkRaw      = 101 // LINKTYPE_RAW: packets start with the IP header
)

type pcapFile struct {
	link    uint32
	packets [][]byte
}

// readPcap reads a classic pcap file (either byte order, µs or ns).
func readPcap(name string) (*pcapFile, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%s: short pcap header", name)
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("%s: not a pcap file", name)
	}
	f := &pcapFile{link: bo.Uint32(b[20:]) & 0xffff}
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			return nil, fmt.Errorf("%s: short record header", name)
		}
		n := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+n > len(b) {
			return nil, fmt.Errorf("%s: short record", name)
		}
		f.packets = append(f.packets, b[off:off+n:off+n])
		off += n
	}
	return f, nil
}

// writePcap writes packets as a little-endian µs pcap file with
// timestamps 1, 2, 3... seconds.
func writePcap(name string, link uint32, packets [][]byte) error {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 262144)
	b = le.AppendUint32(b, link)
	for i, p := range packets {
		b = le.AppendUint32(b, uint32(i+1))
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, uint32(len(p)))
		b = le.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return os.WriteFile(name, b, 0o644)
}

// decodeLink decodes one captured packet of the given link type.
func decodeLink(p *Packet, link uint32, b []byte) error {
	if link == linkEthernet {
		return p.DecodeEthernet(b)
	}
	return p.Decode(b)
}
