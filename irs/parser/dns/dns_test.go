package dns

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

var t0 = time.Unix(1700000000, 0).UTC()

func udpConn() *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.UDP, Client: netip.MustParseAddrPort("192.0.2.10:53000"),
		Server: netip.MustParseAddrPort("192.0.2.53:53"), Start: t0}
}

func tcpConn() *parser.Conn {
	c := udpConn()
	c.Transport = parser.TCP
	return c
}

// build makes a message with x/net's encoder, an independent
// implementation, with compression on.
func build(t testing.TB, h dnsmessage.Header, q []dnsmessage.Question, answers ...dnsmessage.Resource) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, h)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	for _, x := range q {
		if err := b.Question(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.StartAnswers(); err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		var err error
		switch body := a.Body.(type) {
		case *dnsmessage.AResource:
			err = b.AResource(a.Header, *body)
		case *dnsmessage.AAAAResource:
			err = b.AAAAResource(a.Header, *body)
		case *dnsmessage.CNAMEResource:
			err = b.CNAMEResource(a.Header, *body)
		case *dnsmessage.NSResource:
			err = b.NSResource(a.Header, *body)
		case *dnsmessage.MXResource:
			err = b.MXResource(a.Header, *body)
		case *dnsmessage.TXTResource:
			err = b.TXTResource(a.Header, *body)
		case *dnsmessage.PTRResource:
			err = b.PTRResource(a.Header, *body)
		case *dnsmessage.SOAResource:
			err = b.SOAResource(a.Header, *body)
		case *dnsmessage.SRVResource:
			err = b.SRVResource(a.Header, *body)
		case *dnsmessage.UnknownResource:
			err = b.UnknownResource(a.Header, *body)
		default:
			t.Fatalf("unsupported body %T", body)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func name(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }

func q(n string, typ dnsmessage.Type) []dnsmessage.Question {
	return []dnsmessage.Question{{Name: name(n), Type: typ, Class: dnsmessage.ClassINET}}
}

func rh(n string, typ dnsmessage.Type) dnsmessage.ResourceHeader {
	return dnsmessage.ResourceHeader{Name: name(n), Type: typ, Class: dnsmessage.ClassINET, TTL: 300}
}

func queryMsg(t testing.TB, id uint16, n string, typ dnsmessage.Type) []byte {
	return build(t, dnsmessage.Header{ID: id, RecursionDesired: true}, q(n, typ))
}

func respMsg(t testing.TB, id uint16, n string, typ dnsmessage.Type, answers ...dnsmessage.Resource) []byte {
	return build(t, dnsmessage.Header{ID: id, Response: true, RecursionDesired: true, RecursionAvailable: true}, q(n, typ), answers...)
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

func byType(evs []*event.Event, typ string) []*event.Event {
	var out []*event.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// udp runs datagrams through a new flow parser.
func udp(det *Detector, segs ...parsertest.Segment) []*event.Event {
	_, evs := parsertest.Run(det, udpConn(), segs, parsertest.Whole, 0)
	return evs
}

func cq(b []byte) parsertest.Segment { return parsertest.Segment{Dir: parser.ClientToServer, Data: b} }
func sr(b []byte) parsertest.Segment { return parsertest.Segment{Dir: parser.ServerToClient, Data: b} }

func httpsRData() []byte {
	// priority 1, target ".", alpn=h2,h3, port=443, ipv4hint=192.0.2.1
	b := []byte{0, 1, 0}
	b = append(b, 0, 1, 0, 6, 2, 'h', '2', 2, 'h', '3')
	b = append(b, 0, 3, 0, 2, 0x01, 0xbb)
	b = append(b, 0, 4, 0, 4, 192, 0, 2, 1)
	return b
}

func TestRecordTypes(t *testing.T) {
	n := "www.example.org."
	answers := []dnsmessage.Resource{
		{Header: rh(n, dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: name("edge.example.net.")}},
		{Header: rh("edge.example.net.", dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, 7}}},
		{Header: rh("edge.example.net.", dnsmessage.TypeAAAA), Body: &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("2001:db8::7").As16()}},
		{Header: rh(n, dnsmessage.TypeNS), Body: &dnsmessage.NSResource{NS: name("ns1.example.org.")}},
		{Header: rh(n, dnsmessage.TypeMX), Body: &dnsmessage.MXResource{Pref: 10, MX: name("mx.example.org.")}},
		{Header: rh(n, dnsmessage.TypeTXT), Body: &dnsmessage.TXTResource{TXT: []string{"v=spf1 -all", "two"}}},
		{Header: rh(n, dnsmessage.TypePTR), Body: &dnsmessage.PTRResource{PTR: name("host.example.org.")}},
		{Header: rh(n, dnsmessage.TypeSOA), Body: &dnsmessage.SOAResource{NS: name("ns1.example.org."), MBox: name("hostmaster.example.org."), Serial: 2024010101}},
		{Header: rh(n, dnsmessage.TypeSRV), Body: &dnsmessage.SRVResource{Priority: 1, Weight: 5, Port: 5060, Target: name("sip.example.org.")}},
		{Header: rh(n, 65), Body: &dnsmessage.UnknownResource{Type: 65, Data: httpsRData()}},
		{Header: rh(n, 10), Body: &dnsmessage.UnknownResource{Type: 10, Data: []byte{0xde, 0xad, 0xbe, 0xef}}},
		{Header: rh(n, 257), Body: &dnsmessage.UnknownResource{Type: 257, Data: append([]byte{0, 5}, "issueletsencrypt.org"...)}},
		{Header: rh(n, 10), Body: &dnsmessage.UnknownResource{Type: 10, Data: []byte("0123456789abcdefXYZ")}},
		{Header: rh(n, 10), Body: &dnsmessage.UnknownResource{Type: 10, Data: []byte{}}},
		{Header: rh(n, 65534), Body: &dnsmessage.UnknownResource{Type: 65534, Data: []byte("0123456789abcdef0123456789ABCDEF+-")}},
	}
	m := decode(respMsg(t, 7, n, dnsmessage.TypeA, answers...))
	if m.err != nil {
		t.Fatalf("decode: %v in %s", m.err, m.errWhere)
	}
	want := []string{
		"CNAME edge.example.net",
		"A 192.0.2.7",
		"AAAA 2001:db8::7",
		"NS ns1.example.org",
		"MX 10 mx.example.org",
		`TXT "v=spf1 -all" "two"`,
		"PTR host.example.org",
		"SOA ns1.example.org hostmaster.example.org 2024010101",
		"SRV 1 5 5060 sip.example.org",
		"HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1",
		"NULL 4 bytes deadbeef",
		`CAA 0 issue "letsencrypt.org"`,
		"NULL 19 bytes 30313233343536373839616263646566",
		"NULL 0 bytes ",
		`TYPE65534 \# 34 3031323334353637383961626364656630313233343536373839414243444546`,
	}
	if len(m.answers) != len(want) {
		t.Fatalf("decoded %d answers, want %d", len(m.answers), len(want))
	}
	for i, a := range m.answers {
		if got := typeName(a.typ) + " " + a.text; got != want[i] {
			t.Errorf("answer %d = %q, want %q", i, got, want[i])
		}
	}
}

func TestEDNSClientSubnet(t *testing.T) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 9, RecursionDesired: true})
	b.StartQuestions()
	b.Question(q("a.example.", dnsmessage.TypeA)[0])
	b.StartAdditionals()
	var opt dnsmessage.ResourceHeader
	opt.SetEDNS0(1232, dnsmessage.RCodeSuccess, true)
	b.OPTResource(opt, dnsmessage.OPTResource{Options: []dnsmessage.Option{{Code: 8, Data: []byte{0, 1, 24, 0, 198, 51, 100}}}})
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	evs := udp(NewDetector(), cq(msg), sr(respMsg(t, 9, "a.example.", dnsmessage.TypeA)))
	if len(evs) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, evs[0], map[string]any{"edns_udp_size": 1232, "dnssec_ok": true, "client_subnet": "198.51.100.0/24"})
}

