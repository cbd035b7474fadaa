package sim

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"time"
)

// Captures in the classic pcap format (tcpdump's -w, LINKTYPE_ETHERNET,
// microsecond time stamps), one file per link, which tcpdump -r and
// Wireshark read. Written here rather than with gopacket's pcapgo, whose
// package pulls golang.org/x/net and x/sys into the build for its live
// capture code; the format is 24 bytes of file header and 16 per record.

const (
	pcapMagic    = 0xa1b2c3d4
	pcapSnaplen  = 262144
	linkEthernet = 1
)

type pcapFile struct {
	f *os.File
	w *bufio.Writer
}

func newPcap(path string) (*pcapFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	p := &pcapFile{f: f, w: bufio.NewWriter(f)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagic)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], pcapSnaplen)
	binary.LittleEndian.PutUint32(h[20:], linkEthernet)
	p.w.Write(h[:])
	return p, nil
}

// write adds a frame captured at t.
func (p *pcapFile) write(t time.Time, frame []byte) {
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(t.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(t.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	p.w.Write(h[:])
	p.w.Write(frame)
}

func (p *pcapFile) close() error {
	err := p.w.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// openPcaps creates DIR/LINK.pcap for every link.
func (n *Network) openPcaps(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, l := range n.links {
		p, err := newPcap(filepath.Join(dir, l.name+".pcap"))
		if err != nil {
			return err
		}
		l.pcap = p
	}
	return nil
}
