//go:build integration

package analyzer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/sdnli/sdnli/analyzer/auth"
	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/internal/testdb"
	irsapi "github.com/sdnli/sdnli/irs/api"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/sink"
	"github.com/sdnli/sdnli/irs/store"
)

// The integration fixture: a fresh MariaDB database, an IRS data
// directory served by the real IRS API, the real controller (no switch
// connected) serving its API, events written by the real sink, and the
// analyzer over all of it.

const (
	irsToken  = "irs-shared-token"
	ctlToken  = "controller-token"
	nodeName  = "irs-1"
	password  = "correct horse battery"
	hostileJS = `<img src=x onerror="window.__pwned=1;document.title='pwned'">`
	// hostileName is a display name: no double quotes inside.
	hostileName = `<img src=x onerror=window.__pwned=8>`
)

// stubDetector stands for a registered parser on the IRS node.
type stubDetector string

func (d stubDetector) Name() string                 { return string(d) }
func (stubDetector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }
func (stubDetector) IsRelative(*parser.Conn, parser.Direction, []byte) parser.Verdict {
	return parser.No
}
func (stubDetector) New(*parser.Conn, parser.Env) parser.Parser { return nil }

type env struct {
	t      *testing.T
	ctx    context.Context
	db     *sql.DB
	dsn    string
	store  *store.Store
	reg    *parser.Registry
	irs    *httptest.Server
	ctl    *controller.Controller
	ctlURL string
	srv    *Server
	web    *httptest.Server
	// ids maps fixture names (e1...) to event ids; arts to artifact ids
	// by "e1/eml", "e1/attachment"; paths to relative file paths.
	ids   map[string]uint64
	arts  map[string]uint64
	paths map[string]string
	sums  map[string]string
}

