package stack

import "net/netip"

// neighKey is a neighbour entry's key: device and address.
type neighKey struct {
	dev  string
	addr netip.Addr
}

// learn records the link-layer source of a frame from an on-link sender:
// the sender resolved us before sending, so a real host would hold an
// entry for it (its ARP request or neighbour solicitation created one).
func (h *Host) learn(dev string, src netip.Addr, mac []byte) {
	if h.neigh == nil {
		h.neigh = map[neighKey][6]byte{}
	}
	k := neighKey{dev, src}
	m := [6]byte(mac)
	if old, ok := h.neigh[k]; ok && old == m {
		return
	}
	h.neigh[k] = m
}

// resolve finds the MAC address of a next hop on dev: the Neigh callback
// first, then what the host learnt; broadcast when unknown.
func (h *Host) resolve(dev string, addr netip.Addr) [6]byte {
	if h.Neigh != nil {
		if m, ok := h.Neigh(dev, addr); ok {
			return m
		}
	}
	if m, ok := h.neigh[neighKey{dev, addr}]; ok {
		return m
	}
	return [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
}
