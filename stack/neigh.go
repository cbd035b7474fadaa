package stack

import "net/netip"

// resolve finds the MAC address of a next hop on dev through the Neigh
// callback (the host's neighbour table: ARP/NDP). ok is false when the
// neighbour is unknown: the kernel would send an ARP request or neighbour
// solicitation and queue the packet, and without an answer the packet is
// lost.
func (h *Host) resolve(dev string, addr netip.Addr) ([6]byte, bool) {
	if h.Neigh != nil {
		return h.Neigh(dev, addr)
	}
	return [6]byte{}, false
}
