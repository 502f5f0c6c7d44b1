package tunnel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

func registry() *parser.Registry {
	reg := parser.NewRegistry()
	reg.Add(GRE{})
	reg.Add(IPIP{})
	reg.Add(SixInFour{})
	reg.Add(Teredo{})
	return reg
}

// protos counts events by protocol.
func protos(evs []*event.Event) string {
	m := map[string]int{}
	for _, ev := range evs {
		m[ev.Protocol]++
	}
	return fmt.Sprint(m)
}

func has(t *testing.T, evs []*event.Event, key, sub string) {
	t.Helper()
	for _, ev := range evs {
		if strings.Contains(fmt.Sprint(ev.Summary.Get(key)), sub) {
			return
		}
	}
	t.Errorf("no event has %q in summary[%s]", sub, key)
}

var goldenCases = []struct {
	dir, file string
	others    string
	protos    string
	check     func(t *testing.T, evs []*event.Event)
}{
	{"gre", "ndpi__gre.pcapng", "nDPI: SIP inside GRE (VLAN 142), decapsulated; the GRE is version 1 (PPTP, 0x880b): irs/parser/pptp claims it", "map[]", nil},
	{"gre", "pcapplusplus__GrePackets.pcap", "captures only: GRE with IPv4, Ethernet and GRE-in-IPv6 payloads", "map[gre:3 ipip:1]", nil},
	{"gre", "suricata-verify__gre-sample.pcap", "Suricata: flows inside GRE decapsulated (bug 5633)", "map[gre:1]", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "inner_protocols", "IPv4")
	}},
	{"gre", "suricata-verify__gre-udp.pcap", "Suricata: UDP inside GRE", "map[gre:1]", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "inner_transports", "udp")
	}},
	{"gre", "zeek__gre-sample.pcap", "Zeek tunnel.log: Tunnel::GRE 72.205.54.70 ↔ 86.106.164.150, DNS and SSH inside", "map[gre:1]", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "inner_transports", "tcp")
	}},
	{"tunnel_misc", "ndpi__4in4tunnel.pcap", "nDPI: the inner UDP flow 10.10.100.25 → 10.10.101.2:17000 (decapsulated); its 5 packets are more than 2 minutes apart, so the IRS reports 5 idle-separated tunnel flows", "map[ipip:5]", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "inner_pairs", "10.10.100.25 → 10.10.101.2")
	}},
	{"tunnel_misc", "ndpi__6in4tunnel.pcap", "nDPI: inner TLS, HTTP, DNS, ICMPv6 over 6in4 (decapsulated)", "map[6in4:1]", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "inner_transports", "tcp")
	}},
	{"tunnel_misc", "ndpi__teredo.pcap", "nDPI: Teredo on UDP 3544", "", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "teredo_addresses", "server")
	}},
	{"tunnel_misc", "zeek__Teredo.pcap", "Zeek tunnel.log: Tunnel::TEREDO, HTTP inside", "", func(t *testing.T, evs []*event.Event) {
		has(t, evs, "inner_transports", "tcp")
	}},
	{"tunnel_misc", "arkime__pppoe.pcap", "Arkime: PPPoE (not a tunnel flow: decoded by the engine)", "map[]", nil},
	{"tunnel_misc", "arkime__socks5-reverse.pcap", "Arkime: SOCKS5 (a proxy, not a tunnel parser here)", "map[]", nil},
}

func TestGolden(t *testing.T) {
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.dir+"/"+tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			res := golden.Run(t, registry(), parser.Options{}, filepath.Join(golden.SharedPcaps(t, tc.dir), tc.file))
			golden.Check(t, strings.TrimSuffix(strings.TrimSuffix(tc.file, ".pcap"), ".pcapng"), res.Events)
			if tc.protos != "" && protos(res.Events) != tc.protos {
				t.Errorf("events by protocol %s, want %s (%s)", protos(res.Events), tc.protos, tc.others)
			}
			for _, ev := range res.Events {
				if ev.Type != TypeTunnel {
					t.Errorf("event type %q", ev.Type)
				}
			}
			if tc.check != nil {
				tc.check(t, res.Events)
			}
		})
	}
	for _, d := range []string{"gre", "tunnel_misc"} {
		ents, err := os.ReadDir(golden.SharedPcaps(t, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if n := e.Name(); (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")) && !known[d+"/"+n] {
				t.Errorf("capture %s/%s has no golden case: add one", d, n)
			}
		}
	}
}
