package icmp

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

var t0 = time.Unix(1700000000, 0).UTC()

func conn4() *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.ICMP, Client: netip.MustParseAddrPort("10.0.0.1:0"),
		Server: netip.MustParseAddrPort("10.0.0.2:0"), Start: t0}
}

func conn6() *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.ICMP, Client: netip.MustParseAddrPort("[2001:db8::1]:0"),
		Server: netip.MustParseAddrPort("[2001:db8::2]:0"), Start: t0}
}

// msg builds an ICMP message with a correct checksum (ICMPv6 over the
// pseudo header of src → dst).
func msg(c *parser.Conn, dir parser.Direction, typ, code uint8, rest []byte) []byte {
	m := append([]byte{typ, code, 0, 0}, rest...)
	f := &flow{c: c, v6: isV6(c)}
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	if f.v6 {
		src, dst := f.ends(dir)
		s, d := src.Addr().As16(), dst.Addr().As16()
		add(s[:])
		add(d[:])
		sum += uint32(len(m)) + 58
	}
	add(m)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(m[2:], ^uint16(sum))
	return m
}

func echo(c *parser.Conn, dir parser.Direction, typ uint8, id, seq uint16, data []byte) parsertest.Segment {
	rest := binary.BigEndian.AppendUint16(nil, id)
	rest = binary.BigEndian.AppendUint16(rest, seq)
	return parsertest.Segment{Dir: dir, Data: msg(c, dir, typ, 0, append(rest, data...))}
}

// linuxPayload is iputils' 56 bytes: a 16-byte timestamp then 0x10...
func linuxPayload(seq int) []byte {
	p := make([]byte, 56)
	binary.LittleEndian.PutUint64(p, uint64(1700000000+seq))
	for i := 16; i < 56; i++ {
		p[i] = byte(i)
	}
	return p
}

func randomPayload(i, n int) []byte {
	var out []byte
	for len(out) < n {
		h := sha256.Sum256([]byte{byte(i), byte(len(out))})
		out = append(out, h[:]...)
	}
	return out[:n]
}

func run(c *parser.Conn, segs []parsertest.Segment) (*parsertest.Env, []*event.Event) {
	return parsertest.Run(Detector{}, c, segs, parsertest.Whole, 0)
}

func byType(evs []*event.Event, typ string) []*event.Event {
	var out []*event.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func checkSummary(t *testing.T, ev *event.Event, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := ev.Summary.Lookup(k)
		if w == nil {
			if ok {
				t.Errorf("%s: summary[%q] = %v, want absent", ev.Type, k, g)
			}
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: summary[%q] = %v, want %v", ev.Type, k, g, w)
		}
	}
}

const (
	c2s = parser.ClientToServer
	s2c = parser.ServerToClient
)

func TestEchoSession(t *testing.T) {
	c := conn4()
	var segs []parsertest.Segment
	for seq := 1; seq <= 5; seq++ {
		segs = append(segs, echo(c, c2s, 8, 0x1234, uint16(seq), linuxPayload(seq)))
		if seq != 3 {
			segs = append(segs, echo(c, s2c, 0, 0x1234, uint16(seq), linuxPayload(seq)))
		}
	}
	segs = append(segs, echo(c, s2c, 0, 0x1234, 5, linuxPayload(5))) // duplicate
	_, evs := run(c, segs)
	if len(evs) != 1 || evs[0].Type != TypeEcho {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	ev := evs[0]
	// each segment is 1 ms after the previous: request→reply is 1 ms
	checkSummary(t, ev, map[string]any{"identifier": 0x1234, "requests": 5, "replies": 5, "lost": 1, "loss_pct": 20,
		"duplicates": 1, "rtt_min_ms": 1, "rtt_avg_ms": 1, "rtt_max_ms": 1, "pattern": "incrementing",
		"payload_min": 56, "payload_max": 56, "requester": "10.0.0.1", "responder": "10.0.0.2",
		"non_standard_payloads": 0, "tunnel_suspected": nil})
	if ev.Subject != "ping 10.0.0.1 → 10.0.0.2" || ev.Protocol != "icmp" || ev.Transport != "icmp" {
		t.Errorf("subject %q protocol %s transport %s", ev.Subject, ev.Protocol, ev.Transport)
	}
	if len(ev.Anomalies) != 0 {
		t.Errorf("anomalies: %v", ev.Anomalies)
	}
}

func TestEchoV6AndIdentifiers(t *testing.T) {
	c := conn6()
	win := []byte("abcdefghijklmnopqrstuvwabcdefghi")
	segs := []parsertest.Segment{
		echo(c, c2s, 128, 1, 1, win), echo(c, c2s, 128, 2, 1, linuxPayload(1)),
		echo(c, s2c, 129, 2, 1, linuxPayload(1)), echo(c, s2c, 129, 1, 1, win),
	}
	_, evs := run(c, segs)
	echoes := byType(evs, TypeEcho)
	if len(echoes) != 2 || len(evs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, echoes[0], map[string]any{"identifier": 1, "pattern": "repeating", "rtt_max_ms": 3, "lost": 0})
	checkSummary(t, echoes[1], map[string]any{"identifier": 2, "pattern": "incrementing", "rtt_max_ms": 1})
}

func TestRepliesOnly(t *testing.T) {
	c := conn4()
	if v := (Detector{}).IsRelative(c, c2s, []byte{0, 0, 0, 0}); v != parser.YesReversed {
		t.Errorf("IsRelative(echo reply from client) = %v, want YesReversed", v)
	}
	if v := (Detector{}).IsRelative(c, c2s, []byte{8, 0, 0, 0}); v != parser.Yes {
		t.Errorf("IsRelative(echo request) = %v, want Yes", v)
	}
	_, evs := run(c, []parsertest.Segment{echo(c, s2c, 0, 7, 1, linuxPayload(1)), echo(c, s2c, 0, 7, 2, linuxPayload(2))})
	checkSummary(t, evs[0], map[string]any{"requests": 0, "replies": 2, "replies_without_request": 2, "requester": "10.0.0.1"})
}

func udpHeader4(src, dst string, sport, dport uint16) []byte {
	b := make([]byte, 20)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], 60)
	b[8], b[9] = 1, 17
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	return append(b, 0, 40, 0, 0)
}

