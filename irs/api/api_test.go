package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// stubDetector is a registry entry that never claims anything.
type stubDetector string

func (d stubDetector) Name() string                 { return string(d) }
func (stubDetector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }
func (stubDetector) IsRelative(*parser.Conn, parser.Direction, []byte) parser.Verdict {
	return parser.No
}
func (stubDetector) New(*parser.Conn, parser.Env) parser.Parser { return nil }

const token = "s3cret-token"

type fixture struct {
	srv   *httptest.Server
	store *store.Store
	reg   *parser.Registry
	eml   string // relative path of a saved artifact
	sum   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	reg := parser.NewRegistry()
	reg.Add(stubDetector("smtp"))
	reg.Add(stubDetector("http"))
	a, err := st.SaveArtifact("eml", "message.eml", "message/rfc822", []byte("Subject: hi\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatalf("SaveArtifact: %v", err)
	}
	// A file outside the served trees, and a secret outside the directory.
	if err := os.MkdirAll(filepath.Join(st.Dir(), "spool"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.Dir(), "spool", "events-1.jsonl"), []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(st.Dir(), "files", "link")); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Registry: reg, Token: token, Status: func() any { return map[string]int{"packets": 7} }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: st, reg: reg, eml: a.Path, sum: a.SHA256}
}

func TestNewRequiresToken(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	if _, err := New(Config{Store: st, Registry: parser.NewRegistry(), Token: " "}); err == nil {
		t.Fatalf("New with a blank token: got nil error; want a refusal")
	}
}

func TestRawAndAuth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		path     string
		token    string
		wantCode int
	}{
		{"artifact", f.eml, token, 200},
		{"no token", f.eml, "", 401},
		{"wrong token", f.eml, "nope", 401},
		{"missing file", "files/00/0000", token, 404},
		{"spool is private", "spool/events-1.jsonl", token, 404},
		{"dot dot", "files/../spool/events-1.jsonl", token, 400},
		{"absolute", "/etc/passwd", token, 404},
		{"symlink out", "files/link", token, 400},
		{"directory", "files/tmp", token, 404},
		{"empty", "", token, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/raw?path="+url.QueryEscape(tc.path), nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, body, tc.wantCode)
			}
			if tc.wantCode != 200 {
				if strings.Contains(string(body), "secret") {
					t.Errorf("body leaks the file outside: %s", body)
				}
				return
			}
			sum := sha256.Sum256(body)
			if got := resp.Header.Get(HeaderSHA256); got != hex.EncodeToString(sum[:]) || got != f.sum {
				t.Errorf("%s = %q; want %q (hash of the body and of the artifact)", HeaderSHA256, got, f.sum)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("Content-Type = %q; want application/octet-stream", got)
			}
		})
	}
}

func TestClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := NewClient(token)

	rf, err := c.Raw(ctx, f.srv.URL, f.eml)
	if err != nil {
		t.Fatalf("Raw: %v", err)
	}
	b, _ := io.ReadAll(rf.Body)
	rf.Body.Close()
	if rf.SHA256 != f.sum || rf.Size != int64(len(b)) {
		t.Errorf("Raw: sha %q size %d (read %d); want %q and the body length", rf.SHA256, rf.Size, len(b), f.sum)
	}
	if _, err := c.Raw(ctx, f.srv.URL, "files/00/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Raw(missing) err = %v; want ErrNotFound", err)
	}
	if _, err := NewClient("bad").Raw(ctx, f.srv.URL, f.eml); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Raw with a bad token err = %v; want ErrUnauthorized", err)
	}
	if _, err := c.Raw(ctx, "ftp://x", f.eml); err == nil {
		t.Errorf("Raw with an ftp URL: nil error")
	}

	if err := c.SetParser(ctx, f.srv.URL, "smtp", false); err != nil {
		t.Fatalf("SetParser(smtp, false): %v", err)
	}
	if f.reg.Enabled("smtp") {
		t.Errorf("smtp still enabled after SetParser(false)")
	}
	got, err := c.Parsers(ctx, f.srv.URL)
	if err != nil {
		t.Fatalf("Parsers: %v", err)
	}
	if got["smtp"] || !got["http"] || len(got) != 2 {
		t.Errorf("Parsers = %v; want smtp off, http on", got)
	}
	if err := c.SetParser(ctx, f.srv.URL, "smtp", true); err != nil || !f.reg.Enabled("smtp") {
		t.Errorf("SetParser(smtp, true): %v, enabled %v", err, f.reg.Enabled("smtp"))
	}
	if err := c.SetParser(ctx, f.srv.URL, "sstp", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetParser(unknown) err = %v; want ErrNotFound", err)
	}
}

func TestSetParserBadBody(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{"", "{}", `{"enabled":"yes"}`, `{"enabled":true,"x":1}`, "[" + strings.Repeat("[", 10000)} {
		req, _ := http.NewRequest("PUT", f.srv.URL+"/api/v1/parsers/smtp", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("body %.20q: status %d; want 400", body, resp.StatusCode)
		}
	}
	if !f.reg.Enabled("smtp") {
		t.Errorf("a bad body switched smtp off")
	}
}

func TestStatusAndHealth(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path, auth string
		code       int
		body       string
	}{
		{"/healthz", "", 200, "ok"},
		{"/api/v1/status", token, 200, `"packets":7`},
		{"/api/v1/status", "", 401, "token"},
		{"/nope", token, 404, "no such route"},
	} {
		req, _ := http.NewRequest("GET", f.srv.URL+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", "Bearer "+tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.body) {
			t.Errorf("GET %s: %d %s; want %d containing %q", tc.path, resp.StatusCode, b, tc.code, tc.body)
		}
	}
}

// A session pcap cut inside its last packet (a write still in progress)
// is served up to its last whole packet, with the hash of what is served.
func TestRawSessionPcapWholePackets(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.store.Dir(), "sessions", "2026", "11", "21")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// pcap header (little-endian, raw IP) and one 4-byte packet, then
	// half of a second record.
	whole := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 101, 0, 0, 0}
	whole = append(whole, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 4)
	cut := append(append([]byte(nil), whole...), 0, 0, 0, 0, 0, 0, 0, 0, 9)
	if err := os.WriteFile(filepath.Join(dir, "smtp-1-a_1-b_2.pcap"), cut, 0o640); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/raw?path="+url.QueryEscape("sessions/2026/11/21/smtp-1-a_1-b_2.pcap"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(whole)
	if resp.StatusCode != 200 || string(body) != string(whole) || resp.Header.Get(HeaderSHA256) != hex.EncodeToString(sum[:]) {
		t.Errorf("status %d, %d bytes, hash %s; want 200, the %d bytes of whole records and their hash",
			resp.StatusCode, len(body), resp.Header.Get(HeaderSHA256), len(whole))
	}
}
