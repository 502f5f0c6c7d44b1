//go:build integration

package dns

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// answer builds the response of the test server: A for www.example.org,
// TXT for txt.example.org, an empty TXT for the tunnel domain, NXDOMAIN
// for anything else.
func answer(t *testing.T, req []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	name := strings.ToLower(q.Name.String())
	switch {
	case name == "www.example.org." || name == "txt.example.org." || strings.HasSuffix(name, ".t.example.net."):
	default:
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch {
	case name == "www.example.org." && q.Type == dnsmessage.TypeA:
		b.AResource(hdr, dnsmessage.AResource{A: [4]byte{192, 0, 2, 80}})
	case name == "txt.example.org.":
		b.TXTResource(hdr, dnsmessage.TXTResource{TXT: []string{"v=spf1 -all"}})
	}
	out, err := b.Finish()
	if err != nil {
		t.Errorf("test server: %v", err)
	}
	return out
}

// startServer serves DNS on one port over UDP and TCP.
func startServer(t *testing.T) (int, func()) {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			break
		}
		pc.Close()
	}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(t, buf[:n]); resp != nil {
				pc.WriteTo(resp, addr)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					var l [2]byte
					if _, err := io.ReadFull(c, l[:]); err != nil {
						return
					}
					req := make([]byte, binary.BigEndian.Uint16(l[:]))
					if _, err := io.ReadFull(c, req); err != nil {
						return
					}
					resp := answer(t, req)
					c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
				}
			}()
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port, func() { pc.Close(); ln.Close() }
}

// TestLiveDNS runs dig against a DNS server on loopback over UDP and TCP,
// captures the traffic with tcpdump and feeds it through the whole IRS
// pipeline, including a burst of tunnel-like queries.
func TestLiveDNS(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Fatalf("integration: dig not installed: %v", err)
	}
	port, stop := startServer(t)
	defer stop()
	digRun := func(args ...string) string {
		args = append([]string{"@127.0.0.1", "-p", fmt.Sprint(port), "+tries=1", "+time=3"}, args...)
		out, err := exec.Command(dig, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var tunnel []string
	for i := 0; i < 15; i++ {
		h := sha256.Sum256([]byte{byte(i)})
		label := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:]))[:40]
		tunnel = append(tunnel, label+".t.example.net", "TXT")
	}
	capFile := netlab.Capture(t, "lo", fmt.Sprintf("port %d", port), func() {
		digRun("www.example.org", "A")
		digRun("+tcp", "txt.example.org", "TXT")
		digRun("nx.example.org", "AAAA")
		digRun(tunnel...)
	})
	reg := parser.NewRegistry()
	reg.Add(NewDetector())
	res := golden.Run(t, reg, parser.Options{}, capFile)
	if res.Err != nil {
		t.Fatalf("engine: %v", res.Err)
	}
	got := map[string]*event.Event{}
	for _, ev := range byType(res.Events, TypeQuery) {
		got[ev.Subject+" "+ev.Summary.Get("qtype").(string)] = ev
	}
	ev := got["www.example.org A"]
	if ev == nil {
		t.Fatalf("no www.example.org A pair; have %d pairs", len(got))
	}
	checkSummary(t, ev, map[string]any{"answers": []string{"A 192.0.2.80"}, "rcode": "NOERROR", "flags": "qr aa rd", "unanswered": nil})
	if ev.Summary.Get("edns_udp_size") == nil {
		t.Errorf("dig's EDNS not seen: %v", ev.Summary)
	}
	ev = got["txt.example.org TXT"]
	if ev == nil || ev.Transport != "tcp" {
		t.Fatalf("no TXT pair over TCP: %v", ev)
	}
	checkSummary(t, ev, map[string]any{"answers": []string{`TXT "v=spf1 -all"`}})
	checkSummary(t, got["nx.example.org AAAA"], map[string]any{"rcode": "NXDOMAIN"})
	if len(got) != 18 {
		t.Errorf("got %d pairs, want 18", len(got))
	}
	tun := byType(res.Events, TypeTunnel)
	if len(tun) != 1 || tun[0].Subject != "example.net" || tun[0].Summary.Get("client") != "127.0.0.1" {
		t.Errorf("tunnel events: %v", tun)
	}
	for _, ev := range res.Events {
		if len(ev.Anomalies) > 0 {
			t.Errorf("%s %s: anomalies %v", ev.Type, ev.Subject, ev.Anomalies)
		}
	}
}
