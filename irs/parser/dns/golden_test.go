package dns

import (
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

// pairs counts the dns-query events that had a query, a response, both.
func pairs(evs []*event.Event) (queries, responses, both int) {
	for _, e := range byType(evs, TypeQuery) {
		q := e.Summary.Get("query_not_seen") == nil
		r := e.Summary.Get("unanswered") == nil
		if q {
			queries++
		}
		if r {
			responses++
		}
		if q && r {
			both++
		}
	}
	return
}

func checkPairs(t *testing.T, evs []*event.Event, queries, responses int) {
	t.Helper()
	q, r, _ := pairs(evs)
	if q != queries || r != responses {
		t.Errorf("saw %d queries and %d responses, want %d and %d", q, r, queries, responses)
	}
}

var goldenCases = []goldenCase{
	{"arkime__dns-tcp.pcap",
		"Arkime: DNS over TCP for google.com and aol.com; Suricata: 2 queries, 2 answers",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 2, 2)
			ev := byType(evs, TypeQuery)[0]
			if ev.Transport != "tcp" || ev.Subject != "google.com" {
				t.Errorf("first pair %s over %s", ev.Subject, ev.Transport)
			}
			if a := ev.Summary.Get("answers").([]string); len(a) == 0 || a[0] != "A 74.125.228.46" {
				t.Errorf("answers = %v", a)
			}
		}},
	{"arkime__dns-udp.pcap",
		"Arkime: www.github.com (CNAME github.com) twice and a multicast PTR/ANY query; Suricata: 3 queries, 2 answers",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 3, 2)
			ev := byType(evs, TypeQuery)[0]
			checkSummary(t, ev, map[string]any{"query": "www.github.com", "answers": []string{"CNAME github.com", "github.com A 192.30.252.128"}})
		}},
	{"ndpi__dns-tunnel-iodine.pcap",
		"nDPI: DNS with risk 'Susp DNS Traffic' (iodine to pirate.sea over NULL records); Suricata: 222 queries, 212 answers",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 222, 212)
			tun := byType(evs, TypeTunnel)
			if len(tun) != 1 {
				t.Fatalf("got %d tunnel events, want 1", len(tun))
			}
			checkSummary(t, tun[0], map[string]any{"base_domain": "pirate.sea", "client": "10.0.2.30"})
		}},
	{"ndpi__dns.pcap",
		"nDPI: DNS flows for www.example.com and e7.whatsapp.net; Suricata: 2 queries, 2 answers",
		"the response for www.l.google.com is reported with query_not_seen (its query precedes the capture); " +
			"the e7.whatsapp.net exchange travels in PPPoE inside QinQ frames, which the decoder unwraps",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 2, 3)
			found := false
			for _, ev := range evs {
				if strings.Contains(ev.Subject, "e7.whatsapp.net") {
					found = true
				}
			}
			if !found {
				t.Error("no event for e7.whatsapp.net (carried in PPPoE inside QinQ)")
			}
		}},
	{"ndpi__dns2tcp_tunnel.pcap",
		"nDPI and Suricata: one TLS flow to 1.1.1.1:443 (DNS over HTTPS, despite the name)",
		"",
		func(t *testing.T, evs []*event.Event) {
			if len(evs) != 0 {
				t.Errorf("got %d events from a TLS-only capture", len(evs))
			}
		}},
	{"ndpi__dns_fragmented.pcap",
		"nDPI: DNSSEC answers in IP fragments and over TCP; Suricata: 22 queries, 21 answers, 2 TCP flows",
		"",
		func(t *testing.T, evs []*event.Event) {
			q, r, _ := pairs(evs)
			if q != 22 || r < 21 {
				t.Errorf("saw %d queries and %d responses, want 22 and at least Suricata's 21", q, r)
			}
			tcp := 0
			for _, ev := range byType(evs, TypeQuery) {
				if ev.Transport == "tcp" {
					tcp++
				}
			}
			if tcp != 2 {
				t.Errorf("%d exchanges over TCP, want 2", tcp)
			}
		}},
	{"ndpi__malformed_dns.pcap",
		"nDPI: DNS with a malformed packet; Suricata: 2 queries, 4 answers, 8 anomaly events",
		"sdnli pairs the first response to each query by its ID (its second question holds a name over 255 bytes) and reports the retransmitted copies as dns-malformed",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 2, 2)
			if n := len(byType(evs, TypeMalformed)); n != 2 {
				t.Errorf("got %d dns-malformed events, want 2", n)
			}
			for _, ev := range byType(evs, TypeQuery) {
				if len(ev.Anomalies) != 1 || !strings.Contains(ev.Anomalies[0], "longer than 255") {
					t.Errorf("pair anomalies = %v", ev.Anomalies)
				}
			}
		}},
	{"suricata-verify__dns-eve__input.pcap",
		"Suricata: 4 queries, 4 answers",
		"",
		func(t *testing.T, evs []*event.Event) { checkPairs(t, evs, 4, 4) }},
	{"suricata-verify__dns-tcp-multirequest-buffer.pcap",
		"Suricata: 20 requests and 20 responses in one TCP connection, several requests per segment",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 20, 20)
			for _, ev := range byType(evs, TypeQuery) {
				if ev.Transport != "tcp" || ev.Summary.Get("rcode") != "NXDOMAIN" {
					t.Errorf("%s over %s: rcode %v", ev.Subject, ev.Transport, ev.Summary.Get("rcode"))
				}
			}
		}},
	{"suricata-verify__dns-udp-double-request-response.pcap",
		"Suricata: 2 requests back to back, then 2 responses; none lost",
		"",
		func(t *testing.T, evs []*event.Event) { checkPairs(t, evs, 2, 2) }},
	{"zeek__dns-binds.pcap",
		"Zeek dns.log: example.net qtype 65534, NOERROR, AA RD RA, rtt 0.002004, 16 answers 'BIND9 signing signal'",
		"sdnli shows the private type as TYPE65534 with its data in hex, where Zeek names BIND's use of it",
		func(t *testing.T, evs []*event.Event) {
			checkPairs(t, evs, 1, 1)
			ev := byType(evs, TypeQuery)[0]
			checkSummary(t, ev, map[string]any{"query": "example.net", "qtype": "TYPE65534", "rcode": "NOERROR",
				"flags": "qr aa rd ra", "rtt_ms": 2.004, "answer_count": 16})
		}},
}

// TestGolden runs the whole IRS pipeline over every public DNS capture,
// compares the events with testdata/golden (regenerate with -update and
// review the diff) and checks the facts other tools published.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "dns")
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
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