type envOption func(*Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, dsn := testdb.Shared(t)
	e := &env{t: t, ctx: ctx, db: db, dsn: dsn, ids: map[string]uint64{}, arts: map[string]uint64{}, paths: map[string]string{}, sums: map[string]string{}}

	// IRS node: data directory, parsers, API.
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	e.store = st
	e.reg = parser.NewRegistry()
	for _, p := range []string{"smtp", "pop3", "imap", "http", "dns"} {
		e.reg.Add(stubDetector(p))
	}
	api, err := irsapi.New(irsapi.Config{Store: st, Registry: e.reg, Token: irsToken, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("irs api: %v", err)
	}
	e.irs = httptest.NewServer(api)
	t.Cleanup(e.irs.Close)

	// Controller: the real one, no switch connected.
	c, err := controller.New(ctx, controller.Options{})
	if err != nil {
		t.Fatalf("controller: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Serve(ctx, ln) }()
	ctlSrv := httptest.NewServer(c.Handler(ctlToken))
	t.Cleanup(ctlSrv.Close)
	e.ctl, e.ctlURL = c, ctlSrv.URL

	e.loadEvents()
	e.heartbeat(nodeName, e.irs.URL)

	cfg := Config{DB: db, Controller: client.New(ctlSrv.URL, client.WithToken(ctlToken)), IRSToken: irsToken,
		BcryptCost: 4, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("analyzer: %v", err)
	}
	e.srv = srv
	e.web = httptest.NewServer(srv)
	t.Cleanup(e.web.Close)
	for _, u := range []struct{ name, role string }{
		{"root", auth.RoleAdmin}, {"ann", auth.RoleAnalyst}, {"aud", auth.RoleAuditor}, {"zed", auth.RoleAnalyst},
	} {
		if _, err := srv.Users().Create(ctx, u.name, u.role, password); err != nil {
			t.Fatalf("create %s: %v", u.name, err)
		}
	}
	return e
}

// heartbeat records an IRS node in irs_nodes the way a node does.
func (e *env) heartbeat(name, apiURL string) {
	e.t.Helper()
	stats := map[string]any{
		"engine":  map[string]any{"packets": 1234, "events": 8, "source": map[string]any{"kernel_drops": 3}},
		"parsers": map[string]bool{"smtp": true, "pop3": true, "imap": true, "http": true, "dns": true},
	}
	err := sink.Heartbeat(e.ctx, e.db, sink.NodeInfo{Name: name, APIURL: apiURL, Status: "capturing", StartedAt: time.Now().Add(-time.Hour), Stats: stats})
	if err != nil {
		e.t.Fatalf("heartbeat: %v", err)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func at(hhmm string) time.Time {
	t, err := time.Parse(time.RFC3339, "2024-05-01T"+hhmm+":00Z")
	if err != nil {
		panic(err)
	}
	return t
}

// emlWithAttachment builds a message with one attachment.
func emlWithAttachment(from, to, subject, body, attName, attData string) string {
	return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n" +
		"Date: Wed, 01 May 2024 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n" +
		"--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n" +
		"--BOUND\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" + attName + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64(attData) + "\r\n--BOUND--\r\n"
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// loadEvents stores the fixture's raw data in the IRS data directory and
// writes its events through the real sink.
func (e *env) loadEvents() {
	t := e.t
	save := func(key, kind, name, ctype string, data []byte) event.Artifact {
		a, err := e.store.SaveArtifact(kind, name, ctype, data)
		if err != nil {
			t.Fatalf("save %s: %v", key, err)
		}
		e.paths[key], e.sums[key] = a.Path, a.SHA256
		return a
	}
	// A session pcap larger than one streaming block, written as the
	// IRS writes them (whole packet records).
	sess, err := e.store.NewSessions(1).Create(store.SessionInfo{Protocol: "smtp", ID: 1,
		Client: netip.MustParseAddrPort("192.0.2.10:40000"), Server: netip.MustParseAddrPort("198.51.100.25:25"),
		Start: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), LinkType: layers.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 1400)
	for i := 0; i < 150; i++ {
		for j := range frame {
			frame[j] = byte(i*7 + j)
		}
		if err := sess.WritePacket(time.Date(2024, 5, 1, 10, 0, i, 0, time.UTC), len(frame), frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	rawRef := sess.Path()
	e.paths["e1/pcap"] = rawRef

	eml1 := emlWithAttachment("Alice <alice@example.org>", "Bob <bob@example.net>", "Quarterly report",
		"Hello Bob,\r\nthe numbers are attached.\r\n", "report.pdf", "%PDF-1.4 quarterly numbers")
	emlA := save("e1/eml", event.KindEML, "message.eml", "message/rfc822", []byte(eml1))
	att := save("e1/attachment", event.KindAttachment, "report.pdf", "application/octet-stream", []byte("%PDF-1.4 quarterly numbers"))
	att.Parent = emlA.SHA256

	hostileEML := "From: \"" + hostileName + "\" <mallory@evil.example>\r\nTo: victim@example.org\r\n" +
		"Subject: " + hostileJS + "\r\nX-Note: <script>window.__pwned=2</script>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n" +
		"<script>window.__pwned=3</script><b>bold?</b>\r\n--B\r\nContent-Type: text/html\r\n" +
		"Content-Disposition: attachment; filename=\"<img src=x onerror=window.__pwned=4>.html\"\r\n\r\n" +
		"<script>window.__pwned=5</script>\r\n--B--\r\n"
	hostEML := save("e6/eml", event.KindEML, "message.eml", "message/rfc822", []byte(hostileEML))
	hostAtt := save("e6/attachment", event.KindAttachment, "<img src=x onerror=window.__pwned=4>.html", "text/html", []byte("<script>window.__pwned=5</script>"))
	hostAtt.Parent = hostEML.SHA256
	file5 := save("e5/file", event.KindFile, "index.html", "text/html", []byte("<html>hello</html>"))

	evs := map[string]*event.Event{
		"e1": {Protocol: "smtp", Type: "email-send", Start: at("10:00"), End: at("10:01"), Transport: "tcp",
			Client: ap("192.0.2.10:40000"), Server: ap("198.51.100.25:25"), Subject: "Quarterly report",
			Summary: event.FieldsOf(map[string]any{"helo": "client.example.org", "mail_from": "alice@example.org"}),
			Addresses: []event.Address{{Address: "alice@example.org", Role: event.RoleMail}, {Address: "alice@example.org", Role: event.RoleFrom},
				{Address: "bob@example.net", Role: event.RoleRcpt}, {Address: "bob@example.net", Role: event.RoleTo}},
			Artifacts: []event.Artifact{emlA, att}, RawRef: rawRef},
		"e2": {Protocol: "smtp", Type: "email-send", Start: at("10:05"), End: at("10:06"), Transport: "tcp",
			Client: ap("192.0.2.11:40001"), Server: ap("198.51.100.25:25"), Subject: "Re: Quarterly report",
			Addresses: []event.Address{{Address: "bob@example.net", Role: event.RoleFrom}, {Address: "Alice@example.org", Role: event.RoleTo}}},
		"e3": {Protocol: "pop3", Type: "email-receive", Start: at("11:00"), End: at("11:02"), Transport: "tcp",
			Client: ap("192.0.2.10:40002"), Server: ap("198.51.100.110:110"), Subject: "Quarterly report",
			Addresses: []event.Address{{Address: "alice@example.org", Role: event.RoleUser}}},
		"e4": {Protocol: "imap", Type: "logon", Start: at("12:00"), End: at("12:00"), Transport: "tcp",
			Client: ap("[2001:db8::10]:40003"), Server: ap("[2001:db8::1]:143"),
			Addresses: []event.Address{{Address: "carol@example.com", Role: event.RoleUser}}},
		"e5": {Protocol: "http", Type: "request", Start: at("13:00"), End: at("13:00"), Transport: "tcp",
			Client: ap("192.0.2.12:40004"), Server: ap("203.0.113.80:80"), Subject: "http://www.example.com/index.html",
			Artifacts: []event.Artifact{file5}},
		"e6": {Protocol: "smtp", Type: "email-send", Start: at("14:00"), End: at("14:01"), Transport: "tcp",
			Client: ap("192.0.2.66:40005"), Server: ap("198.51.100.66:25"), Subject: hostileJS,
			Anomalies: []string{"<script>window.__pwned=6</script>"},
			Summary:   event.Fields{{Key: "helo", Value: "<img src=x onerror=window.__pwned=7>"}},
			Addresses: []event.Address{{Address: "mallory@evil.example", Role: event.RoleFrom}, {Address: "victim@example.org", Role: event.RoleTo}},
			Artifacts: []event.Artifact{hostEML, hostAtt}},
		"e7": {Protocol: "dns", Type: "query", Start: at("09:00"), End: at("09:00"), Transport: "udp",
			Client: ap("192.0.2.10:5353"), Server: ap("192.0.2.53:53"), Subject: "example.org"},
		"e8": {Protocol: "smtp", Type: "email-send", Start: at("15:00"), End: at("15:00"), Transport: "tcp",
			Client: ap("192.0.2.13:40006"), Server: ap("198.51.100.26:587"), Subject: "100%_done",
			Addresses: []event.Address{{Address: "dave@example.org", Role: event.RoleFrom}}},
	}
	s, err := sink.New(sink.Config{DSN: e.dsn, SpoolDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("sink: %v", err)
	}
	for name, ev := range evs {
		ev.UID = fmt.Sprintf("%032x", name)
		ev.Node = nodeName
		s.Put(ev)
	}
	cctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	if err := s.Close(cctx); err != nil {
		t.Fatalf("sink close: %v", err)
	}
	for name := range evs {
		var id uint64
		if err := e.db.QueryRow("SELECT id FROM events WHERE uid = ?", fmt.Sprintf("%032x", name)).Scan(&id); err != nil {
			t.Fatalf("event %s not stored: %v", name, err)
		}
		e.ids[name] = id
		rows, err := e.db.Query("SELECT id, kind FROM artifacts WHERE event_id = ?", id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var aid uint64
			var kind string
			_ = rows.Scan(&aid, &kind)
			e.arts[name+"/"+kind] = aid
		}
		rows.Close()
	}
}

// user is an HTTP client of the analyzer with its own cookie jar.
type user struct {
	e    *env
	name string
	hc   *http.Client
	csrf string
}

func (e *env) anon() *user {
	jar, _ := cookiejar.New(nil)
	return &user{e: e, hc: &http.Client{Jar: jar}}
}

// login logs name in and fails the test if it does not work.
func (e *env) login(name string) *user {
	e.t.Helper()
	u := e.anon()
	code, body, _ := u.do("POST", "/api/v1/login", map[string]string{"name": name, "password": password})
	if code != 200 {
		e.t.Fatalf("login %s: %d %s", name, code, body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.CSRF == "" {
		e.t.Fatalf("login %s: no csrf token in %s", name, body)
	}
	u.name, u.csrf = name, me.CSRF
	return u
}

// do sends a request (with the CSRF header when logged in) and returns
// the status, body and headers.
func (u *user) do(method, path string, body any) (int, []byte, http.Header) {
	u.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.e.web.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.csrf != "" && method != "GET" {
		req.Header.Set(HeaderCSRF, u.csrf)
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		u.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// getJSON fetches path, requires 200 and decodes into v.
func (u *user) getJSON(path string, v any) {
	u.e.t.Helper()
	code, body, _ := u.do("GET", path, nil)
	if code != 200 {
		u.e.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		u.e.t.Fatalf("GET %s: decode: %v: %s", path, err, body)
	}
}
