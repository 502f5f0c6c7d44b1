package wireguard

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCases: every public WireGuard capture, what nDPI published for
// it, and the facts checked here.
var goldenCases = []struct {
	file     string
	others   string
	sessions int
	check    func(t *testing.T, evs []*event.Event)
}{
	{"ndpi__wireguard.pcap", "nDPI: two WireGuard flows (139.162.192.157:51820 and 10.9.0.2:51820); sdnli sees three: the 10.9.0.x flow pauses 128 s, past the 2-minute UDP idle timeout", 3, func(t *testing.T, evs []*event.Event) {
		for _, ev := range evs {
			if ev.Client.Addr().String() == "10.9.0.1" && ev.Summary.Get("handshakes").(int) < 1 || ev.Summary.Get("confidence").(float64) < 0.6 {
				t.Errorf("%s: summary %v", ev.Server, ev.Summary)
			}
		}
	}},
	{"ndpi__mullvad_wireguard.pcap", "nDPI: WireGuard.Mullvad on UDP 5060 (not the WireGuard port)", 1, func(t *testing.T, evs []*event.Event) {
		if m := evs[0].Summary.Get("detection"); m != "content" {
			t.Errorf("detection = %v, want content (port 5060)", m)
		}
	}},
	{"pcapplusplus__WireGuard.pcap", "captures only (PcapPlusPlus decodes initiation, response, cookie and data; the cookie reply is a flow of its own)", 2, func(t *testing.T, evs []*event.Event) {
		m := map[string]int{}
		for _, ev := range evs {
			for k, n := range ev.Summary.Get("messages").(map[string]int) {
				m[k] += n
			}
		}
		for _, k := range []string{"handshake-initiation", "handshake-response", "cookie-reply", "transport-data"} {
			if m[k] == 0 {
				t.Errorf("no %s in %v", k, m)
			}
		}
	}},
}

// TestGoldenTailscale: Tailscale's WireGuard packets share their flow
// with disco messages; nDPI says Tailscale.
func TestGoldenTailscale(t *testing.T) {
	reg := parser.NewRegistry()
	reg.Add(NewDetector())
	res := golden.Run(t, reg, parser.Options{}, filepath.Join(golden.SharedPcaps(t, "vpn_misc"), "ndpi__tailscale.pcap"))
	if res.Err != nil {
		t.Fatalf("engine: %v", res.Err)
	}
	golden.Check(t, "ndpi__tailscale", res.Events)
	if len(res.Events) != 1 {
		t.Fatalf("%d events, want 1", len(res.Events))
	}
	s := res.Events[0].Summary
	if s.Get("tailscale_disco").(int) == 0 || s.Get("non_wireguard") != nil || s.Get("messages").(map[string]int)["transport-data"] == 0 {
		t.Errorf("summary %v", s)
	}
}

func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "wireguard")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(NewDetector())
			res := golden.Run(t, reg, parser.Options{}, filepath.Join(dir, tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			golden.Check(t, strings.TrimSuffix(tc.file, ".pcap"), res.Events)
			if len(res.Events) != tc.sessions {
				t.Fatalf("got %d events, want %d (%s)", len(res.Events), tc.sessions, tc.others)
			}
			for _, ev := range res.Events {
				if ev.Protocol != protocol || ev.Type != TypeSession {
					t.Errorf("event %s/%s", ev.Protocol, ev.Type)
				}
			}
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
