//go:build integration

package icmp

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/irs/parser"
)

// TestLivePing pings the loopback addresses (IPv4 and IPv6) and one
// unreachable UDP port, captures the traffic with tcpdump and feeds it
// through the whole IRS pipeline.
func TestLivePing(t *testing.T) {
	ping, err := exec.LookPath("ping")
	if err != nil {
		t.Fatalf("integration: ping not installed: %v", err)
	}
	var closed int
	capFile := netlab.Capture(t, "lo", "icmp or icmp6", func() {
		for _, args := range [][]string{{"-4", "-c", "4", "-i", "0.2", "-s", "77", "127.0.0.1"}, {"-6", "-c", "3", "-i", "0.2", "-s", "100", "::1"}} {
			if out, err := exec.Command(ping, args...).CombinedOutput(); err != nil {
				t.Fatalf("ping %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		// a datagram to a closed port draws a port unreachable
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		d, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", closed))
		if err != nil {
			t.Fatal(err)
		}
		d.Write([]byte("anyone there?"))
		d.Close()
	})
	reg := parser.NewRegistry()
	reg.Add(Detector{})
	res := golden.Run(t, reg, parser.Options{}, capFile)
	if res.Err != nil {
		t.Fatalf("engine: %v", res.Err)
	}
	// other traffic on lo may show up too: look for ours by its sizes
	var v4, v6 int
	for _, ev := range byType(res.Events, TypeEcho) {
		switch {
		case ev.Summary.Get("requester") == "127.0.0.1" && ev.Summary.Get("payload_max") == 77:
			v4++
			checkSummary(t, ev, map[string]any{"requests": 4, "replies": 4, "lost": 0, "pattern": "incrementing", "tunnel_suspected": nil})
		case ev.Summary.Get("requester") == "::1" && ev.Summary.Get("payload_max") == 100:
			v6++
			checkSummary(t, ev, map[string]any{"requests": 3, "replies": 3, "lost": 0, "pattern": "incrementing", "tunnel_suspected": nil})
		default:
			continue
		}
		if ev.Summary.Get("rtt_max_ms") == nil {
			t.Errorf("%s: no round-trip time", ev.Subject)
		}
	}
	if v4 != 1 || v6 != 1 {
		t.Errorf("echo sessions: %d IPv4 and %d IPv6, want 1 and 1", v4, v6)
	}
	unreach := 0
	for _, ev := range byType(res.Events, TypeError) {
		if ev.Summary.Get("orig_dport") == uint16(closed) {
			unreach++
			checkSummary(t, ev, map[string]any{"type_name": "destination unreachable", "code_name": "port unreachable",
				"orig_proto": "udp", "orig_dst": "127.0.0.1"})
		}
	}
	if unreach != 1 {
		t.Errorf("got %d port unreachable errors for port %d, want 1", unreach, closed)
	}
	for _, ev := range res.Events {
		if ev.Type == TypeTunnel {
			t.Errorf("tunnel suspected in ordinary pings: %v", ev.Summary)
		}
	}
}
