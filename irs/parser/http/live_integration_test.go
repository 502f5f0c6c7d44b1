//go:build integration

package http

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func storedFile(t *testing.T, res golden.Result, a event.Artifact) []byte {
	t.Helper()
	p, err := res.Store.Resolve(a.Path)
	if err != nil {
		t.Fatalf("artifact %s: %v", a.Name, err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("artifact %s: %v", a.Name, err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func port(t *testing.T, u string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLiveHTTP runs curl against Go's HTTP server on loopback, captures
// the traffic with tcpdump and feeds the capture through the whole IRS
// pipeline: real clients and servers cut and time the streams their own
// way.
func TestLiveHTTP(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("integration: curl not installed: %v", err)
	}
	text := strings.Repeat("a line the server streams in chunks\n", 3000)
	pdf := []byte("%PDF-1.4\n" + strings.Repeat("binary \x00\x01\x02 report data\n", 500))
	upload := []byte(strings.Repeat("holiday photo bytes ", 400))
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/stream.txt", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		for i := 0; i < len(text); i += 20000 {
			gz.Write([]byte(text[i:min(i+20000, len(text))]))
			gz.Flush()
			w.(nethttp.Flusher).Flush()
		}
		gz.Close()
	})
	mux.HandleFunc("/download", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="report.pdf"`)
		w.Write(pdf)
	})
	mux.HandleFunc("/upload", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		f, _, err := r.FormFile("file")
		if err != nil {
			nethttp.Error(w, err.Error(), 400)
			return
		}
		n, _ := io.Copy(io.Discard, f)
		fmt.Fprintf(w, "stored %d bytes\n", n)
	})
	mux.HandleFunc("/private/", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			nethttp.Error(w, "no", nethttp.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "welcome")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// HTTP/2 without TLS (h2c), which curl speaks with prior knowledge.
	h2 := httptest.NewUnstartedServer(mux)
	h2.Config.Protocols = new(nethttp.Protocols)
	h2.Config.Protocols.SetUnencryptedHTTP2(true)
	h2.Start()
	defer h2.Close()
	upPath := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(upPath, upload, 0o644); err != nil {
		t.Fatal(err)
	}

	capFile := netlab.Capture(t, "lo", fmt.Sprintf("tcp and (port %s or port %s)", port(t, srv.URL), port(t, h2.URL)), func() {
		// two requests on one kept-alive connection
		runCmd(t, curl, "-s", "-o", "/dev/null", "--compressed", srv.URL+"/stream.txt", "-o", "/dev/null", srv.URL+"/download")
		runCmd(t, curl, "-s", "-o", "/dev/null", "-F", "title=holiday", "-F", "file=@"+upPath, srv.URL+"/upload")
		runCmd(t, curl, "-s", "-o", "/dev/null", "-u", "alice:secret", srv.URL+"/private/")
		runCmd(t, curl, "-s", "-o", "/dev/null", "--http2-prior-knowledge", h2.URL+"/download")
	})

	reg := parser.NewRegistry()
	reg.Add(Detector{})
	opts := parser.DefaultOptions()
	opts.RecordPasswords = true
	res := golden.Run(t, reg, opts, capFile)
	if res.Err != nil {
		t.Fatalf("engine: %v", res.Err)
	}
	byURI := map[string]*event.Event{}
	for _, ev := range byType(res.Events, TypeRequest) {
		key := fmt.Sprint(ev.Summary.Get("version"), " ", ev.Summary.Get("uri"))
		if byURI[key] != nil {
			t.Errorf("two events for %s", key)
		}
		byURI[key] = ev
	}
	get := func(key string) *event.Event {
		t.Helper()
		ev := byURI[key]
		if ev == nil {
			t.Fatalf("no event for %s; have %v", key, byURI)
		}
		return ev
	}

	ev := get("HTTP/1.1 /stream.txt")
	checkSummary(t, ev, map[string]any{"status": 200, "transfer_encoding": "chunked", "content_encoding": "gzip"})
	if len(ev.Artifacts) != 1 || string(storedFile(t, res, ev.Artifacts[0])) != text {
		t.Errorf("streamed gzip body not restored to the text")
	}
	ev = get("HTTP/1.1 /download")
	if len(ev.Artifacts) != 1 || ev.Artifacts[0].Name != "report.pdf" || ev.Artifacts[0].SHA256 != sha(pdf) {
		t.Errorf("download artifact = %+v, want report.pdf with the served bytes", ev.Artifacts)
	}
	if ev.Client != get("HTTP/1.1 /stream.txt").Client {
		t.Errorf("the two requests of one curl run came from different connections")
	}
	ev = get("HTTP/1.1 /upload")
	checkSummary(t, ev, map[string]any{"method": "POST", "request_files": []string{"photo.jpg"}, "request_form_fields": []string{"title"}})
	found := false
	for _, a := range ev.Artifacts {
		found = found || a.Name == "photo.jpg" && a.SHA256 == sha(upload)
	}
	if !found {
		t.Errorf("uploaded file not restored: %+v", ev.Artifacts)
	}
	ev = get("HTTP/1.1 /private/")
	checkSummary(t, ev, map[string]any{"user": "alice", "password": "secret", "status": 200})
	ev = get("HTTP/2 /download")
	checkSummary(t, ev, map[string]any{"status": 200, "method": "GET"})
	if len(ev.Artifacts) != 1 || ev.Artifacts[0].SHA256 != sha(pdf) {
		t.Errorf("HTTP/2 body not restored: %+v", ev.Artifacts)
	}
	if n := len(byType(res.Events, TypeHTTP2)); n != 1 {
		t.Errorf("got %d http2-session events, want 1", n)
	}
	for _, ev := range res.Events {
		if len(ev.Anomalies) > 0 {
			t.Errorf("%s %s: anomalies %v", ev.Type, ev.Subject, ev.Anomalies)
		}
	}
}
