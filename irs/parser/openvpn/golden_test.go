package openvpn

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCases: every public OpenVPN capture, what nDPI published, where
// sdnli differs and why, and the sessions expected (server address:port
// → control channel protection).
var goldenCases = []struct {
	file    string
	others  string
	differs string
	want    map[string]string
	n       int // sessions
}{
	{"ndpi__openvpn.pcap", "nDPI: 10 OpenVPN flows (UDP and TCP, ports 1194, 443, 1234, 13680, two of them one-way)", "",
		map[string]string{
			"139.59.151.137:13680": "tls-auth-hmac20", "10.251.71.30:1194": "none", "85.134.13.165:1194": "none",
			"46.101.231.218:443": "tls-auth-hmac20", "127.0.0.1:443": "tls-crypt", "107.161.86.131:443": "tls-auth-hmac64",
			"217.138.197.43:1234": "tls-auth-hmac64", "69.197.143.179:443": "none", "166.161.181.18:443": "none",
		}, 10},
	{"ndpi__openvpn-tlscrypt.pcap", "nDPI: one OpenVPN flow, UDP [::1]:1194", "", map[string]string{"[::1]:1194": "tls-crypt-v2"}, 1},
	{"ndpi__openvpn_nohmac.pcapng", "nDPI: one OpenVPN flow, UDP 85.134.13.165:1194", "", map[string]string{"85.134.13.165:1194": "none"}, 1},
	{"ndpi__openvpn_nohmac_tcp.pcapng", "nDPI: one OpenVPN flow, TCP 10.251.71.30:1194", "", map[string]string{"10.251.71.30:1194": "none"}, 1},
	{"ndpi__443-opvn.pcap", "nDPI: one OpenVPN flow, TCP 192.12.192.103:1194", "", map[string]string{"192.12.192.103:1194": "tls-auth-hmac20"}, 1},
	{"arkime__openvpn_synthetic.pcap", "Arkime: protocol openvpn in four sessions (UDP and TCP, IPv4 and IPv6, ports 4444, 5555, 8443, 6666)", "",
		map[string]string{"198.51.100.20:4444": "none", "[2001:db8:2::20]:5555": "tls-auth-hmac20", "198.51.100.22:8443": "tls-auth-hmac32", "[2001:db8:2::22]:6666": "tls-auth-hmac64"}, 4},
	{"ndpi__openvpn_obfuscated.pcapng", "nDPI: TLS, SMTPS and NordVPN-by-IP by default; OpenVPN only with its aggressive heuristic",
		"the TCP/443 flow starts with a plain hard reset exchange before its scrambling begins: sdnli claims it by content (as nDPI's aggressive heuristic does); the XOR-scrambled flows (TCP/465, UDP/1214) have no OpenVPN structure on the wire and are not claimed",
		map[string]string{"107.161.86.131:443": "tls-auth-hmac64"}, 1},
}

func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "openvpn")
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
			golden.Check(t, strings.TrimSuffix(strings.TrimSuffix(tc.file, ".pcap"), ".pcapng"), res.Events)
			got := map[string]string{}
			for _, ev := range res.Events {
				if ev.Type != TypeSession {
					t.Errorf("event type %q", ev.Type)
				}
				got[ev.Server.String()] = ev.Summary.Get("control_channel").(string)
			}
			for srv, lay := range tc.want {
				if got[srv] != lay {
					t.Errorf("server %s: control channel %q, want %q (%s)", srv, got[srv], lay, tc.others)
				}
			}
			if len(res.Events) != tc.n {
				t.Errorf("%d events, want %d (%s; %s)", len(res.Events), tc.n, tc.others, tc.differs)
			}
		})
	}
	golden.CheckCovered(t, dir, known)
}
