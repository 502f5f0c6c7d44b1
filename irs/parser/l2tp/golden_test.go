package l2tp

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
	check  func(t *testing.T, evs []*event.Event)
}{
	{"packetnet__l2tp.pcap", "captures only: one L2TP data message (PPP LCP) on 1701/1701, inside PPPoE", func(t *testing.T, evs []*event.Event) {
		if len(evs) != 1 || evs[0].Summary.Get("detection") != "port-hint" || fmt.Sprint(evs[0].Summary.Get("data_sessions")) == "" {
			t.Fatalf("events %v, want one data-only session", evs)
		}
	}},
	{"tcpdump__l2tp-avp-overflow.pcap", "tcpdump: truncated control messages, AVP-#60963, ACCM (AVP too short) [|l2tp]", func(t *testing.T, evs []*event.Event) {
		// Every L2TP frame claims an IP length of 8752 or 12336 bytes with
		// far fewer captured: the engine's decoder counts them as
		// truncated and no datagram reaches a parser. The overflowing
		// AVPs themselves are covered by TestConversation and FuzzL2TP.
		if len(evs) != 0 {
			t.Errorf("%d events, want none", len(evs))
		}
	}},
}

func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "l2tp")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(Detector{})
			res := golden.Run(t, reg, parser.Options{}, filepath.Join(dir, tc.file))
			golden.Check(t, strings.TrimSuffix(tc.file, ".pcap"), res.Events)
			if tc.file == "tcpdump__l2tp-avp-overflow.pcap" && len(res.Stats.DecodeErrors) == 0 {
				t.Errorf("no decode errors counted: %+v", res.Stats)
			}
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
