package http

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/http2/hpack"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// run feeds a conversation whole, one byte at a time and in random cuts,
// requires identical events from each, and returns the whole run.
func run(t *testing.T, c *parser.Conn, segs []parsertest.Segment, opts ...func(*parser.Options)) (*parsertest.Env, []*event.Event) {
	t.Helper()
	o := parser.DefaultOptions()
	for _, f := range opts {
		f(&o)
	}
	runOne := func(split parsertest.Split, seed int64) (*parsertest.Env, []*event.Event) {
		det := optDetector{o}
		return parsertest.Run(det, c, segs, split, seed)
	}
	env, evs := runOne(parsertest.Whole, 0)
	want := parsertest.Normalize(evs)
	for _, tc := range []struct {
		name  string
		split parsertest.Split
		seed  int64
	}{{"bytes", parsertest.Bytes, 0}, {"random1", parsertest.Random, 1}, {"random2", parsertest.Random, 2}, {"random3", parsertest.Random, 3}} {
		_, got := runOne(tc.split, tc.seed)
		if g := parsertest.Normalize(got); g != want {
			t.Fatalf("split %s gives different events:\n got: %s\nwant: %s", tc.name, g, want)
		}
	}
	return env, evs
}

// optDetector is the Detector with parser options set (parsertest.Run
// makes its own Env with default options).
type optDetector struct{ o parser.Options }

func (optDetector) Name() string                   { return "http" }
func (optDetector) Transports() []parser.Transport { return Detector{}.Transports() }
func (optDetector) IsRelative(c *parser.Conn, d parser.Direction, b []byte) parser.Verdict {
	return Detector{}.IsRelative(c, d, b)
}
func (d optDetector) New(c *parser.Conn, env parser.Env) parser.Parser {
	if e, ok := env.(*parsertest.Env); ok {
		e.Opts = d.o
	}
	return Detector{}.New(c, env)
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
				t.Errorf("summary[%q] = %v, want absent", k, g)
			}
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("summary[%q] = %v, want %v", k, g, w)
		}
	}
}

func hasAnomaly(ev *event.Event, sub string) bool {
	for _, a := range ev.Anomalies {
		if strings.Contains(a, sub) {
			return true
		}
	}
	return false
}

func fileOf(t *testing.T, env *parsertest.Env, a event.Artifact) string {
	t.Helper()
	b, ok := env.Files[a.SHA256]
	if !ok {
		t.Fatalf("artifact %s (%s) not stored", a.Name, a.SHA256)
	}
	return string(b)
}

var c, s = parsertest.C, parsertest.S

func TestDetector(t *testing.T) {
	mid := parsertest.Conn(80)
	mid.MidStream = true
	tests := []struct {
		name string
		mid  bool
		dir  parser.Direction
		data string
		want parser.Verdict
	}{
		{"request", false, parser.ClientToServer, "GET /index.html HTTP/1.1\r\nHost: x\r\n", parser.Yes},
		{"request on odd port", false, parser.ClientToServer, "PROPFIND /dav HTTP/1.1\r\n", parser.Yes},
		{"request partial method", false, parser.ClientToServer, "GE", parser.NeedMore},
		{"request partial target", false, parser.ClientToServer, "GET /very/long", parser.NeedMore},
		{"request partial version", false, parser.ClientToServer, "GET / HTT", parser.NeedMore},
		{"status", false, parser.ServerToClient, "HTTP/1.1 200 OK\r\n", parser.Yes},
		{"status partial", false, parser.ServerToClient, "HTTP/1.", parser.NeedMore},
		{"status seen as client", false, parser.ClientToServer, "HTTP/1.0 404 Not Found\r\n", parser.YesReversed},
		{"request seen as server", false, parser.ServerToClient, "POST /x HTTP/1.0\r\n", parser.YesReversed},
		{"h2 preface", false, parser.ClientToServer, h2Preface, parser.Yes},
		{"h2 preface partial", false, parser.ClientToServer, "PRI * HTTP/2", parser.NeedMore},
		{"smtp greeting", false, parser.ServerToClient, "220 mail.example.org ESMTP Postfix\r\n", parser.No},
		{"smtp command", false, parser.ClientToServer, "EHLO client.example.org\r\n", parser.No},
		{"lower-case method", false, parser.ClientToServer, "get / HTTP/1.1\r\n", parser.No},
		{"tls", false, parser.ClientToServer, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", parser.No},
		{"ssh", false, parser.ServerToClient, "SSH-2.0-OpenSSH_9.2\r\n", parser.No},
		{"mid-stream body then request", true, parser.ClientToServer, "tail of a body\r\nGET /next HTTP/1.1\r\n", parser.Yes},
		{"mid-stream body then status", true, parser.ServerToClient, "<html>\n</html>\nHTTP/1.1 200 OK\r\n", parser.Yes},
		{"mid-stream body only", true, parser.ServerToClient, "<html>\n</html>\n", parser.NeedMore},
		{"not mid-stream body", false, parser.ServerToClient, "<html>\n</html>\nHTTP/1.1 200 OK\r\n", parser.No},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := parsertest.Conn(8080)
			if tc.mid {
				conn = mid
			}
			if got := (Detector{}).IsRelative(conn, tc.dir, []byte(tc.data)); got != tc.want {
				t.Errorf("IsRelative(%q) = %v, want %v", tc.data, got, tc.want)
			}
		})
	}
}