// raw builds a message by hand: a header, then body bytes.
func raw(id uint16, flags uint16, qd, an uint16, body ...byte) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, id)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], qd)
	binary.BigEndian.PutUint16(b[6:], an)
	return append(b, body...)
}

func TestMalformed(t *testing.T) {
	long := []byte{}
	for i := 0; i < 5; i++ {
		long = append(long, 63)
		long = append(long, []byte(strings.Repeat("a", 63))...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	tests := []struct {
		name string
		msg  []byte
		err  error
	}{
		{"short header", []byte{1, 2, 3}, errShort},
		{"self pointer", raw(1, 0, 1, 0, 0xc0, 12, 0, 1, 0, 1), errPtrLoop},
		{"forward pointer", raw(1, 0, 1, 0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1), errPtrLoop},
		{"two-pointer loop", raw(1, 0x8000, 1, 1, 1, 'a', 0, 0, 1, 0, 1,
			/* answer name at 19: label b then pointer to 22 (itself) */ 1, 'b', 0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4), errPtrLoop},
		{"name too long", raw(1, 0, 1, 0, long...), errNameTooLong},
		{"truncated name", raw(1, 0, 1, 0, 5, 'a', 'b'), errTruncName},
		{"reserved label type", raw(1, 0, 1, 0, 0x40, 0, 0, 1, 0, 1), errLabelType},
		{"rdata past end", raw(1, 0x8000, 1, 1, 1, 'a', 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1, 2), errTruncRR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := decode(tc.msg)
			if m.err != tc.err {
				t.Errorf("decode error = %v (%s), want %v", m.err, m.errWhere, tc.err)
			}
		})
	}
	// a bad A length is reported with its record
	m := decode(raw(1, 0x8000, 1, 1, 1, 'a', 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3))
	if m.err == nil || !strings.Contains(m.err.Error(), "A record of a") || len(m.questions) != 1 {
		t.Errorf("bad A record: err %v, questions %d", m.err, len(m.questions))
	}
}

func TestMalformedEvents(t *testing.T) {
	loopResp := raw(5, 0x8180, 1, 1, 1, 'a', 0, 0, 1, 0, 1, 1, 'b', 0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4)
	evs := udp(NewDetector(),
		cq(queryMsg(t, 5, "a.", dnsmessage.TypeA)), sr(loopResp),
		cq([]byte{0xde, 0xad}),
		cq(raw(6, 0, 1, 0, 0xc0, 12, 0, 1, 0, 1)))
	pairs := byType(evs, TypeQuery)
	if len(pairs) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, pairs[0], map[string]any{"query": "a", "rcode": "NOERROR"})
	if len(pairs[0].Anomalies) != 1 || !strings.Contains(pairs[0].Anomalies[0], "answer section: compression pointer loop") {
		t.Errorf("pair anomalies = %v", pairs[0].Anomalies)
	}
	bad := byType(evs, TypeMalformed)
	if len(bad) != 2 {
		t.Fatalf("got %d malformed events, want 2: %s", len(bad), parsertest.Normalize(evs))
	}
	checkSummary(t, bad[0], map[string]any{"size": 2, "error": "header section: message shorter than its header"})
	checkSummary(t, bad[1], map[string]any{"id": 6})
}

func TestUDPPairing(t *testing.T) {
	det := NewDetector()
	evs := udp(det,
		cq(queryMsg(t, 0x1111, "www.example.com.", dnsmessage.TypeA)),
		cq(queryMsg(t, 0x2222, "www.example.com.", dnsmessage.TypeAAAA)),
		sr(respMsg(t, 0x2222, "www.example.com.", dnsmessage.TypeAAAA,
			dnsmessage.Resource{Header: rh("www.example.com.", dnsmessage.TypeAAAA), Body: &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("2001:db8::1").As16()}})),
		sr(respMsg(t, 0x1111, "WWW.Example.com.", dnsmessage.TypeA,
			dnsmessage.Resource{Header: rh("www.example.com.", dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}}})),
		cq(queryMsg(t, 0x3333, "lost.example.com.", dnsmessage.TypeMX)),
		sr(respMsg(t, 0x4444, "unsolicited.example.", dnsmessage.TypeA)),
		cq(queryMsg(t, 0x5555, "nx.example.", dnsmessage.TypeA)),
		sr(build(t, dnsmessage.Header{ID: 0x5555, Response: true, RCode: dnsmessage.RCodeNameError}, nil)),
	)
	pairs := byType(evs, TypeQuery)
	if len(pairs) != 5 {
		t.Fatalf("got %d dns-query events, want 5: %s", len(pairs), parsertest.Normalize(evs))
	}
	checkSummary(t, pairs[0], map[string]any{"id": 0x2222, "qtype": "AAAA", "answers": []string{"AAAA 2001:db8::1"}, "rcode": "NOERROR", "rtt_ms": 1})
	checkSummary(t, pairs[1], map[string]any{"id": 0x1111, "qtype": "A", "answers": []string{"A 192.0.2.1"}, "ttls": []uint32{300},
		"flags": "qr rd ra", "query_flags": "rd", "rtt_ms": 3, "answer_count": 1})
	if pairs[1].Subject != "www.example.com" || !pairs[1].Start.Equal(t0) || !pairs[1].End.Equal(t0.Add(3*time.Millisecond)) {
		t.Errorf("pair subject %q, time %v..%v", pairs[1].Subject, pairs[1].Start, pairs[1].End)
	}
	checkSummary(t, pairs[2], map[string]any{"query": "unsolicited.example", "query_not_seen": true})
	checkSummary(t, pairs[3], map[string]any{"query": "nx.example", "rcode": "NXDOMAIN"})
	checkSummary(t, pairs[4], map[string]any{"query": "lost.example.com", "qtype": "MX", "unanswered": true, "rcode": nil})
	for _, ev := range pairs {
		if ev.Protocol != "dns" || ev.Transport != "udp" {
			t.Errorf("protocol/transport = %s/%s", ev.Protocol, ev.Transport)
		}
	}
}