func tcpHeader6WithHopByHop(src, dst string, sport, dport uint16) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], 28)
	b[6], b[7] = 0, 64 // hop-by-hop first
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	b = append(b, 6, 0, 1, 4, 0, 0, 0, 0) // hop-by-hop: next TCP, 8 bytes
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	return append(b, 0, 0, 0, 1)
}

func TestErrors(t *testing.T) {
	c := conn4()
	tests := []struct {
		name    string
		c       *parser.Conn
		typ     uint8
		code    uint8
		rest    []byte
		subject string
		want    map[string]any
		anomaly string
	}{
		{"port unreachable", c, 3, 3, append([]byte{0, 0, 0, 0}, udpHeader4("10.0.0.1", "10.0.0.2", 59207, 53)...),
			"destination unreachable (port unreachable): udp 10.0.0.1:59207 → 10.0.0.2:53",
			map[string]any{"orig_proto": "udp", "orig_sport": 59207, "orig_dport": 53, "reporter": "10.0.0.2", "code_name": "port unreachable"}, ""},
		{"time exceeded", c, 11, 0, append([]byte{0, 0, 0, 0}, udpHeader4("10.0.0.2", "10.0.0.1", 30000, 13000)...),
			"time exceeded (TTL exceeded in transit): udp 10.0.0.2:30000 → 10.0.0.1:13000",
			map[string]any{"orig_src": "10.0.0.2", "orig_dst": "10.0.0.1"}, ""},
		{"fragmentation needed", c, 3, 4, append([]byte{0, 0, 0x05, 0xdc}, udpHeader4("10.0.0.1", "192.0.2.9", 1, 2)...),
			"", map[string]any{"mtu": 1500, "code_name": "fragmentation needed"}, ""},
		{"redirect", c, 5, 1, append([]byte{10, 0, 0, 254}, udpHeader4("10.0.0.1", "192.0.2.9", 1, 2)...),
			"", map[string]any{"gateway": "10.0.0.254", "type_name": "redirect"}, ""},
		{"quote cut", c, 3, 1, append([]byte{0, 0, 0, 0}, udpHeader4("10.0.0.1", "10.0.0.2", 1, 2)[:22]...),
			"", map[string]any{"orig_proto": "udp", "orig_sport": nil}, "too short for its transport header"},
		{"no quote", c, 3, 1, []byte{0, 0, 0, 0}, "destination unreachable (host unreachable)", nil, "no quoted datagram"},
		{"v6 packet too big", conn6(), 2, 0, append([]byte{0, 0, 0x05, 0x00}, tcpHeader6WithHopByHop("2001:db8::2", "2001:db8::9", 443, 50000)...),
			"packet too big: tcp [2001:db8::2]:443 → [2001:db8::9]:50000", map[string]any{"mtu": 1280, "orig_proto": "tcp"}, ""},
		{"v6 port unreachable", conn6(), 1, 4, append([]byte{0, 0, 0, 0}, tcpHeader6WithHopByHop("2001:db8::1", "2001:db8::2", 5, 6)...),
			"", map[string]any{"code_name": "port unreachable", "orig_dport": 6}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, evs := run(tc.c, []parsertest.Segment{{Dir: s2c, Data: msg(tc.c, s2c, tc.typ, tc.code, tc.rest)}})
			errs := byType(evs, TypeError)
			if len(errs) != 1 || len(evs) != 1 {
				t.Fatalf("events: %s", parsertest.Normalize(evs))
			}
			if tc.subject != "" && errs[0].Subject != tc.subject {
				t.Errorf("subject = %q, want %q", errs[0].Subject, tc.subject)
			}
			checkSummary(t, errs[0], tc.want)
			if tc.anomaly == "" && len(errs[0].Anomalies) > 0 || tc.anomaly != "" && (len(errs[0].Anomalies) == 0 || !strings.Contains(errs[0].Anomalies[0], tc.anomaly)) {
				t.Errorf("anomalies = %v, want %q", errs[0].Anomalies, tc.anomaly)
			}
		})
	}
}

