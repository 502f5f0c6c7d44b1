package pptp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

var goldenCases = []struct {
	file   string
	others string
	n      int
	check  func(t *testing.T, evs []*event.Event)
}{
	{"tcpdump__pptp.pcap", "tcpdump: SCCRQ, SCCRP, OCRQ CALL_ID(0) CALL_SER_NUM(30760), OCRP CALL_ID(0) PEER_CALL_ID(0) RESULT_CODE(1), SLI, then GREv1 call 0 LCP Conf-Request", 1,
		func(t *testing.T, evs []*event.Event) {
			s := evs[0].Summary
			want := map[string]any{"call_ids": []string{"0/0"}, "gre_flows": 1, "gre_packets_to_server": 1, "channels": []string{"control", "gre"},
				"version": "1.0", "detection": "content+port"}
			for k, w := range want {
				if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
					t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
				}
			}
			m := s.Get("messages").(map[string]int)
			for _, k := range []string{"Start-Control-Connection-Request", "Start-Control-Connection-Reply", "Outgoing-Call-Request", "Outgoing-Call-Reply", "Set-Link-Info"} {
				if m[k] != 1 {
					t.Errorf("messages[%s] = %d, want 1", k, m[k])
				}
			}
			if !strings.Contains(fmt.Sprint(s.Get("results")), "Outgoing-Call-Reply: connected") {
				t.Errorf("results %v", s.Get("results"))
			}
		}},
	{"ndpi__pptp.pcap", "nDPI: PPTP on TCP 191.101.61.1:1723", 1, func(t *testing.T, evs []*event.Event) {
		if evs[0].Server.String() != "191.101.61.1:1723" {
			t.Errorf("server %s", evs[0].Server)
		}
	}},
	{"flowcontainer__pptp_gre_only_midsession.pcap", "GRE only, call IDs 55936/2035", 1, func(t *testing.T, evs []*event.Event) {
		s := evs[0].Summary
		if fmt.Sprint(s.Get("gre_call_ids")) != "[2035 55936]" || s.Get("mppe") != true {
			t.Errorf("summary %v", s)
		}
	}},
	{"pcapplusplus__GREv1_pptp_frames_from_dat.pcap", "captures only: GREv1 with PPP CCP; the PPP/IP/UDP/DNS frame is inside IPv4-in-IPv6", 1, nil},
	{"arkime__6-4-gre-ppp-udp-4-dns.pcap", "Arkime: GRE/PPP inside IPv4-in-IPv6 (protocol 4 behind IPv6): not reached without decapsulation", 0, nil},
	{"zeek__gre-pptp.pcap", "Zeek: GRE/PPP inside IPv4-in-IPv6, DNS inside: not reached without decapsulation", 0, nil},
}

func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "pptp")
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
			if len(res.Events) != tc.n {
				t.Fatalf("%d events, want %d (%s)", len(res.Events), tc.n, tc.others)
			}
			if tc.check != nil {
				tc.check(t, res.Events)
			}
		})
	}
	golden.CheckCovered(t, dir, known)
}