func TestDoubleRequestThenResponses(t *testing.T) {
	// two identical requests then two responses: each pairs in order
	qm := queryMsg(t, 77, "dup.example.", dnsmessage.TypeA)
	rm := respMsg(t, 77, "dup.example.", dnsmessage.TypeA)
	evs := udp(NewDetector(), cq(qm), cq(qm), sr(rm), sr(rm))
	pairs := byType(evs, TypeQuery)
	if len(pairs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	for i, ev := range pairs {
		if ev.Summary.Get("unanswered") != nil || ev.Summary.Get("query_not_seen") != nil {
			t.Errorf("pair %d not matched: %v", i, ev.Summary)
		}
	}
}

func TestPendingTimeout(t *testing.T) {
	env := parsertest.NewEnv()
	p := NewDetector().New(udpConn(), env)
	p.ProcessPacket(parser.ClientToServer, queryMsg(t, 1, "a.example.", dnsmessage.TypeA), t0)
	p.ProcessPacket(parser.ClientToServer, queryMsg(t, 2, "b.example.", dnsmessage.TypeA), t0.Add(pendingTimeout+time.Second))
	if len(env.Events) != 1 || env.Events[0].Summary.Get("unanswered") != true || env.Events[0].Subject != "a.example" {
		t.Fatalf("after the timeout: %s", parsertest.Normalize(env.Events))
	}
	p.EndProcess(parser.EndIdle, t0.Add(time.Hour))
	if len(env.Events) != 2 || env.Events[1].Subject != "b.example" {
		t.Fatalf("at the end: %s", parsertest.Normalize(env.Events))
	}
}

func tcpFrame(b []byte) string {
	return string(binary.BigEndian.AppendUint16(nil, uint16(len(b)))) + string(b)
}

func TestTCPSplits(t *testing.T) {
	var cli, srv strings.Builder
	for i := 0; i < 5; i++ {
		n := fmt.Sprintf("host%d.example.org.", i)
		cli.WriteString(tcpFrame(queryMsg(t, uint16(100+i), n, dnsmessage.TypeA)))
		srv.WriteString(tcpFrame(respMsg(t, uint16(100+i), n, dnsmessage.TypeA,
			dnsmessage.Resource{Header: rh(n, dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{10, 0, 0, byte(i)}}})))
	}
	segs := []parsertest.Segment{parsertest.C(cli.String()), parsertest.S(srv.String()), parsertest.C("\x00\x20partial")}
	var want string
	for i, sp := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random, parsertest.Random} {
		_, evs := parsertest.Run(NewDetector(), tcpConn(), segs, sp, int64(i))
		got := parsertest.Normalize(evs)
		if i == 0 {
			want = got
			pairs := byType(evs, TypeQuery)
			if len(pairs) != 5 {
				t.Fatalf("got %d pairs, want 5: %s", len(pairs), got)
			}
			checkSummary(t, pairs[4], map[string]any{"query": "host4.example.org", "answers": []string{"A 10.0.0.4"}})
			if pairs[0].Transport != "tcp" {
				t.Errorf("transport = %s", pairs[0].Transport)
			}
			an := byType(evs, TypeAnomaly)
			if len(an) != 1 || !strings.Contains(an[0].Anomalies[0], "ended inside a message") {
				t.Errorf("anomaly events: %s", parsertest.Normalize(an))
			}
			continue
		}
		if got != want {
			t.Fatalf("split %d differs:\n got: %s\nwant: %s", sp, got, want)
		}
	}
}