func TestSimpleGet(t *testing.T) {
	body := "hello, world\n"
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /dir/hello.txt?x=1 HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: curl/8.5.0\r\nReferer: http://a.example/\r\nAccept: */*\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body),
	})
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1: %s", len(evs), parsertest.Normalize(evs))
	}
	ev := evs[0]
	if ev.Type != TypeRequest || ev.Protocol != "http" || ev.Transport != "tcp" {
		t.Errorf("type/protocol/transport = %s/%s/%s", ev.Type, ev.Protocol, ev.Transport)
	}
	if want := "http://www.example.org/dir/hello.txt?x=1"; ev.Subject != want {
		t.Errorf("subject = %q, want %q", ev.Subject, want)
	}
	checkSummary(t, ev, map[string]any{"method": "GET", "host": "www.example.org", "uri": "/dir/hello.txt?x=1",
		"status": 200, "reason": "OK", "user_agent": "curl/8.5.0", "referer": "http://a.example/",
		"content_type": "text/plain", "content_length": len(body), "response_body_bytes": len(body),
		"response_body_name": "hello.txt", "server_software": "nginx", "no_response": nil})
	if len(ev.Artifacts) != 1 {
		t.Fatalf("got %d artifacts, want 1", len(ev.Artifacts))
	}
	a := ev.Artifacts[0]
	if a.Name != "hello.txt" || a.ContentType != "text/plain" || a.Kind != event.KindFile {
		t.Errorf("artifact = %+v", a)
	}
	if got := fileOf(t, env, a); got != body {
		t.Errorf("file = %q, want %q", got, body)
	}
	if len(ev.Anomalies) != 0 {
		t.Errorf("anomalies = %v, want none", ev.Anomalies)
	}
}

func chunk(s string, sizes ...int) string {
	var b strings.Builder
	for _, n := range sizes {
		n = min(n, len(s))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	if s != "" {
		fmt.Fprintf(&b, "%x;ext=1\r\n%s\r\n", len(s), s)
	}
	b.WriteString("0\r\nX-Trailer: t\r\n\r\n")
	return b.String()
}

func TestPipelining(t *testing.T) {
	b2 := strings.Repeat("chunked body ", 50)
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nHEAD /c HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
			"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b2, 7, 100) +
			"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"),
		c("POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nq=12"),
		s("HTTP/1.1 204 No Content\r\n\r\n"),
	})
	reqs := byType(evs, TypeRequest)
	if len(reqs) != 4 {
		t.Fatalf("got %d requests, want 4: %s", len(reqs), parsertest.Normalize(evs))
	}
	want := []struct {
		uri    string
		status int
		body   int
	}{{"/a", 200, 3}, {"/b", 404, len(b2)}, {"/c", 200, 0}, {"/d", 204, 0}}
	for i, w := range want {
		ev := reqs[i]
		if ev.Summary.Get("uri") != w.uri || ev.Summary.Get("status") != w.status {
			t.Errorf("event %d: uri %v status %v, want %s %d", i, ev.Summary.Get("uri"), ev.Summary.Get("status"), w.uri, w.status)
		}
		got, _ := ev.Summary.Get("response_body_bytes").(int64)
		if int(got) != w.body {
			t.Errorf("event %d: response_body_bytes = %v, want %d", i, ev.Summary.Get("response_body_bytes"), w.body)
		}
		if len(ev.Anomalies) != 0 {
			t.Errorf("event %d: anomalies %v", i, ev.Anomalies)
		}
	}
	if got := fileOf(t, env, reqs[1].Artifacts[0]); got != b2 {
		t.Errorf("chunked body restored as %q", got)
	}
	checkSummary(t, reqs[3], map[string]any{"method": "POST", "request_body_bytes": 4, "request_body_name": "d"})
}

