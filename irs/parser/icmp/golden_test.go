package icmp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCase is one public capture: what the other tools published for
// it, where sdnli differs and why, and the key facts checked here.
type goldenCase struct {
	file    string
	others  string // what Suricata, Zeek, nDPI or Arkime reported
	differs string // where sdnli differs, and why ("" when it agrees)
	check   func(t *testing.T, evs []*event.Event)
}

func oneOf(t *testing.T, evs []*event.Event, typ string) *event.Event {
	t.Helper()
	l := byType(evs, typ)
	if len(l) != 1 {
		t.Fatalf("got %d %s events, want 1", len(l), typ)
	}
	return l[0]
}

var goldenCases = []goldenCase{
	{"ndpi__icmp-tunnel.pcap",
		"nDPI: ICMP with risks 'Malformed Packet' (invalid ICMP checksum) and 'Susp Entropy' (5.703)",
		"the capture pauses for 145 s, longer than the 2-minute ICMP idle timeout, so the IRS sees two flows and reports each",
		func(t *testing.T, evs []*event.Event) {
			tun := byType(evs, TypeTunnel)
			if len(tun) != 2 {
				t.Fatalf("got %d tunnel events, want one per flow (2)", len(tun))
			}
			for _, ev := range tun {
				if r := ev.Summary.Get("reasons").([]string); r[0] != "payloads are IP packets" {
					t.Errorf("reasons = %v", r)
				}
			}
			bad := 0
			for _, ev := range byType(evs, TypeOther) {
				for _, a := range ev.Anomalies {
					var n int
					if _, err := fmt.Sscan(a, &n); err == nil && strings.Contains(a, "bad checksum") {
						bad += n
					}
				}
			}
			if bad != 863 {
				t.Errorf("%d messages with a bad checksum, want all 863 (as tshark and nDPI say)", bad)
			}
		}},
	{"ndpi__malformed_icmp.pcap",
		"nDPI: ICMP, 'Malformed Packet': invalid type (165)/code(0)",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := oneOf(t, evs, TypeOther)
			if ev.Summary.Get("types").(map[string]int)["type 165"] != 1 || len(ev.Anomalies) != 1 || !strings.Contains(ev.Anomalies[0], "type 165 code 0") {
				t.Errorf("summary %v anomalies %v", ev.Summary, ev.Anomalies)
			}
		}},
	{"suricata-verify__icmp_and_ssh.pcap",
		"Suricata: one ICMP flow next to the SSH one",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkSummary(t, oneOf(t, evs, TypeEcho), map[string]any{"requester": "192.168.0.30", "responder": "8.8.8.8",
				"requests": 20, "replies": 20, "lost": 0, "pattern": "incrementing"})
		}},
	{"suricata-verify__icmpv4-ping.pcap",
		"Suricata: 75 alerts on itype 8 (echo requests) and 75 on itype < 8 (replies)",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := oneOf(t, evs, TypeEcho)
			checkSummary(t, ev, map[string]any{"identifier": 52805, "requests": 75, "replies": 75, "lost": 0, "tunnel_suspected": nil})
			if len(evs) != 1 {
				t.Errorf("got %d events, want the echo session only", len(evs))
			}
		}},
	{"zeek__icmp-destunreach-udp.pcap",
		"Zeek: icmp_unreachable code 3, quoting udp 192.168.1.1:53 → 192.168.1.102:59207",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := oneOf(t, evs, TypeError)
			checkSummary(t, ev, map[string]any{"type": 3, "code": 3, "orig_proto": "udp", "orig_src": "192.168.1.1", "orig_sport": 53,
				"orig_dst": "192.168.1.102", "orig_dport": 59207})
		}},
	{"zeek__icmp-ping.pcap",
		"Zeek: echo request and reply, id 34844, seq 0 and 1, 56-byte payload (timestamp then 0x08, 0x09...)",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkSummary(t, oneOf(t, evs, TypeEcho), map[string]any{"identifier": 34844, "requests": 2, "replies": 2,
				"payload_min": 56, "pattern": "incrementing", "responder": "74.125.225.99"})
		}},
	{"zeek__icmp-timeexceeded.pcap",
		"Zeek: icmp_time_exceeded code 0, quoting udp 10.0.0.2:30000 → 10.0.0.1:13000",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := oneOf(t, evs, TypeError)
			checkSummary(t, ev, map[string]any{"type": 11, "code": 0, "orig_proto": "udp", "orig_src": "10.0.0.2", "orig_sport": 30000,
				"orig_dst": "10.0.0.1", "orig_dport": 13000})
		}},
}

// TestGolden runs the whole IRS pipeline over every public ICMP capture,
// compares the events with testdata/golden (regenerate with -update and
// review the diff) and checks the facts other tools published.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "icmp")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(Detector{})
			res := golden.Run(t, reg, parser.Options{}, filepath.Join(dir, tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			golden.Check(t, strings.TrimSuffix(tc.file, ".pcap"), res.Events)
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