func TestTCPGap(t *testing.T) {
	_, evs := parsertest.Run(NewDetector(), tcpConn(), []parsertest.Segment{
		parsertest.C(tcpFrame(queryMsg(t, 1, "a.example.", dnsmessage.TypeA))),
		{Dir: parser.ServerToClient, Gap: 40},
		parsertest.S(tcpFrame(respMsg(t, 1, "a.example.", dnsmessage.TypeA))),
	}, parsertest.Whole, 0)
	pairs := byType(evs, TypeQuery)
	if len(pairs) != 1 || pairs[0].Summary.Get("unanswered") != true {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	if len(pairs[0].Anomalies) == 0 || !strings.Contains(pairs[0].Anomalies[0], "capture gap") {
		t.Errorf("anomalies = %v", pairs[0].Anomalies)
	}
}

func TestDetector(t *testing.T) {
	qm := queryMsg(t, 1, "www.example.com.", dnsmessage.TypeA)
	rm := respMsg(t, 1, "www.example.com.", dnsmessage.TypeA)
	withPort := func(c *parser.Conn, p uint16) *parser.Conn {
		c.Server = netip.AddrPortFrom(c.Server.Addr(), p)
		return c
	}
	tests := []struct {
		name string
		conn *parser.Conn
		dir  parser.Direction
		data []byte
		want parser.Verdict
	}{
		{"udp query", udpConn(), parser.ClientToServer, qm, parser.Yes},
		{"udp query other port", withPort(udpConn(), 5300), parser.ClientToServer, qm, parser.Yes},
		{"udp response first", udpConn(), parser.ClientToServer, rm, parser.YesReversed},
		{"udp response", udpConn(), parser.ServerToClient, rm, parser.Yes},
		{"tcp query", tcpConn(), parser.ClientToServer, []byte(tcpFrame(qm)), parser.Yes},
		{"tcp partial", tcpConn(), parser.ClientToServer, []byte(tcpFrame(qm))[:15], parser.NeedMore},
		{"tcp length only", tcpConn(), parser.ClientToServer, []byte{0}, parser.NeedMore},
		{"tcp http", withPort(tcpConn(), 80), parser.ClientToServer, []byte("GET / HTTP/1.1\r\n"), parser.No},
		{"short", udpConn(), parser.ClientToServer, []byte{1, 2, 3}, parser.No},
		{"zero questions", udpConn(), parser.ClientToServer, raw(1, 0, 0, 0), parser.No},
		{"random on other port", withPort(udpConn(), 4500), parser.ClientToServer, []byte("\x00\x00\x00\x01\x9a\x2b\x11\x20\x00\x00\x00\x00\xff\xee\xdd\xcc\xbb\xaa"), parser.No},
		{"query with answers off port", withPort(udpConn(), 4000), parser.ClientToServer,
			build(t, dnsmessage.Header{ID: 2}, q("a.", dnsmessage.TypeA), dnsmessage.Resource{Header: rh("a.", dnsmessage.TypeA), Body: &dnsmessage.AResource{}}), parser.No},
		{"wireguard handshake", withPort(udpConn(), 51820), parser.ClientToServer, append([]byte{1, 0, 0, 0}, make([]byte, 144)...), parser.No},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewDetector().IsRelative(tc.conn, tc.dir, tc.data); got != tc.want {
				t.Errorf("IsRelative = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBaseDomainAndEntropy(t *testing.T) {
	split := func(n string) [][]byte {
		var l [][]byte
		for _, s := range strings.Split(n, ".") {
			l = append(l, []byte(s))
		}
		return l
	}
	for _, tc := range []struct{ in, base, sub string }{
		{"a.b.example.com", "example.com", "a.b"},
		{"www.bbc.co.uk", "bbc.co.uk", "www"},
		{"example.com", "example.com", ""},
		{"x.pirate.sea", "pirate.sea", "x"},
		{"com", "com", ""},
	} {
		base, sub := baseDomain(split(tc.in))
		if base != tc.base || joinLabels(sub) != tc.sub {
			t.Errorf("baseDomain(%s) = %s, %s; want %s, %s", tc.in, base, joinLabels(sub), tc.base, tc.sub)
		}
	}
	for _, tc := range []struct {
		in       string
		min, max float64
	}{{"aaaa", 0, 0}, {"ab", 1, 1}, {"abcdefghijklmnop", 4, 4}, {"laegpumiplhhpz12ynd1efljwlkjcgwy", 3.8, 4.5}, {"www", 0, 0}} {
		if h := entropy([]byte(tc.in)); h < tc.min-1e-9 || h > tc.max+1e-9 {
			t.Errorf("entropy(%q) = %.3f, want in [%.1f, %.1f]", tc.in, h, tc.min, tc.max)
		}
	}
}

func TestTunnelDetection(t *testing.T) {
	type gen func(i int) (string, dnsmessage.Type)
	b32 := func(i int) string {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:]))
	}
	tests := []struct {
		name   string
		n      int
		gen    gen
		want   bool
		reason string
	}{
		{"iodine-like binary NULL", 15, func(i int) (string, dnsmessage.Type) {
			return fmt.Sprintf("r%cad\\200\\201z%d.pirate.sea.", 'a'+i, i), 10
		}, true, "long high-entropy or binary subdomain labels"},
		{"base32 data labels", 12, func(i int) (string, dnsmessage.Type) {
			return fmt.Sprintf("%s.%s.t.example.com.", b32(i)[:32], b32(i + 999)[:20]), dnsmessage.TypeA
		}, true, "long high-entropy or binary subdomain labels"},
		{"txt volume", 25, func(i int) (string, dnsmessage.Type) {
			return fmt.Sprintf("c%d.cmd.example.net.", i), dnsmessage.TypeTXT
		}, true, "TXT/NULL query volume with varying names"},
		{"many unique long", 120, func(i int) (string, dnsmessage.Type) {
			return fmt.Sprintf("s%020d.u%03d.example.org.", i*7919, i%10), dnsmessage.TypeA
		}, true, "many unique long subdomains"},
		{"browser", 60, func(i int) (string, dnsmessage.Type) {
			return []string{"www", "static", "img", "api", "cdn"}[i%5] + fmt.Sprintf("%d.example.com.", i%12), dnsmessage.TypeA
		}, false, ""},
		{"dnsbl", 200, func(i int) (string, dnsmessage.Type) {
			return fmt.Sprintf("%d.%d.113.203.zen.spamhaus.org.", i%250, i/250), dnsmessage.TypeA
		}, false, ""},
		{"dnsbl ipv6 nibbles", 150, func(i int) (string, dnsmessage.Type) {
			return strings.Repeat("0.", 28) + fmt.Sprintf("%x.%x.8.b.zen.spamhaus.org.", i%16, i/16), dnsmessage.TypeA
		}, false, ""},
		{"cloud host asked again and again", 100, func(i int) (string, dnsmessage.Type) {
			return "internal-my-balancer-1234567890.us-east-1.elb.amazonaws.com.", dnsmessage.TypeA
		}, false, ""},
		{"reverse lookups", 200, func(i int) (string, dnsmessage.Type) {
			return fmt.Sprintf("%d.2.0.192.in-addr.arpa.", i%256), dnsmessage.TypePTR
		}, false, ""},
		{"same TXT again", 50, func(i int) (string, dnsmessage.Type) {
			return "_dmarc.example.com.", dnsmessage.TypeTXT
		}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			det := NewDetector()
			env := parsertest.NewEnv()
			// one flow per query, as a stub resolver with random ports makes
			for i := 0; i < tc.n; i++ {
				c := udpConn()
				c.Client = netip.AddrPortFrom(c.Client.Addr(), uint16(30000+i))
				p := det.New(c, env)
				n, typ := tc.gen(i)
				nm, err := dnsmessage.NewName(n)
				if err != nil {
					t.Fatalf("name %q: %v", n, err)
				}
				msg := build(t, dnsmessage.Header{ID: uint16(i), RecursionDesired: true}, []dnsmessage.Question{{Name: nm, Type: typ, Class: dnsmessage.ClassINET}})
				p.ProcessPacket(parser.ClientToServer, msg, t0.Add(time.Duration(i)*time.Second))
				p.EndProcess(parser.EndIdle, t0.Add(time.Duration(i)*time.Second))
			}
			tun := byType(env.Events, TypeTunnel)
			if !tc.want {
				if len(tun) != 0 {
					t.Errorf("false positive: %s", parsertest.Normalize(tun))
				}
				return
			}
			if len(tun) != 1 {
				t.Fatalf("got %d tunnel events, want 1", len(tun))
			}
			ev := tun[0]
			reasons := ev.Summary.Get("reasons").([]string)
			if reasons[0] != tc.reason {
				t.Errorf("reasons = %v, want %q first", reasons, tc.reason)
			}
			if ev.Summary.Get("client") != "192.0.2.10" || ev.Subject == "" {
				t.Errorf("client %v subject %q", ev.Summary.Get("client"), ev.Subject)
			}
		})
	}
}