func TestTunnel(t *testing.T) {
	c := conn4()
	innerIP := func(i int) []byte {
		p := udpHeader4("10.95.1.1", "10.95.1.2", 1000, 2000)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)+40))
		return append(p, randomPayload(i, 40)...)
	}
	tests := []struct {
		name   string
		segs   func() []parsertest.Segment
		reason string
	}{
		{"replies carry other data", func() (s []parsertest.Segment) {
			for i := 0; i < 5; i++ {
				s = append(s, echo(c, c2s, 8, 9, uint16(i), linuxPayload(i)), echo(c, s2c, 0, 9, uint16(i), randomPayload(i, 56)))
			}
			return
		}, "replies do not echo their requests' data"},
		{"IP packets inside, one sequence number", func() (s []parsertest.Segment) {
			for i := 0; i < 5; i++ {
				s = append(s, echo(c, c2s, 8, 0xfeff, 0, innerIP(i)))
			}
			return
		}, "payloads are IP packets"},
		{"random varying payloads", func() (s []parsertest.Segment) {
			for i := 0; i < 12; i++ {
				d := randomPayload(i, 64+i*10)
				s = append(s, echo(c, c2s, 8, 3, uint16(i), d), echo(c, s2c, 0, 3, uint16(i), d))
			}
			return
		}, "non-standard payloads varying in content, size or sequence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, evs := run(c, tc.segs())
			tun := byType(evs, TypeTunnel)
			if len(tun) != 1 {
				t.Fatalf("got %d tunnel events: %s", len(tun), parsertest.Normalize(evs))
			}
			if r := tun[0].Summary.Get("reasons").([]string); r[0] != tc.reason {
				t.Errorf("reasons = %v, want %q first", r, tc.reason)
			}
			checkSummary(t, byType(evs, TypeEcho)[0], map[string]any{"tunnel_suspected": true})
		})
	}
	t.Run("ordinary pings stay quiet", func(t *testing.T) {
		var segs []parsertest.Segment
		for i := 0; i < 50; i++ {
			big := make([]byte, 1400)
			for k := range big {
				big[k] = byte(k)
			}
			for _, d := range [][]byte{linuxPayload(i), []byte("abcdefghijklmnopqrstuvwabcdefghi"), big, make([]byte, 100), {0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0xcd}} {
				segs = append(segs, echo(c, c2s, 8, uint16(len(d)), uint16(i), d), echo(c, s2c, 0, uint16(len(d)), uint16(i), d))
			}
		}
		_, evs := run(c, segs)
		if tun := byType(evs, TypeTunnel); len(tun) != 0 {
			t.Errorf("false positive: %s", parsertest.Normalize(tun))
		}
		if n := len(byType(evs, TypeEcho)); n != 5 {
			t.Errorf("got %d echo sessions, want 5", n)
		}
	})
}

func TestClassify(t *testing.T) {
	mac := append([]byte{0x4f, 0x85, 0xe0, 0x43, 0, 0x0e, 0xeb, 0xff}, func() []byte {
		var b []byte
		for i := 8; i < 56; i++ {
			b = append(b, byte(i))
		}
		return b
	}()...)
	tests := []struct {
		name string
		p    []byte
		std  bool
		pat  string
	}{
		{"empty", nil, true, "empty"},
		{"short", []byte("12345678"), true, "short"},
		{"linux", linuxPayload(3), true, "incrementing"},
		{"macos", mac, true, "incrementing"},
		{"windows", []byte("abcdefghijklmnopqrstuvwabcdefghi"), true, "repeating"},
		{"zeros", make([]byte, 64), true, "zeros"},
		{"random", randomPayload(1, 64), false, "other"},
		{"text", []byte("GET /secret HTTP/1.1 Host: example"), false, "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			std, pat := classify(tc.p)
			if std != tc.std || pat != tc.pat {
				t.Errorf("classify = %v %q, want %v %q", std, pat, tc.std, tc.pat)
			}
		})
	}
}

