package http

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCase is one public capture: what the other tools published for
// it, where sdnli differs and why, and the key facts checked here.
type goldenCase struct {
	file    string
	others  string // what Suricata, Zeek, nDPI or Arkime reported
	differs string // where sdnli differs, and why ("" when it agrees)
	check   func(t *testing.T, evs []*event.Event)
}

var goldenCases = []goldenCase{
	{"arkime__http-basicauth.pcap",
		"Arkime: GET, authType basic, status 304; Suricata: 1 http event",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := one(t, evs)
			checkSummary(t, ev, map[string]any{"method": "GET", "auth_scheme": "Basic", "user": "userrrrr", "password": nil,
				"status": 304, "response_body_bytes": nil})
		}},
	{"arkime__http-post-upload.pcap",
		"Arkime: GET×2, POST×1 to /fileupload/servlet/UploadHandleServlet, body MD5s 2b8cd757…, 3fa07f3e…, 550be33b…; Suricata: 3 http, 5 fileinfo",
		"sdnli also restores the multipart part 123.doc(5).exe as its own file (Arkime keeps the request body whole); " +
			"the part named file2 has an empty file name and is listed as a form field",
		func(t *testing.T, evs []*event.Event) {
			reqs := byType(evs, TypeRequest)
			if len(reqs) != 3 {
				t.Fatalf("got %d requests, want 3", len(reqs))
			}
			md5s := map[string]bool{}
			for _, ev := range reqs {
				for _, a := range ev.Artifacts {
					md5s[a.MD5] = true
				}
			}
			for _, m := range []string{"2b8cd757ab5ffba85acac26c008a1ffc", "3fa07f3ec9f9fefed96e9886f80760bb", "550be33bf0ac01b6f7ac175bb8f4522a"} {
				if !md5s[m] {
					t.Errorf("no restored body with Arkime's MD5 %s", m)
				}
			}
			checkSummary(t, reqs[2], map[string]any{"method": "POST", "request_files": []string{"123.doc(5).exe"},
				"request_form_fields": []string{"username", "file2"}})
		}},
	{"ndpi__http-proxy.pcapng",
		"nDPI: HTTP_Proxy, host http.com; Suricata: 1 http, 1 fileinfo",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := one(t, evs)
			if ev.Subject != "http://http.com/" {
				t.Errorf("subject = %q, want the absolute-form URL", ev.Subject)
			}
			checkSummary(t, ev, map[string]any{"content_encoding": "gzip", "response_body_bytes": 268, "status": 200})
			if n, _ := ev.Summary.Get("response_body_decoded_bytes").(int64); n <= 268 {
				t.Errorf("gzip body decoded to %d bytes, want more than 268", n)
			}
		}},
	{"ndpi__http.pcapng",
		"nDPI: HTTP.Google, host google.com; Suricata: 1 http",
		"",
		func(t *testing.T, evs []*event.Event) {
			checkSummary(t, one(t, evs), map[string]any{"host": "google.com", "status": 301, "response_body_bytes": 219})
		}},
	{"ndpi__http_auth.pcap",
		"nDPI: HTTP, host browserspy.dk; Suricata: 1 http (status 401)",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := one(t, evs)
			checkSummary(t, ev, map[string]any{"uri": "/password-ok.php", "status": 401, "transfer_encoding": "chunked"})
			if len(ev.Artifacts) != 1 {
				t.Errorf("chunked 401 body not restored")
			}
		}},
	{"ndpi__http_connect.pcap",
		"nDPI: HTTP_Connect to apache.org; Suricata: 1 http event, then TLS inside the tunnel",
		"sdnli stops at the tunnel (IsContinue false): the TLS inside is another protocol's business",
		func(t *testing.T, evs []*event.Event) {
			ev := one(t, evs)
			if ev.Subject != "CONNECT apache.org:443" {
				t.Errorf("subject = %q", ev.Subject)
			}
			checkSummary(t, ev, map[string]any{"tunnel": true, "status": 200})
		}},
	{"ndpi__http_ipv6.pcap",
		"nDPI: only TLS and QUIC flows; Suricata: no http event",
		"",
		func(t *testing.T, evs []*event.Event) {
			if len(evs) != 0 {
				t.Errorf("got %d events from a capture without cleartext HTTP", len(evs))
			}
		}},
	{"suricata-verify__http-post-file__input.pcap",
		"Suricata: 3 http events, a file sent to the server (filestore alert)",
		"",
		func(t *testing.T, evs []*event.Event) {
			reqs := byType(evs, TypeRequest)
			if len(reqs) != 3 {
				t.Fatalf("got %d requests, want 3", len(reqs))
			}
			for _, ev := range reqs {
				if ev.Summary.Get("method") != "POST" || ev.Summary.Get("request_body_sha256") == nil {
					t.Errorf("%s: request body not restored", ev.Subject)
				}
			}
		}},
	{"zeek__get.pcap",
		"(no published result) tshark: GET bro.org/download/CHANGES.bro-aux.txt, 200, 4705 bytes; Suricata: 1 http, 1 fileinfo",
		"",
		func(t *testing.T, evs []*event.Event) {
			ev := one(t, evs)
			checkSummary(t, ev, map[string]any{"host": "bro.org", "status": 200, "response_body_bytes": 4705, "response_body_name": "CHANGES.bro-aux.txt"})
		}},
	{"zeek__http-post-large.pcap",
		"(no published result) tshark: 2 POSTs of 61484 bytes answered with 60321; Suricata: 2 http, 4 fileinfo",
		"",
		func(t *testing.T, evs []*event.Event) {
			reqs := byType(evs, TypeRequest)
			if len(reqs) != 2 {
				t.Fatalf("got %d requests, want 2", len(reqs))
			}
			for _, ev := range reqs {
				checkSummary(t, ev, map[string]any{"request_body_bytes": 61484, "response_body_bytes": 60321})
			}
		}},
	{"zeek__multipart.pcap",
		"Zeek http.log: POST httpbin.org/post, request 350 / response 465 bytes, 200, three request files (one per multipart part), response text/json",
		"Zeek turns every multipart part into a file; sdnli restores only parts with a file name and lists the others (example, example2, example3) as form fields",
		func(t *testing.T, evs []*event.Event) {
			ev := one(t, evs)
			checkSummary(t, ev, map[string]any{"method": "POST", "host": "httpbin.org", "request_body_bytes": 350,
				"response_body_bytes": 465, "status": 200, "request_form_fields": []string{"example", "example2", "example3"}})
		}},
	{"zeek__pipelined-requests.pcap",
		"(no published result) tshark: 5 pipelined GETs to www.mozilla.org answered in order; Suricata: 5 http, 5 fileinfo",
		"",
		func(t *testing.T, evs []*event.Event) {
			reqs := byType(evs, TypeRequest)
			want := []struct {
				uri  string
				body int
			}{{"/style/enhanced.css", 946}, {"/script/urchin.js", 6716}, {"/images/template/screen/bullet_utility.png", 94},
				{"/images/template/screen/key-point-top.png", 2349}, {"/projects/calendar/images/header-sunbird.png", 27579}}
			if len(reqs) != len(want) {
				t.Fatalf("got %d requests, want %d", len(reqs), len(want))
			}
			for i, w := range want {
				checkSummary(t, reqs[i], map[string]any{"uri": w.uri, "status": 200, "response_body_bytes": w.body})
			}
		}},
}

func one(t *testing.T, evs []*event.Event) *event.Event {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	return evs[0]
}

// TestGolden runs the whole IRS pipeline over every public HTTP capture,
// compares the events with testdata/golden (regenerate with -update and
// review the diff) and checks the facts other tools published.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "http")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(Detector{})
			res := golden.Run(t, reg, parser.Options{}, filepath.Join(dir, tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			golden.Check(t, strings.TrimSuffix(strings.TrimSuffix(tc.file, ".pcapng"), ".pcap"), res.Events)
			for _, ev := range res.Events {
				for _, a := range ev.Artifacts {
					if _, err := os.Stat(filepath.Join(res.Store.Dir(), a.Path)); err != nil {
						t.Errorf("artifact %s not in the store: %v", a.Name, err)
					}
				}
			}
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
