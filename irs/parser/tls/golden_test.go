package tls

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCases: public captures of VPNs that hide in TLS, with what nDPI
// published and what sdnli must find (the SNI of at least one session).
var goldenCases = []struct {
	dir, file string
	others    string
	sni       string
}{
	{"vpn_misc", "ndpi__forticlient.pcap", "nDPI: TLS.FortiClient on TCP 10443 (5 flows)", ""},
	{"vpn_misc", "ndpi__pia.pcap", "nDPI: TLS.PrivateInternetAccess", ""},
	{"vpn_misc", "ndpi__protonvpn.pcap", "nDPI: TLS.ProtonVPN, WireGuard on UDP 443", ""},
	{"vpn_misc", "ndpi__psiphon3.pcap", "nDPI: TLS.Psiphon", ""},
	{"vpn_misc", "ndpi__tor.pcap", "nDPI: TLS and TLS.Tor on 443", ""},
	{"vpn_misc", "ndpi__tunnelbear.pcap", "nDPI: TLS.TunnelBear", ""},
	{"vpn_misc", "ndpi__windscribe.pcapng", "nDPI: TLS.Windscribe", ""},
	{"vpn_misc", "ndpi__anyconnect-vpn.pcap", "nDPI: TLS.CiscoVPN among Google and other TLS flows", ""},
	{"vpn_misc", "ndpi__cloudflare-warp.pcap", "nDPI: TLS and CloudflareWarp", ""},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(Detector{})
			res := golden.Run(t, reg, parser.Options{}, filepath.Join(golden.SharedPcaps(t, tc.dir), tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			golden.Check(t, strings.TrimSuffix(strings.TrimSuffix(tc.file, ".pcap"), ".pcapng"), res.Events)
			n := 0
			for _, ev := range res.Events {
				if ev.Type == TypeSession {
					n++
					checkSession(t, ev)
				}
			}
			if n == 0 {
				t.Errorf("no tls-session event (%s)", tc.others)
			}
		})
	}
}

// checkSession: a session whose ClientHello was seen has a JA3 and JA4.
func checkSession(t *testing.T, ev *event.Event) {
	t.Helper()
	if ev.Summary.Get("client_hello_seen") == true {
		if _, ok := ev.Summary.Lookup("ja3_md5"); !ok {
			t.Errorf("%s: ClientHello seen but no JA3", ev.Server)
		}
	}
}