func TestContentEncodings(t *testing.T) {
	plain := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)
	var gz, zl, raw, br bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(plain))
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write([]byte(plain))
	z.Close()
	f, _ := flate.NewWriter(&raw, 5)
	f.Write([]byte(plain))
	f.Close()
	b := brotli.NewWriter(&br)
	b.Write([]byte(plain))
	b.Close()
	tests := []struct {
		name, enc, body string
		chunked         bool
	}{
		{"gzip", "gzip", gz.String(), false},
		{"gzip chunked", "gzip", gz.String(), true},
		{"deflate zlib", "deflate", zl.String(), false},
		{"deflate raw", "deflate", raw.String(), true},
		{"br", "br", br.String(), true},
		{"identity", "identity", plain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := "HTTP/1.1 200 OK\r\nContent-Encoding: " + tc.enc + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
			if tc.chunked {
				hdr += "Transfer-Encoding: chunked\r\n\r\n" + chunk(tc.body, 10, 33)
			} else {
				hdr += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(tc.body), tc.body)
			}
			env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
				c("GET /fox.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"), s(hdr)})
			if len(evs) != 1 || len(evs[0].Artifacts) != 1 {
				t.Fatalf("events: %s", parsertest.Normalize(evs))
			}
			if got := fileOf(t, env, evs[0].Artifacts[0]); got != plain {
				t.Errorf("decoded body = %q..., want the plain text", truncate(got, 40))
			}
			checkSummary(t, evs[0], map[string]any{"response_body_bytes": len(tc.body)})
			if len(evs[0].Anomalies) != 0 {
				t.Errorf("anomalies: %v", evs[0].Anomalies)
			}
		})
	}
}

func TestDecompressionCapped(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(make([]byte, 1<<20))
	w.Close()
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n"),
		s(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", gz.Len(), gz.String())),
	}, func(o *parser.Options) { o.MaxArtifactBytes = 4096 })
	if len(evs) != 1 || len(evs[0].Artifacts) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	if got := len(fileOf(t, env, evs[0].Artifacts[0])); got != 4096 {
		t.Errorf("restored %d bytes, want the 4096-byte cap", got)
	}
	checkSummary(t, evs[0], map[string]any{"response_body_truncated": true})
}

func TestBodyCap(t *testing.T) {
	body := strings.Repeat("0123456789", 100)
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n" + body),
		s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	}, func(o *parser.Options) { o.MaxArtifactBytes = 100 })
	ev := evs[0]
	checkSummary(t, ev, map[string]any{"request_body_bytes": 1000, "request_body_truncated": true, "response_body_truncated": nil})
	var got string
	for _, a := range ev.Artifacts {
		if a.Name == "upload" && a.Size == 100 {
			got = fileOf(t, env, a)
		}
	}
	if got != body[:100] {
		t.Errorf("request body restored as %q, want the first 100 bytes", got)
	}
}

func TestBasicAuth(t *testing.T) {
	cred := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	segs := []parsertest.Segment{
		c("GET /private/ HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + cred + "\r\n\r\n"),
		s("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
	}
	for _, rec := range []bool{false, true} {
		t.Run(fmt.Sprint("record=", rec), func(t *testing.T) {
			_, evs := run(t, parsertest.Conn(80), segs, func(o *parser.Options) { o.RecordPasswords = rec })
			ev := evs[0]
			var pw any
			if rec {
				pw = "s3cret"
			}
			checkSummary(t, ev, map[string]any{"user": "alice", "auth_scheme": "Basic", "password": pw, "status": 401})
			if len(ev.Addresses) != 1 || ev.Addresses[0] != (event.Address{Address: "alice", Role: event.RoleUser}) {
				t.Errorf("addresses = %v, want alice as user", ev.Addresses)
			}
		})
	}
}

func TestNoBodyResponses(t *testing.T) {
	for _, tc := range []struct{ method, status string }{
		{"HEAD", "200 OK"}, {"GET", "304 Not Modified"}, {"GET", "204 No Content"},
	} {
		t.Run(tc.method+" "+tc.status, func(t *testing.T) {
			_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
				c(tc.method + " /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n"),
				s("HTTP/1.1 " + tc.status + "\r\nContent-Length: 123\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			})
			if len(evs) != 2 {
				t.Fatalf("got %d events, want 2: %s", len(evs), parsertest.Normalize(evs))
			}
			checkSummary(t, evs[0], map[string]any{"response_body_bytes": nil})
			checkSummary(t, evs[1], map[string]any{"uri": "/y", "status": 200, "response_body_bytes": 2})
		})
	}
}

func TestResponseUntilClose(t *testing.T) {
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /old HTTP/1.0\r\n\r\n"),
		s("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>"),
		s("</html>"),
	})
	if len(evs) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	if got := fileOf(t, env, evs[0].Artifacts[0]); got != "<html></html>" {
		t.Errorf("body = %q", got)
	}
	if len(evs[0].Anomalies) != 0 {
		t.Errorf("anomalies: %v", evs[0].Anomalies)
	}
}

func TestInterimAndEarlyResponse(t *testing.T) {
	_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n"),
		s("HTTP/1.1 100 Continue\r\n\r\n"),
		c("abcdef"),
		s("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
	})
	if len(evs) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, evs[0], map[string]any{"status": 201, "interim_status": []int{100}, "request_body_bytes": 6})
}