func TestTunnelTableBounded(t *testing.T) {
	tt := newTunnelTable()
	for i := 0; i < tunMaxEntries*3; i++ {
		labels := [][]byte{[]byte("x"), []byte(fmt.Sprintf("d%d", i)), []byte("com")}
		tt.observe(netip.MustParseAddr("192.0.2.1"), []question{{name: "x", labels: labels, qtype: 1}}, t0)
	}
	if n := len(tt.m); n > tunMaxEntries {
		t.Errorf("tunnel table holds %d entries, cap %d", n, tunMaxEntries)
	}
	if n := len(tt.fifo); n > 2*tunMaxEntries+1 {
		t.Errorf("tunnel fifo holds %d entries", n)
	}
	names := 0
	for _, e := range tt.m {
		names += len(e.names)
	}
	if names != tt.names || names > tunNameBudget {
		t.Errorf("names remembered: %d counted, %d held, budget %d", tt.names, names, tunNameBudget)
	}
}

// TestNameFastPathsMatchReference: the allocation-free renderings give
// what the straightforward forms (fmt, strings.ToLower, hash/fnv) give,
// for every byte value and for letters of either case.
func TestNameFastPathsMatchReference(t *testing.T) {
	refLabel := func(l []byte) string {
		var sb strings.Builder
		for _, c := range l {
			switch {
			case c == '.' || c == '\\':
				sb.WriteByte('\\')
				sb.WriteByte(c)
			case c > 0x20 && c < 0x7f:
				sb.WriteByte(c)
			default:
				fmt.Fprintf(&sb, "\\%03d", c)
			}
		}
		return sb.String()
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := [][][]byte{
		{all[:64]}, {all[64:128]}, {all[128:192], all[192:]},
		{[]byte("WWW"), []byte("Example"), []byte("CO"), []byte("uk")},
		{[]byte("m\u0130l"), []byte("x")}, {[]byte("a.b"), []byte(`c\d`)}, {},
	}
	for i, labels := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var parts []string
			for _, l := range labels {
				if got, want := string(appendLabel(nil, l)), refLabel(l); got != want {
					t.Errorf("appendLabel(%q) = %q, want %q", l, got, want)
				}
				parts = append(parts, refLabel(l))
				sld := strings.ToLower(string(l))
				wantSLD := false
				switch sld {
				case "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "mil":
					wantSLD = true
				}
				if got := genericSLD(l); got != wantSLD {
					t.Errorf("genericSLD(%q) = %v, want %v", l, got, wantSLD)
				}
			}
			joined := strings.Join(parts, ".")
			if got := joinLabels(labels); got != joined {
				t.Errorf("joinLabels = %q, want %q", got, joined)
			}
			if got, want := lowerJoin(labels), strings.ToLower(joined); got != want {
				t.Errorf("lowerJoin = %q, want %q", got, want)
			}
			low := make([]byte, 0)
			for j, l := range labels {
				if j > 0 {
					low = append(low, '.')
				}
				for _, c := range l {
					if c >= 'A' && c <= 'Z' {
						c += 'a' - 'A'
					}
					low = append(low, c)
				}
			}
			ref := fnv.New64a()
			ref.Write(low)
			if got, want := nameHash(labels), ref.Sum64(); got != want {
				t.Errorf("nameHash = %x, want %x", got, want)
			}
		})
	}
}

// TestEntropyTable: the table gives the same bits as the computation it
// replaces, for every label length and byte count.
func TestEntropyTable(t *testing.T) {
	ref := func(b []byte) float64 {
		var freq [256]int
		for _, c := range b {
			freq[c]++
		}
		h := 0.0
		for _, k := range freq {
			if k > 0 {
				p := float64(k) / float64(len(b))
				h -= float64(p * math.Log2(p))
			}
		}
		return h
	}
	for n := 1; n <= 80; n++ {
		for _, distinct := range []int{1, 2, 3, 7, 16, 31, 63} {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte((i*i + i) % distinct)
			}
			if got, want := entropy(b), ref(b); got != want {
				t.Errorf("entropy(len %d, %d symbols) = %v, want %v", n, distinct, got, want)
			}
		}
	}
}

