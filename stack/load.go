package stack

import (
	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// Load builds the host kept in a state directory: its network
// configuration and both rule sets.
func Load(d *state.Dir, name string, seed uint64) (*Host, error) {
	n, err := host.Load(d)
	if err != nil {
		return nil, err
	}
	res := d.Names()
	r4, err := d.Load(xtables.IPv4, res)
	if err != nil {
		return nil, err
	}
	r6, err := d.Load(xtables.IPv6, res)
	if err != nil {
		return nil, err
	}
	socks, err := LoadSockets(d)
	if err != nil {
		return nil, err
	}
	h, err := New(name, n, r4, r6, seed)
	if err != nil {
		return nil, err
	}
	h.Sockets = socks
	if h.Xfrm, err = xfrm.Load(d.Path); err != nil {
		return nil, err
	}
	return h, nil
}