func TestConnectTunnel(t *testing.T) {
	env := parsertest.NewEnv()
	p := Detector{}.New(parsertest.Conn(3128), env)
	ts := parsertest.Conn(3128).Start
	p.ProcessPacket(parser.ClientToServer, []byte("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\nProxy-Authorization: Basic "+
		base64.StdEncoding.EncodeToString([]byte("bob:pw"))+"\r\n\r\n"), ts)
	p.ProcessPacket(parser.ServerToClient, []byte("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"), ts)
	if p.IsContinue() {
		t.Fatal("IsContinue = true after an accepted CONNECT, want false")
	}
	p.EndProcess(parser.EndDone, ts)
	if len(env.Events) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(env.Events))
	}
	ev := env.Events[0]
	if ev.Subject != "CONNECT example.org:443" {
		t.Errorf("subject = %q", ev.Subject)
	}
	checkSummary(t, ev, map[string]any{"tunnel": true, "status": 200, "user": "bob", "method": "CONNECT"})
}

func TestConnectRefusedGoesOn(t *testing.T) {
	_, evs := run(t, parsertest.Conn(3128), []parsertest.Segment{
		c("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"),
		s("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
		c("GET http://example.org/ HTTP/1.1\r\nHost: example.org\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	})
	if len(evs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, evs[0], map[string]any{"tunnel": nil, "status": 407})
	if evs[1].Subject != "http://example.org/" {
		t.Errorf("absolute-form subject = %q", evs[1].Subject)
	}
}

func TestUpgrade(t *testing.T) {
	for _, proto := range []string{"websocket", "h2c"} {
		t.Run(proto, func(t *testing.T) {
			_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
				c("GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: " + proto + "\r\n\r\n"),
				s("HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + proto + "\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"),
				c("\x81\x85garbage that is not HTTP"),
			})
			if len(evs) != 1 {
				t.Fatalf("events: %s", parsertest.Normalize(evs))
			}
			checkSummary(t, evs[0], map[string]any{"upgrade": proto, "status": 101})
			if len(evs[0].Anomalies) != 0 {
				t.Errorf("anomalies: %v", evs[0].Anomalies)
			}
		})
	}
}

// h2frame builds one HTTP/2 frame.
func h2frame(typ, flags uint8, stream uint32, payload []byte) string {
	var b [9]byte
	b[0], b[1], b[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	b[3], b[4] = typ, flags
	binary.BigEndian.PutUint32(b[5:], stream)
	return string(b[:]) + string(payload)
}

func hpackBlock(enc *hpack.Encoder, buf *bytes.Buffer, kv ...string) []byte {
	buf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), buf.Bytes()...)
}

func TestHTTP2PriorKnowledge(t *testing.T) {
	var cb, sb bytes.Buffer
	ce, se := hpack.NewEncoder(&cb), hpack.NewEncoder(&sb)
	req1 := hpackBlock(ce, &cb, ":method", "GET", ":scheme", "http", ":path", "/one.txt", ":authority", "h2.example", "user-agent", "h2load")
	req3 := hpackBlock(ce, &cb, ":method", "POST", ":scheme", "http", ":path", "/two", ":authority", "h2.example", "user-agent", "h2load")
	resp1 := hpackBlock(se, &sb, ":status", "200", "content-type", "text/plain")
	resp3 := hpackBlock(se, &sb, ":status", "201")
	settings := []byte{0, 3, 0, 0, 0, 100}
	segs := []parsertest.Segment{
		c(h2Preface + h2frame(4, 0, 0, settings) + h2frame(1, 0x5, 1, req1) +
			h2frame(1, 0x4, 3, req3[:len(req3)/2]) + h2frame(9, 0x4, 3, nil)[:0] + h2frame(0, 1, 3, []byte("form=1"))),
		s(h2frame(4, 0, 0, nil) + h2frame(4, 1, 0, nil) + h2frame(1, 0x4, 1, resp1) + h2frame(0, 0, 1, []byte("hello ")) +
			h2frame(0, 1, 1, []byte("world"))),
		s(h2frame(1, 0x5, 3, resp3) + h2frame(7, 0, 0, make([]byte, 8))),
	}
	// stream 3's header block is split: HEADERS without END_HEADERS, then CONTINUATION
	segs[0] = c(h2Preface + h2frame(4, 0, 0, settings) + h2frame(1, 0x5, 1, req1) +
		h2frame(1, 0x0, 3, req3[:len(req3)/2]) + h2frame(9, 0x4, 3, req3[len(req3)/2:]) + h2frame(0, 1, 3, []byte("form=1")))
	env, evs := run(t, parsertest.Conn(80), segs)
	reqs := byType(evs, TypeRequest)
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2: %s", len(reqs), parsertest.Normalize(evs))
	}
	checkSummary(t, reqs[0], map[string]any{"method": "GET", "uri": "/one.txt", "host": "h2.example", "status": 200,
		"version": "HTTP/2", "user_agent": "h2load", "response_body_bytes": 11})
	if reqs[0].Subject != "http://h2.example/one.txt" {
		t.Errorf("subject = %q", reqs[0].Subject)
	}
	if got := fileOf(t, env, reqs[0].Artifacts[0]); got != "hello world" {
		t.Errorf("stream 1 body = %q", got)
	}
	checkSummary(t, reqs[1], map[string]any{"method": "POST", "uri": "/two", "status": 201, "request_body_bytes": 6})
	sess := byType(evs, TypeHTTP2)
	if len(sess) != 1 {
		t.Fatalf("got %d http2-session events, want 1", len(sess))
	}
	checkSummary(t, sess[0], map[string]any{"streams": 2, "prior_knowledge": true})
	if fr := sess[0].Summary.Get("frames").(map[string]int); fr["HEADERS"] != 4 || fr["DATA"] != 3 || fr["CONTINUATION"] != 1 {
		t.Errorf("frame counts = %v", fr)
	}
	if len(sess[0].Anomalies) != 0 {
		t.Errorf("anomalies: %v", sess[0].Anomalies)
	}
}

func TestOversizedHeader(t *testing.T) {
	big := "X-Big: " + strings.Repeat("a", maxHeaderBytes) + "\r\n"
	_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /big HTTP/1.1\r\nHost: h\r\n" + big + "\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	})
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2: %s", len(evs), parsertest.Normalize(evs))
	}
	if !hasAnomaly(evs[0], "header block over") {
		t.Errorf("first request anomalies = %v, want the oversize one", evs[0].Anomalies)
	}
	checkSummary(t, evs[0], map[string]any{"uri": "/big", "host": "h", "status": 400})
	checkSummary(t, evs[1], map[string]any{"uri": "/next", "status": 200})
}