// TestCheckOnlyMatchesRender: a record read without rendering (as the
// records no event shows are) ends at the same offset, fails with the
// same error and reads the same EDNS as one rendered, over every record
// type and thousands of damaged copies.
func TestCheckOnlyMatchesRender(t *testing.T) {
	n := "www.example.org."
	answers := []dnsmessage.Resource{
		{Header: rh(n, dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: name("edge.example.net.")}},
		{Header: rh("edge.example.net.", dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, 7}}},
		{Header: rh("edge.example.net.", dnsmessage.TypeAAAA), Body: &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("2001:db8::7").As16()}},
		{Header: rh(n, dnsmessage.TypeNS), Body: &dnsmessage.NSResource{NS: name("ns1.example.org.")}},
		{Header: rh(n, dnsmessage.TypeMX), Body: &dnsmessage.MXResource{Pref: 10, MX: name("mx.example.org.")}},
		{Header: rh(n, dnsmessage.TypeTXT), Body: &dnsmessage.TXTResource{TXT: []string{"v=spf1 -all", "two"}}},
		{Header: rh(n, dnsmessage.TypePTR), Body: &dnsmessage.PTRResource{PTR: name("host.example.org.")}},
		{Header: rh(n, dnsmessage.TypeSOA), Body: &dnsmessage.SOAResource{NS: name("ns1.example.org."), MBox: name("hostmaster.example.org."), Serial: 2024010101}},
		{Header: rh(n, dnsmessage.TypeSRV), Body: &dnsmessage.SRVResource{Priority: 1, Weight: 5, Port: 5060, Target: name("sip.example.org.")}},
		{Header: rh(n, 65), Body: &dnsmessage.UnknownResource{Type: 65, Data: httpsRData()}},
		{Header: rh(n, 10), Body: &dnsmessage.UnknownResource{Type: 10, Data: []byte{0xde, 0xad, 0xbe, 0xef}}},
		{Header: rh(n, 257), Body: &dnsmessage.UnknownResource{Type: 257, Data: append([]byte{0, 5}, "issueletsencrypt.org"...)}},
		{Header: rh(n, 41), Body: &dnsmessage.UnknownResource{Type: 41, Data: []byte{0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2, 0, 10, 0, 0}}},
		{Header: rh(n, 99), Body: &dnsmessage.UnknownResource{Type: 99, Data: []byte{3, 'a', 'b', 'c'}}},
		{Header: rh(n, 4242), Body: &dnsmessage.UnknownResource{Type: 4242, Data: []byte{1, 2, 3}}},
	}
	base := respMsg(t, 7, n, dnsmessage.TypeA, answers...)
	first := 0 // offset of the first record: after the header and the question
	if _, next, err := readName(base, headerLen); err != nil {
		t.Fatal(err)
	} else {
		first = next + 4
	}
	rng := rand.New(rand.NewSource(5))
	records, failures := 0, 0
	for i := 0; i < 4000; i++ {
		b := append([]byte(nil), base...)
		for j := rng.Intn(4); j > 0 && i > 0; j-- {
			b[first+rng.Intn(len(b)-first)] = byte(rng.Intn(256))
		}
		if i%7 == 3 {
			b = b[:first+rng.Intn(len(b)-first)]
		}
		off := first
		for off < len(b) {
			m1, m2 := &message{}, &message{}
			r1, n1, err1 := readRR(b, off, m1, true)
			_, n2, err2 := readRR(b, off, m2, false)
			records++
			if n1 != n2 || fmt.Sprint(err1) != fmt.Sprint(err2) || fmt.Sprint(m1.edns) != fmt.Sprint(m2.edns) {
				t.Fatalf("variant %d at %d: rendered (%q, next %d, %v, edns %v), checked (next %d, %v, edns %v)",
					i, off, r1.text, n1, err1, m1.edns, n2, err2, m2.edns)
			}
			if err1 != nil {
				failures++
				break
			}
			off = n1
		}
	}
	if failures == 0 || records < 4000 {
		t.Errorf("%d records read, %d failing: the damaged copies do not exercise the checks", records, failures)
	}
}

// TestTypeTables: the indexed names are typeNames' for every type.
func TestTypeTables(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		typ := uint16(i)
		want, ok := typeNames[typ]
		if !ok {
			want = "TYPE" + fmt.Sprint(i)
		}
		if got := typeName(typ); got != want {
			t.Fatalf("typeName(%d) = %q, want %q", i, got, want)
		}
		if got := typeValue(typ); got != any(want) {
			t.Fatalf("typeValue(%d) = %v, want %q", i, got, want)
		}
	}
}

// TestManyPending: responses in reverse order, a repeated query and a
// response without its question pair with the right queries both while
// the waiting queries are found by scanning (few) and once they are
// indexed (more than indexAt).
func TestManyPending(t *testing.T) {
	for _, n := range []int{8, 3 * indexAt} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// an older query with ID 7 but another name: the response for
			// q7 must find its own query by name, not this one by ID
			segs := []parsertest.Segment{cq(queryMsg(t, 7, "a7.example.", dnsmessage.TypeA))}
			for i := 1; i <= n; i++ {
				segs = append(segs, cq(queryMsg(t, uint16(i), fmt.Sprintf("q%d.example.", i), dnsmessage.TypeA)))
			}
			segs = append(segs, cq(queryMsg(t, 3, "q3.example.", dnsmessage.TypeA))) // repeated
			for i := n; i >= 1; i-- {
				if i == 5 {
					// no question: paired by ID alone
					segs = append(segs, sr(build(t, dnsmessage.Header{ID: 5, Response: true}, nil)))
					continue
				}
				segs = append(segs, sr(respMsg(t, uint16(i), fmt.Sprintf("Q%d.example.", i), dnsmessage.TypeA)))
			}
			segs = append(segs, sr(respMsg(t, 3, "q3.example.", dnsmessage.TypeA)),
				sr(respMsg(t, 7, "a7.example.", dnsmessage.TypeA)))
			pairs := byType(udp(NewDetector(), segs...), TypeQuery)
			if len(pairs) != n+2 {
				t.Fatalf("got %d dns-query events, want %d", len(pairs), n+2)
			}
			for _, ev := range pairs {
				id := ev.Summary.Get("id").(uint16)
				if ev.Summary.Get("unanswered") != nil || ev.Summary.Get("query_not_seen") != nil {
					t.Errorf("id %d not paired: %v", id, ev.Summary)
				}
				if len(ev.Anomalies) > 0 {
					t.Errorf("id %d (%s): anomalies %v", id, ev.Subject, ev.Anomalies)
				}
				if want := fmt.Sprintf("q%d.example", id); ev.Subject != want && ev.Subject != "a7.example" {
					t.Errorf("id %d paired with the query for %s, want %s", id, ev.Subject, want)
				}
			}
		})
	}
}

// TestDecodeIntoReuse decodes messages one after the other into one
// message, as a flow does with its responses, and requires each result
// to equal a fresh decode: nothing of the previous message may remain
// (more answers, an authority section, EDNS, an error).
func TestDecodeIntoReuse(t *testing.T) {
	a := func(n string, last byte) dnsmessage.Resource {
		return dnsmessage.Resource{Header: rh(n, dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, last}}}
	}
	eb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 4, Response: true})
	eb.StartQuestions()
	eb.Question(q("e.example.", dnsmessage.TypeA)[0])
	eb.StartAdditionals()
	var opt dnsmessage.ResourceHeader
	opt.SetEDNS0(1232, dnsmessage.RCodeSuccess, true)
	eb.OPTResource(opt, dnsmessage.OPTResource{Options: []dnsmessage.Option{{Code: 8, Data: []byte{0, 1, 24, 0, 198, 51, 100}}}})
	withEDNS, err := eb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	msgs := []struct {
		name string
		b    []byte
	}{
		{"three answers", respMsg(t, 1, "a.example.", dnsmessage.TypeA, a("a.example.", 1), a("a.example.", 2), a("a.example.", 3))},
		{"one answer", respMsg(t, 2, "b.example.", dnsmessage.TypeA, a("b.example.", 9))},
		{"no answer", respMsg(t, 3, "c.example.", dnsmessage.TypeA)},
		{"CNAME and A", respMsg(t, 5, "d.example.", dnsmessage.TypeA,
			dnsmessage.Resource{Header: rh("d.example.", dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: name("x.example.")}},
			a("x.example.", 7))},
		{"EDNS", withEDNS},
		{"question cut off", withEDNS[:14]},
		{"short", []byte{0, 1, 0x80}},
		{"pointer loop", raw(5, 0x8180, 1, 1, 1, 'a', 0, 0, 1, 0, 1, 1, 'b', 0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4)},
		{"trailing bytes", append(respMsg(t, 6, "f.example.", dnsmessage.TypeA, a("f.example.", 4)), 0, 0)},
	}
	for _, order := range []string{"forward", "backward"} {
		t.Run(order, func(t *testing.T) {
			var m message
			for i := range msgs {
				tc := msgs[i]
				if order == "backward" {
					tc = msgs[len(msgs)-1-i]
				}
				decodeInto(&m, tc.b)
				if want := decode(tc.b); !reflect.DeepEqual(&m, want) {
					t.Fatalf("%s after the others: want %+v, got %+v", tc.name, want, &m)
				}
			}
		})
	}
}

