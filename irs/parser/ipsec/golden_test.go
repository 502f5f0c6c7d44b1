package ipsec

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCase: a public IPsec capture, what its source published, and
// the facts checked here.
type goldenCase struct {
	file   string
	others string
	check  func(t *testing.T, evs []*event.Event)
}

func channels(evs []*event.Event) map[string]int {
	m := map[string]int{}
	for _, ev := range evs {
		m[fmt.Sprint(ev.Summary.Get("channel"))]++
	}
	return m
}

func want(t *testing.T, evs []*event.Event, ch map[string]int) {
	t.Helper()
	if got := channels(evs); fmt.Sprint(got) != fmt.Sprint(ch) {
		t.Errorf("channels %v, want %v", got, ch)
	}
}

func summaryHas(t *testing.T, evs []*event.Event, key, sub string) {
	t.Helper()
	for _, ev := range evs {
		if strings.Contains(fmt.Sprint(ev.Summary.Get(key)), sub) {
			return
		}
	}
	t.Errorf("no event has %q in summary[%s]", sub, key)
}

var goldenCases = []goldenCase{
	{"arkime__IKEv1.pcap", "Arkime: isakmp + esp over IPv6", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"ike": 1, "esp": 1})
		summaryHas(t, evs, "exchanges", "Main Mode")
		summaryHas(t, evs, "ike_spis", "/")
	}},
	{"arkime__IKEv2.pcap", "Arkime: isakmp + esp over IPv6", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"ike": 1, "esp": 1})
		summaryHas(t, evs, "exchanges", "IKE_SA_INIT")
		summaryHas(t, evs, "note", "encrypted")
	}},
	{"arkime__ah-esp.pcap", "Arkime: ESP behind AH", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"esp": 1})
	}},
	{"arkime__ike-cert_synthetic.pcap", "Arkime: IKE with certificates, IPv4 NAT-T and IPv6", func(t *testing.T, evs []*event.Event) {
		if channels(evs)["ike"] < 2 {
			t.Errorf("channels %v, want IKE flows on 500 and 4500", channels(evs))
		}
		summaryHas(t, evs, "esp", "spi")
	}},
	{"arkime__wireshark-esp.pcap", "Arkime: ESP over IPv4 and IPv6, one sender to 12 peers each", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"esp": 24})
	}},
	{"flowcontainer__l2tp_over_ipsec_natt.pcap", "labelled L2TP; only NAT-T ESP on UDP 4500 is visible", func(t *testing.T, evs []*event.Event) {
		summaryHas(t, evs, "esp", "spi")
	}},
	{"ndpi__ah.pcapng", "nDPI: IPSec on UDP 500 and AH", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"ike": 1})
	}},
	{"ndpi__esp.pcapng", "nDPI: IPSec on UDP 500 and ESP", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"ike": 1, "esp": 1})
		summaryHas(t, evs, "ike_versions", "2")
	}},
	{"ndpi__ipsec_isakmp_esp.pcap", "nDPI: 24 IPSec flows on 500 and 4500 (ports 10500/14500 on the client)", func(t *testing.T, evs []*event.Event) {
		tuples := map[string]bool{}
		for _, ev := range evs {
			tuples[ev.Client.String()+" "+ev.Server.String()] = true
		}
		if n := len(tuples); n != 24 {
			t.Errorf("%d flows, want 24 as nDPI (idle timeouts split some into several events)", n)
		}
	}},
	{"pcapplusplus__ipsec.pcapng", "captures only: ESP over IPv6, ESP behind AH, ICMP behind AH", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"esp": 2})
	}},
	{"suricata-verify__IKEv2_SA_INIT_2-8-weak.pcap", "Suricata: ikev2 weak DH group alert (MODP_1024 offered)", func(t *testing.T, evs []*event.Event) {
		summaryHas(t, evs, "weak", "MODP_1024")
	}},
	{"suricata-verify__eve-flow-esp__input.pcap", "Suricata: ESP flows (v4 and v6) in eve flow records", func(t *testing.T, evs []*event.Event) {
		if channels(evs)["esp"] < 2 {
			t.Errorf("channels %v", channels(evs))
		}
	}},
	{"suricata-verify__ikev1-isakmp-main-mode.pcap", "Suricata: ikev1 main mode, transforms (AES-CBC, SHA2-256, PSK, MODP_2048...)", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"ike": 1})
		summaryHas(t, evs, "exchanges", "Main Mode")
		summaryHas(t, evs, "proposals", "AES-CBC")
	}},
	{"tcpdump__02-sunrise-sunset-esp.pcap", "tcpdump: ESP(spi=0x12345678,seq=1..8)", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"esp": 1})
		summaryHas(t, evs, "esp", "0x12345678")
	}},
	{"tcpdump__ISAKMP_sa_setup.pcap", "tcpdump: isakmp phase 1 identity protection", func(t *testing.T, evs []*event.Event) {
		want(t, evs, map[string]int{"ike": 1})
	}},
	{"tcpdump__espudp1.pcap", "tcpdump: UDP-encapsulated ESP on 4500", func(t *testing.T, evs []*event.Event) {
		summaryHas(t, evs, "esp", "spi")
	}},
	{"tcpdump__ikev2four.pcap", "tcpdump: ikev2 parent_sa ikev2_init, ikev2_auth", func(t *testing.T, evs []*event.Event) {
		summaryHas(t, evs, "exchanges", "IKE_AUTH")
		summaryHas(t, evs, "proposals", "ENCR_AES_CBC")
	}},
	{"tcpdump__isakmp4500.pcap", "tcpdump: NAT-T isakmp and ESP on 4500", func(t *testing.T, evs []*event.Event) {
		summaryHas(t, evs, "vendor_ids", "NAT-T")
	}},
	{"zeek__ip6_esp.pcap", "Zeek: ESP over IPv6", func(t *testing.T, evs []*event.Event) {
		if channels(evs)["esp"] < 1 {
			t.Errorf("channels %v", channels(evs))
		}
	}},
}

func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "ipsec")
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
			for _, ev := range res.Events {
				if ev.Type != TypeSession || ev.Protocol != protocol {
					t.Errorf("event %s/%s", ev.Protocol, ev.Type)
				}
			}
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