func TestGaps(t *testing.T) {
	t.Run("inside a known length", func(t *testing.T) {
		env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
			c("GET /f.bin HTTP/1.1\r\nHost: h\r\n\r\n"),
			s("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
			{Dir: parser.ServerToClient, Gap: 4},
			s("hij"),
			c("GET /g HTTP/1.1\r\nHost: h\r\n\r\n"),
			s("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"),
		})
		if len(evs) != 2 {
			t.Fatalf("events: %s", parsertest.Normalize(evs))
		}
		if got := fileOf(t, env, evs[0].Artifacts[0]); got != "abc\x00\x00\x00\x00hij" {
			t.Errorf("body = %q, want the gap zero-filled", got)
		}
		if !hasAnomaly(evs[0], "4 bytes of the body missing") {
			t.Errorf("anomalies = %v", evs[0].Anomalies)
		}
		checkSummary(t, evs[1], map[string]any{"uri": "/g", "status": 200})
	})
	t.Run("unknown size mid-body resyncs", func(t *testing.T) {
		_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
			c("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\nabc"),
			{Dir: parser.ClientToServer, Gap: -1},
			c("ody bytes\r\nmore\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n"),
			s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		})
		if len(evs) != 2 {
			t.Fatalf("events: %s", parsertest.Normalize(evs))
		}
		checkSummary(t, evs[0], map[string]any{"uri": "/up", "request_body_incomplete": true, "request_body_bytes": 3})
		if !hasAnomaly(evs[0], "capture gap") {
			t.Errorf("anomalies = %v", evs[0].Anomalies)
		}
		checkSummary(t, evs[1], map[string]any{"uri": "/after", "status": 200, "response_body_bytes": 2})
	})
}