// TestLowerName: lowerName is strings.ToLower on rendered names, short
// and past its stack buffer, and returns a lower-case name as it is.
func TestLowerName(t *testing.T) {
	long := strings.Repeat(`Ab\255.`, 60) // 420 bytes, over the buffer
	for _, name := range []string{"", ".", "example.org", "WWW.Example.ORG", `a\.B\\c.\000Z`, "x-Y_z.", long, strings.ToLower(long)} {
		t.Run(name, func(t *testing.T) {
			want := strings.ToLower(name)
			if got := lowerName(name); got != want {
				t.Errorf("lowerName(%q) = %q, want %q", name, got, want)
			}
		})
	}
	if a := testing.AllocsPerRun(100, func() { _ = lowerName("www.example.org") }); a != 0 {
		t.Errorf("lowerName of a lower-case name: %v allocations, want 0", a)
	}
}

// TestResponseQuestionDiffers: a response paired by ID whose question
// differs from the query's is flagged; one differing only in letter case
// (0x20 randomisation) is not.
func TestResponseQuestionDiffers(t *testing.T) {
	const differs = "response question differs from the query's"
	tests := []struct {
		name string
		resp []byte
		want bool
	}{
		{"same", respMsg(t, 9, "Www.Example.ORG.", dnsmessage.TypeA), false},
		{"case only", respMsg(t, 9, "wWW.eXAMPLE.org.", dnsmessage.TypeA), false},
		{"other name", respMsg(t, 9, "www.example.net.", dnsmessage.TypeA), true},
		{"other type", respMsg(t, 9, "www.example.org.", dnsmessage.TypeAAAA), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := byType(udp(NewDetector(), cq(queryMsg(t, 9, "Www.Example.ORG.", dnsmessage.TypeA)), sr(tt.resp)), TypeQuery)
			if len(evs) != 1 {
				t.Fatalf("got %d dns-query events, want 1 (paired by ID)", len(evs))
			}
			if evs[0].Summary.Get("unanswered") != nil || evs[0].Summary.Get("query_not_seen") != nil {
				t.Fatalf("not paired: %v", evs[0].Summary)
			}
			if got := slices.Contains(evs[0].Anomalies, differs); got != tt.want {
				t.Errorf("anomaly %q: got %v, want %v (anomalies %q)", differs, got, tt.want, evs[0].Anomalies)
			}
		})
	}
}

// TestRenderNameMatchesReadName: a message's appendName, which reuses
// names it rendered before for pointers to them, gives readName's name
// (after what the buffer held), end and error: for pointers to names near the pointer limit, and for
// every offset of damaged copies of a response, forwards (later names
// point to remembered ones) and backwards.
func TestRenderNameMatchesReadName(t *testing.T) {
	// chain returns a message whose name at the returned offset is a
	// chain of n pointers ending in "a", followed by a pointer to it
	chain := func(n int) ([]byte, int) {
		b := append(make([]byte, headerLen), 1, 'a', 0)
		prev := headerLen
		for i := 0; i < n; i++ {
			at := len(b)
			b = append(b, 0xc0|byte(prev>>8), byte(prev))
			prev = at
		}
		return append(b, 0xc0|byte(prev>>8), byte(prev)), prev
	}
	check := func(t *testing.T, m *message, b []byte, off int) {
		t.Helper()
		out, n1, ptrs, e1 := m.appendName([]byte("x "), b, off)
		s1 := ""
		if e1 == nil {
			s1 = string(out[2:])
			if ptrs >= 0 {
				m.remember(off, ptrs, s1) // as readRR does
			}
		}
		s2, n2, e2 := readName(b, off)
		if s1 != s2 || n1 != n2 || e1 != e2 || string(out[:2]) != "x " {
			t.Fatalf("at %d: appendName = (%q, %d, %v), readName = (%q, %d, %v)", off, out, n1, e1, s2, n2, e2)
		}
	}
	for _, n := range []int{maxPointers - 2, maxPointers - 1, maxPointers, maxPointers + 1} {
		t.Run(fmt.Sprintf("chain of %d pointers", n), func(t *testing.T) {
			b, at := chain(n)
			m := &message{}
			check(t, m, b, at)     // remembered, when it reads
			check(t, m, b, at+2)   // one pointer more
			check(t, m, b, at+2)   // again
			check(t, m, b, at-2+1) // inside a pointer
		})
	}
	n := "www.example.org."
	base := respMsg(t, 7, n, dnsmessage.TypeA,
		dnsmessage.Resource{Header: rh(n, dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: name("edge.example.net.")}},
		dnsmessage.Resource{Header: rh("edge.example.net.", dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, 7}}},
		dnsmessage.Resource{Header: rh("edge.example.net.", dnsmessage.TypeMX), Body: &dnsmessage.MXResource{Pref: 10, MX: name("mx.example.net.")}})
	rng := rand.New(rand.NewSource(9))
	hits := 0
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), base...)
		for j := rng.Intn(3); j > 0 && i > 0; j-- {
			b[headerLen+rng.Intn(len(b)-headerLen)] = byte(rng.Intn(256))
		}
		m := &message{}
		for off := headerLen; off < len(b); off++ {
			check(t, m, b, off)
		}
		hits += m.nnames
		// backwards: remembered names lie after the pointers to them,
		// which readName refuses
		m = &message{}
		for off := len(b) - 1; off >= headerLen; off-- {
			check(t, m, b, off)
		}
	}
	if hits == 0 {
		t.Error("no name remembered: the memory is not exercised")
	}
}