func TestMalformedAndOther(t *testing.T) {
	c := conn4()
	bad := msg(c, c2s, 8, 0, []byte{0, 1, 0, 1, 'x'})
	bad[2] ^= 0xff
	_, evs := run(c, []parsertest.Segment{
		{Dir: c2s, Data: []byte{165, 0}},
		{Dir: c2s, Data: msg(c, c2s, 165, 0, nil)},
		{Dir: c2s, Data: msg(c, c2s, 13, 0, make([]byte, 16))},
		{Dir: c2s, Data: msg(c, c2s, 8, 0, []byte{0, 1})},
		{Dir: c2s, Data: bad},
	})
	other := byType(evs, TypeOther)
	if len(other) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	types := other[0].Summary.Get("types").(map[string]int)
	if types["type 165"] != 1 || types["timestamp"] != 1 || types["truncated"] != 1 || types["truncated echo"] != 1 {
		t.Errorf("type counts = %v", types)
	}
	for _, w := range []string{"shorter than its header", "unassigned ICMP type 165", "echo message of 6 bytes", "1 messages with a bad checksum"} {
		found := false
		for _, a := range other[0].Anomalies {
			found = found || strings.Contains(a, w)
		}
		if !found {
			t.Errorf("anomalies %v lack %q", other[0].Anomalies, w)
		}
	}
}

func TestSessionsBounded(t *testing.T) {
	c := conn4()
	env := parsertest.NewEnv()
	p := Detector{}.New(c, env)
	for id := 0; id < maxSessions+10; id++ {
		s := echo(c, c2s, 8, uint16(id), 1, nil)
		p.ProcessPacket(s.Dir, s.Data, t0)
	}
	if len(env.Events) != 10 {
		t.Errorf("%d sessions reported early, want the 10 pushed out by the cap", len(env.Events))
	}
	p.EndProcess(parser.EndIdle, t0)
	if len(env.Events) != maxSessions+10 {
		t.Errorf("%d sessions in all, want %d", len(env.Events), maxSessions+10)
	}
}

// TestHighEntropy: the bounds never change the answer entropy(b) >= limit
// gives, with the limit the tunnel test uses and limits at, just above
// and just below the payload's own entropy.
func TestHighEntropy(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var payloads [][]byte
	for _, n := range []int{1, 32, 33, 64, 100, 256, 512, 1400, 4096} {
		for _, alphabet := range []int{1, 2, 16, 64, 200, 256} {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Intn(alphabet))
			}
			payloads = append(payloads, b)
			u := make([]byte, n)
			for i := range u {
				u[i] = byte(i % alphabet)
			}
			payloads = append(payloads, u)
		}
	}
	for i, b := range payloads {
		h := entropy(b)
		limits := []float64{tunEntropyRatio * math.Log2(float64(min(len(b), 256))), h, math.Nextafter(h, 9), math.Nextafter(h, -1), h + 1e-10, h - 1e-10, 0, 8}
		for _, limit := range limits {
			if got, want := highEntropy(b, limit), h >= limit; got != want {
				t.Errorf("payload %d (%d bytes, entropy %v): highEntropy(limit %v) = %v, want %v", i, len(b), h, limit, got, want)
			}
		}
	}
}

// TestChecksumOK: messages of every length up to 70 bytes with a
// checksum made 16 bits at a time (msg) pass, over IPv4 and IPv6 in
// both directions, and fail with any one bit flipped (which the
// Internet checksum always detects).
func TestChecksumOK(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, c := range []*parser.Conn{conn4(), conn6()} {
		for _, dir := range []parser.Direction{parser.ClientToServer, parser.ServerToClient} {
			t.Run(fmt.Sprintf("%s/%s", c.Client.Addr(), dir), func(t *testing.T) {
				f := &flow{c: c, v6: isV6(c)}
				for n := 0; n <= 66; n++ {
					rest := make([]byte, n)
					rng.Read(rest)
					if n%5 == 0 {
						clear(rest)
					}
					m := msg(c, dir, 8, 0, rest)
					if !f.checksumOK(dir, m) {
						t.Fatalf("%d-byte message % x: want checksum OK, got not", len(m), m)
					}
					bit := rng.Intn(8 * len(m))
					m[bit/8] ^= 1 << (bit % 8)
					if f.checksumOK(dir, m) {
						t.Fatalf("%d-byte message % x with bit %d flipped: want a bad checksum, got OK", len(m), m, bit)
					}
				}
			})
		}
	}
}