func TestMidStreamStart(t *testing.T) {
	conn := parsertest.Conn(80)
	conn.MidStream = true
	_, evs := run(t, conn, []parsertest.Segment{
		s("rest of an earlier body\r\n</html>\n"),
		c("name=value&x=1"),
		s("HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"),
		c("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	})
	reqs := byType(evs, TypeRequest)
	if len(reqs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, reqs[0], map[string]any{"status": 302, "location": "/new", "method": nil})
	if !hasAnomaly(reqs[0], "response without a request") {
		t.Errorf("anomalies = %v", reqs[0].Anomalies)
	}
	checkSummary(t, reqs[1], map[string]any{"uri": "/b", "status": 200})
}

func TestGarbageResync(t *testing.T) {
	_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /a HTTP/1.1\r\nHost: h\r\n\r\n\x00\x01binary junk\r\nmore junk\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	})
	if len(evs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	if !hasAnomaly(evs[1], "not an HTTP request line") {
		t.Errorf("anomalies of the second event = %v", evs[1].Anomalies)
	}
	checkSummary(t, evs[1], map[string]any{"uri": "/b"})
}

func TestUnansweredAndIncomplete(t *testing.T) {
	_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"),
	})
	if len(evs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, evs[0], map[string]any{"response_body_incomplete": true, "response_body_bytes": 5})
	checkSummary(t, evs[1], map[string]any{"uri": "/y", "no_response": true})
}

func TestMultipartUpload(t *testing.T) {
	body := "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\Users\\\\me\\\\photo 1.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0JFIF data\r\n" +
		"--XyZ--\r\n"
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c(fmt.Sprintf("POST /upload.php HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %d\r\n\r\n%s", len(body), body)),
		s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	})
	ev := evs[0]
	var part *event.Artifact
	for i, a := range ev.Artifacts {
		if a.Parent != "" {
			part = &ev.Artifacts[i]
		}
	}
	if part == nil {
		t.Fatalf("no multipart file artifact in %+v", ev.Artifacts)
	}
	if part.Name != "photo 1.jpg" || part.ContentType != "image/jpeg" {
		t.Errorf("part artifact = %+v", part)
	}
	if got := fileOf(t, env, *part); got != "\xff\xd8\xff\xe0JFIF data" {
		t.Errorf("part content = %q", got)
	}
	checkSummary(t, ev, map[string]any{"request_files": []string{"photo 1.jpg"}, "request_body_name": "upload.php"})
}

func TestContentDispositionName(t *testing.T) {
	_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /download?id=7 HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"../../etc/report.pdf\"\r\nContent-Length: 4\r\n\r\n%PDF"),
	})
	if got := evs[0].Artifacts[0].Name; got != "report.pdf" {
		t.Errorf("artifact name = %q, want report.pdf", got)
	}
	checkSummary(t, evs[0], map[string]any{"filename": "report.pdf"})
}

