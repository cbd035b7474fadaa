package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/sim"
)

// An extension as sim/ike will be one: a host field whose Boot starts a
// daemon on a UDP port (here an echo service), and a program steps run.
func init() {
	sim.RegisterHostField(sim.HostField{
		Name: "test-echo",
		Parse: func(f sim.Field) (any, error) {
			m, err := f.Map("port", "banner")
			if err != nil {
				return nil, err
			}
			var port uint16
			if p, ok := m["port"]; ok {
				s, err := p.String()
				if err != nil {
					return nil, err
				}
				if _, err := fmt.Sscan(s, &port); err != nil || port == 0 {
					return nil, p.Errorf("%q is not a port", s)
				}
			}
			banner := ""
			if b, ok := m["banner"]; ok {
				banner, _ = b.String()
			}
			return echoConf{port, banner}, nil
		},
		Boot: func(h *sim.HostEnv, v any) error {
			c := v.(echoConf)
			_, err := h.HandleUDP(c.port, func(p *packet.Packet) {
				var r packet.Headers
				r.Layers, r.Proto = packet.LayerIPv4|packet.LayerUDP, packet.ProtoUDP
				r.IPv4 = packet.IPv4{IHL: 5, TTL: 64, ID: 1, Src: p.Dst(), Dst: p.Src()}
				r.UDP = packet.UDP{SrcPort: p.UDP.DstPort, DstPort: p.UDP.SrcPort}
				r.Payload = append([]byte(nil), p.Payload...)
				ip, err := r.Append(nil, packet.FixAll)
				if err == nil {
					h.Send(ip, nil)
				}
			})
			return err
		},
	})
	sim.RegisterProgram("test-banner", func(h *sim.HostEnv, args []string) (sim.Program, error) {
		c, ok := h.Value("test-echo").(echoConf)
		if !ok {
			return nil, fmt.Errorf("test-banner: %s runs no echo service", h.Name())
		}
		return &bannerProg{h: h, text: c.banner + " " + strings.Join(args, " ")}, nil
	})
}

type echoConf struct {
	port   uint16
	banner string
}

// bannerProg prints its text after a second of virtual time.
type bannerProg struct {
	h    *sim.HostEnv
	text string
	over bool
}

func (b *bannerProg) Start() {
	b.h.After(time.Second, func() { b.h.Print(b.text); b.over = true })
}
func (b *bannerProg) Done() bool      { return b.over }
func (b *bannerProg) Finish()         {}
func (b *bannerProg) Outcome() string { return "ok" }

func TestExtension(t *testing.T) {
	topo, err := parse(t, t.TempDir(), `
hosts:
  a:
    interfaces: {eth0: 10.0.0.1/24}
  b:
    interfaces: {eth0: 10.0.0.2/24}
    test-echo: {port: 7, banner: hello}
links:
  l: [a.eth0, b.eth0]
steps:
  - a: udp -n 5 10.0.0.2 7
    expect:
      - outcome: answered
      - output: "udp: 5 bytes from 10.0.0.2 port 7"
  - b: test-banner world
    expect:
      - output: hello world
  - a: test-banner x
    expect: error
`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(topo, options(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(res); len(f) > 0 {
		t.Fatalf("%s\n%s", strings.Join(f, "\n"), text(t, res))
	}
	if d := res.Steps[1].End - res.Steps[1].Start; d != int64(time.Second) {
		t.Errorf("the program ran %d ns, want 1 s", d)
	}
	_, err = parse(t, t.TempDir(), "hosts:\n  b:\n    test-echo: {port: x}\n")
	if err == nil || !strings.Contains(err.Error(), `net.yaml:3:23: hosts.b.test-echo.port: "x" is not a port`) {
		t.Errorf("a registered field's error: %v", err)
	}
}