// TestBaseDomainOf: the base domain taken from the question's name is
// baseDomain's, whatever the name (its own rendering in either case, an
// escaped dot, another name, none), and costs no allocation for a
// lower-case name.
func TestBaseDomainOf(t *testing.T) {
	labelSets := [][][]byte{
		{[]byte("a"), []byte("b"), []byte("example"), []byte("com")},
		{[]byte("WWW"), []byte("BBC"), []byte("co"), []byte("UK")},
		{[]byte("x.y"), []byte("ex\\ample"), []byte("org")},
		{[]byte("tunnel\x00\xff"), []byte("t"), []byte("example"), []byte("net")},
		{[]byte("com")},
		{},
	}
	for i, labels := range labelSets {
		joined := joinLabels(labels)
		for _, name := range []string{joined, strings.ToLower(joined), strings.ToUpper(joined), "x", "", "zz." + joined} {
			t.Run(fmt.Sprintf("%d %q", i, name), func(t *testing.T) {
				wantBase, wantSub := baseDomain(labels)
				base, sub := baseDomainOf(name, labels)
				if base != wantBase || joinLabels(sub) != joinLabels(wantSub) {
					t.Errorf("baseDomainOf = %q, %q; want %q, %q", base, joinLabels(sub), wantBase, joinLabels(wantSub))
				}
			})
		}
	}
	labels := labelSets[0]
	name := joinLabels(labels)
	if a := testing.AllocsPerRun(100, func() { baseDomainOf(name, labels) }); a != 0 {
		t.Errorf("baseDomainOf of a lower-case name: %v allocations, want 0", a)
	}
}

// TestOrderReuse: queries answered one after another keep to the flow's
// own small array of waiting queries; after a burst outgrows it, pairing
// goes on as before.
func TestOrderReuse(t *testing.T) {
	env := parsertest.NewEnv()
	f := newFlow(udpConn(), env, NewDetector())
	ts := t0
	ask := func(id uint16) {
		ts = ts.Add(time.Millisecond)
		f.ProcessPacket(parser.ClientToServer, queryMsg(t, id, fmt.Sprintf("q%d.example.", id), dnsmessage.TypeA), ts)
	}
	answer := func(id uint16) {
		ts = ts.Add(time.Millisecond)
		f.ProcessPacket(parser.ServerToClient, respMsg(t, id, fmt.Sprintf("q%d.example.", id), dnsmessage.TypeA), ts)
	}
	for id := uint16(1); id <= 10; id++ {
		ask(id)
		answer(id)
	}
	if len(f.orderArr) != 0 || cap(f.orderArr) != len(f.order0) || &f.orderArr[:1][0] != &f.order0[0] {
		t.Errorf("after sequential pairs the waiting queries use another array (cap %d)", cap(f.orderArr))
	}
	for id := uint16(11); id <= 15; id++ {
		ask(id)
	}
	for id := uint16(15); id >= 11; id-- {
		answer(id)
	}
	for id := uint16(16); id <= 18; id++ {
		ask(id)
		answer(id)
	}
	f.EndProcess(parser.EndClosed, ts)
	evs := byType(env.Events, TypeQuery)
	if len(evs) != 18 {
		t.Fatalf("got %d dns-query events, want 18: %s", len(evs), parsertest.Normalize(env.Events))
	}
	for i, ev := range evs {
		if ev.Summary.Get("unanswered") != nil || ev.Summary.Get("query_not_seen") != nil || len(ev.Anomalies) != 0 {
			t.Errorf("event %d (%s) not paired cleanly: %v %v", i, ev.Subject, ev.Summary, ev.Anomalies)
		}
	}
	for i, q := range f.order0 {
		if q != nil {
			t.Errorf("order0[%d] still holds query %v after the flow ended", i, q.key)
		}
	}
}

// TestRecordLines: a shown record's name, line and text are the owner,
// "TYPE text" and the data, whether its owner was a name rendered before
// (a pointer to the question, to a CNAME's target) or rendered with it;
// the events show them as before.
func TestRecordLines(t *testing.T) {
	bd := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 3, Response: true, RecursionDesired: true, RecursionAvailable: true})
	bd.EnableCompression()
	bd.StartQuestions()
	bd.Question(q("www.Example.org.", dnsmessage.TypeA)[0])
	bd.StartAnswers()
	bd.CNAMEResource(rh("www.Example.org.", dnsmessage.TypeCNAME), dnsmessage.CNAMEResource{CNAME: name("edge.example.net.")})
	bd.AResource(rh("edge.example.net.", dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
	bd.AResource(rh("other.example.com.", dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{192, 0, 2, 2}})
	bd.StartAuthorities()
	bd.NSResource(rh("example.org.", dnsmessage.TypeNS), dnsmessage.NSResource{NS: name("ns1.example.org.")})
	bd.NSResource(rh("example.org.", dnsmessage.TypeNS), dnsmessage.NSResource{NS: name("ns2.example.org.")})
	resp, err := bd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	m := decode(resp)
	if m.err != nil {
		t.Fatalf("decode: %v in %s", m.err, m.errWhere)
	}
	for i, r := range append(append([]rr{}, m.answers...), m.authority...) {
		if r.line != typeName(r.typ)+" "+r.text || r.withName() != r.name+" "+r.line {
			t.Errorf("record %d: name %q, line %q, text %q, with name %q: not of a piece", i, r.name, r.line, r.text, r.withName())
		}
	}
	evs := byType(udp(NewDetector(), cq(queryMsg(t, 3, "www.Example.org.", dnsmessage.TypeA)), sr(resp)), TypeQuery)
	if len(evs) != 1 {
		t.Fatalf("got %d dns-query events, want 1", len(evs))
	}
	checkSummary(t, evs[0], map[string]any{
		"answers":   []string{"CNAME edge.example.net", "edge.example.net A 192.0.2.1", "other.example.com A 192.0.2.2"},
		"authority": []string{"example.org NS ns1.example.org", "example.org NS ns2.example.org"},
	})
}

// ascii.EqualFold says two names pair as comparing their lowerName forms
// would: ASCII letters without regard to case, other bytes as they are.
func TestEqualFoldMatchesLowerName(t *testing.T) {
	names := []string{"", "a", "A", "www.Example.ORG", "WWW.EXAMPLE.ORG", "www.example.org.", "\xc3\x89t\xc3\xa9", "\xc3\xa9t\xc3\xa9", "k", "\u212a", "a\\065", "A\\065", "a[", "A{"}
	for _, a := range names {
		for _, b := range names {
			if got, want := ascii.EqualFold(a, b), lowerName(a) == lowerName(b); got != want {
				t.Errorf("ascii.EqualFold(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}