// TestDispositionNameHostile feeds values that mime.ParseMediaType
// rejects, with runes whose lower case has another length than
// themselves: the name is read at the right place and nothing panics.
func TestDispositionNameHostile(t *testing.T) {
	tests := []struct{ in, want string }{
		{"attachment; FileName=a.txt; x", "a.txt"},
		{"\u0130\u0130\u0130 filename=b.txt", "b.txt"},
		{"\u0130\u0130\u0130 filename=", ""},
		{"\xff\xff\xfe filename=\"c d.pdf\" junk;", "c d.pdf"},
		{"\u0130filename", ""},
		{"K filename=k", "k"},
		{"attachment; filename='semi;colon.txt'; size=3", "semi_colon.txt"},
		{`attachment; filename="unclosed.txt; size=3`, "unclosed.txt"},
		{"attachment; name=x", ""},
	}
	for _, tt := range tests {
		if got := dispositionName(tt.in); got != tt.want {
			t.Errorf("dispositionName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSanitize covers what HTTP adds to parser.SafeFileName (tested
// there): names are percent-decoded first, so an encoded path still loses
// its directories.
func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"a%20b.txt", "a b.txt"},
		{"%2e%2e%2fx", "x"},
		{"..%2F..%5Cetc%2Fpasswd", "passwd"},
		{"bad%zzescape", "bad_zzescape"},
	}
	for _, tc := range tests {
		if got := sanitize(tc.in); got != tc.want {
			t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSmugglingAnomaly(t *testing.T) {
	_, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	})
	if len(evs) != 1 || !hasAnomaly(evs[0], "smuggling") {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
}

func TestPendingCap(t *testing.T) {
	var b strings.Builder
	for i := 0; i < maxPending+5; i++ {
		fmt.Fprintf(&b, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i)
	}
	env := parsertest.NewEnv()
	conn := parsertest.Conn(80)
	p := Detector{}.New(conn, env)
	p.ProcessPacket(parser.ClientToServer, []byte(b.String()), conn.Start)
	if got := len(env.Events); got != 5 {
		t.Errorf("%d events before the end, want the 5 pushed out by the cap", got)
	}
	p.EndProcess(parser.EndClosed, conn.Start)
	if got := len(env.Events); got != maxPending+5 {
		t.Errorf("%d events in all, want %d", got, maxPending+5)
	}
}

func TestHTTP2ServerFirst(t *testing.T) {
	var cb, sb bytes.Buffer
	ce, se := hpack.NewEncoder(&cb), hpack.NewEncoder(&sb)
	req := hpackBlock(ce, &cb, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")
	resp := hpackBlock(se, &sb, ":status", "404")
	_, evs := run(t, parsertest.Conn(8080), []parsertest.Segment{
		s(h2frame(4, 0, 0, []byte{0, 1, 0, 0, 0x10, 0})),
		c(h2Preface + h2frame(4, 0, 0, nil) + h2frame(1, 0x5, 1, req)),
		s(h2frame(1, 0x5, 1, resp)),
	})
	if len(evs) != 2 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, evs[0], map[string]any{"status": 404, "uri": "/"})
	checkSummary(t, evs[1], map[string]any{"server_settings": map[string]uint32{"header_table_size": 4096}})
	for _, ev := range evs {
		if len(ev.Anomalies) > 0 {
			t.Errorf("%s anomalies: %v", ev.Type, ev.Anomalies)
		}
	}
}

// TestDecodeContentReuse: decompressors taken back from the pool decode
// each body as new ones do, after good bodies and after broken ones.
func TestDecodeContentReuse(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	zl := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	raw := func(s string) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	cases := []struct {
		name, coding string
		data         []byte
		want         string
		wantErr      bool
	}{
		{"gzip", "gzip", gz("first body"), "first body", false},
		{"bad gzip", "gzip", []byte("not gzip at all"), "not gzip at all", true},
		{"gzip again", "gzip", gz(strings.Repeat("second ", 100)), strings.Repeat("second ", 100), false},
		{"truncated gzip", "x-gzip", gz("cut short body")[:15], "", true},
		{"gzip after truncated", "gzip", gz("third"), "third", false},
		{"zlib", "deflate", zl("zlib body"), "zlib body", false},
		{"raw deflate", "deflate", raw("raw body"), "raw body", false},
		{"zlib again", "deflate", zl("zlib two"), "zlib two", false},
		{"raw again", "deflate", raw("raw two"), "raw two", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeContent([]string{tc.coding}, tc.data, 1<<20)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && string(got) != tc.want {
				t.Errorf("decoded %q, want %q", got, tc.want)
			}
			if tc.name == "bad gzip" && string(got) != tc.want {
				t.Errorf("undecodable body gave %q, want it kept as sent", got)
			}
		})
	}
}

// TestBodyBufferReuse: bodies saved one after another on a connection,
// each in a buffer another released (announced length, chunked, gzip,
// a short one after long ones), are restored with their own bytes only.
func TestBodyBufferReuse(t *testing.T) {
	a, b, cc, d := strings.Repeat("a", 3000), strings.Repeat("b", 5000), strings.Repeat("c", 7000), "dddddddddd"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(cc))
	w.Close()
	env, evs := run(t, parsertest.Conn(80), []parsertest.Segment{
		c("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + a),
		c("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b, 1000, 3000)),
		c("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(gz.Len()) + "\r\n\r\n" + gz.String()),
		c("GET /d HTTP/1.1\r\nHost: h\r\n\r\n"),
		s("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + d),
	})
	reqs := byType(evs, TypeRequest)
	want := []string{a, b, cc, d}
	if len(reqs) != len(want) {
		t.Fatalf("got %d requests, want %d: %s", len(reqs), len(want), parsertest.Normalize(evs))
	}
	for i, w := range want {
		if len(reqs[i].Artifacts) != 1 {
			t.Fatalf("request %d: %d artifacts, want 1", i, len(reqs[i].Artifacts))
		}
		if got := fileOf(t, env, reqs[i].Artifacts[0]); got != w {
			t.Errorf("request %d: body restored as %d bytes %.20q..., want %d bytes %.20q...", i, len(got), got, len(w), w)
		}
	}
}

// oneByteErr reads one byte per call, then fails with err.
type oneByteErr struct {
	data []byte
	err  error
}

func (r *oneByteErr) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

// TestAppendAll: appendAll gives io.ReadAll's bytes and error, into an
// empty buffer of any capacity.
func TestAppendAll(t *testing.T) {
	errBroken := fmt.Errorf("broken stream")
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 100000} {
		data := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, dstCap := range []int{0, 1, 600, 200000} {
			for _, e := range []error{nil, errBroken} {
				t.Run(fmt.Sprintf("%d bytes, cap %d, error %v", n, dstCap, e), func(t *testing.T) {
					mk := func() *oneByteErr {
						r := &oneByteErr{data: data, err: e}
						if e == nil {
							r.err = io.EOF
						}
						return r
					}
					want, wantErr := io.ReadAll(mk())
					got, err := appendAll(make([]byte, 0, dstCap), mk())
					if !bytes.Equal(got, want) || err != wantErr {
						t.Errorf("got %d bytes, %v; want %d bytes, %v", len(got), err, len(want), wantErr)
					}
				})
			}
		}
	}
}

// TestPopQueue: the head comes off in request order, the vacated slot
// holds nothing, and the array stays for the next requests.
func TestPopQueue(t *testing.T) {
	k := newConn(parsertest.Conn(80), parsertest.NewEnv())
	ts := []*txn{{}, {}, {}}
	k.queue = append(k.queue, ts...)
	c0 := cap(k.queue)
	for i, want := range ts {
		if got := k.popQueue(); got != want {
			t.Fatalf("pop %d: got txn %p, want %p", i, got, want)
		}
		if n := len(k.queue); n != len(ts)-1-i {
			t.Fatalf("pop %d: %d left, want %d", i, n, len(ts)-1-i)
		}
		if x := k.queue[:len(k.queue)+1][len(k.queue)]; x != nil {
			t.Errorf("pop %d: vacated slot still holds a txn", i)
		}
	}
	if cap(k.queue) != c0 {
		t.Errorf("capacity %d after popping, want %d kept", cap(k.queue), c0)
	}
}

// TestHeaderLists: comma-separated header values, in one field or
// several, as values and contentLength read them.
func TestHeaderLists(t *testing.T) {
	tests := []struct {
		name, fields string
		te           []string
		n            int64
		ok           bool
		anomaly      string
	}{
		{"plain", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", []string{"chunked"}, 5, true, ""},
		{"repeated equal", "Content-Length: 5, 5\r\nContent-Length: 5\r\n", nil, 5, true, ""},
		{"conflicting", "Content-Length: 5,6\r\n", nil, 5, true, "conflicting Content-Length"},
		{"invalid", "Content-Length: five\r\n", nil, 0, false, "invalid Content-Length"},
		{"empty element", "Content-Length: 5,\r\n", nil, 0, false, "invalid Content-Length"},
		{"list", "Transfer-Encoding: gzip, ,Chunked\r\nTransfer-Encoding: x-Custom\r\n", []string{"gzip", "chunked", "x-custom"}, -1, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parseHeader([]byte("HTTP/1.1 200 OK\r\n"+tt.fields+"\r\n"), false, false)
			if got := m.values("transfer-encoding"); fmt.Sprint(got) != fmt.Sprint(tt.te) {
				t.Errorf("values = %q, want %q", got, tt.te)
			}
			n, ok := contentLength(m)
			if n != tt.n || ok != tt.ok {
				t.Errorf("contentLength = %d, %v; want %d, %v", n, ok, tt.n, tt.ok)
			}
			got := strings.Join(m.anomalies.Out(), "; ")
			if (tt.anomaly == "") != (got == "") || !strings.Contains(got, tt.anomaly) {
				t.Errorf("anomalies %q, want %q", got, tt.anomaly)
			}
		})
	}
}
