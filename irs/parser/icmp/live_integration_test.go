//go:build integration

package icmp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// loopbackCapture records the loopback interface with tcpdump (filtered)
// while traffic runs, and returns the capture file.
func loopbackCapture(t *testing.T, filter string, traffic func()) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration: capturing on lo needs root")
	}
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Fatalf("integration: tcpdump not installed: %v", err)
	}
	path := filepath.Join(t.TempDir(), "lo.pcap")
	cmd := exec.Command(tcpdump, "-i", "lo", "-n", "-s", "0", "-B", "65536", "-U", "--immediate-mode", "-w", path, filter)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("integration: starting tcpdump: %v", err)
	}
	ready := make(chan error, 1)
	done := make(chan []string)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "listening on") {
				ready <- nil
			}
		}
		ready <- errors.New("tcpdump exited before listening")
		done <- lines
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("integration: %v: %s", err, strings.Join(<-done, "; "))
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("integration: tcpdump did not start listening within 10 s")
	}
	traffic()
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt)
	lines := <-done
	_ = cmd.Wait()
	t.Logf("tcpdump: %s", strings.Join(lines, "; "))
	return path
}

// TestLivePing pings the loopback addresses (IPv4 and IPv6) and one
// unreachable UDP port, captures the traffic with tcpdump and feeds it
// through the whole IRS pipeline.
func TestLivePing(t *testing.T) {
	ping, err := exec.LookPath("ping")
	if err != nil {
		t.Fatalf("integration: ping not installed: %v", err)
	}
	var closed int
	capFile := loopbackCapture(t, "icmp or icmp6", func() {
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
		case ev.Summary["requester"] == "127.0.0.1" && ev.Summary["payload_max"] == 77:
			v4++
			checkSummary(t, ev, map[string]any{"requests": 4, "replies": 4, "lost": 0, "pattern": "incrementing", "tunnel_suspected": nil})
		case ev.Summary["requester"] == "::1" && ev.Summary["payload_max"] == 100:
			v6++
			checkSummary(t, ev, map[string]any{"requests": 3, "replies": 3, "lost": 0, "pattern": "incrementing", "tunnel_suspected": nil})
		default:
			continue
		}
		if ev.Summary["rtt_max_ms"] == nil {
			t.Errorf("%s: no round-trip time", ev.Subject)
		}
	}
	if v4 != 1 || v6 != 1 {
		t.Errorf("echo sessions: %d IPv4 and %d IPv6, want 1 and 1", v4, v6)
	}
	unreach := 0
	for _, ev := range byType(res.Events, TypeError) {
		if ev.Summary["orig_dport"] == uint16(closed) {
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
