//go:build integration

package analyzer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/events"
	"github.com/sdnli/sdnli/controller/client"
)

func (e *env) names(res events.Result) []string {
	byID := map[uint64]string{}
	for n, id := range e.ids {
		byID[id] = n
	}
	var out []string
	for _, ev := range res.Events {
		out = append(out, byID[ev.ID])
	}
	return out
}

func TestSearchFilters(t *testing.T) {
	e := newEnv(t)
	ann := e.login("ann")
	tests := []struct {
		name, query string
		want        []string
	}{
		{"email", "email=alice@example.org", []string{"e3", "e2", "e1"}},
		{"email other case", "email=ALICE@Example.ORG", []string{"e3", "e2", "e1"}},
		{"email is exact", "email=alice", nil},
		{"email recipient", "email=bob@example.net", []string{"e2", "e1"}},
		{"ip client", "ip=192.0.2.10", []string{"e3", "e1", "e7"}},
		{"ip server", "ip=198.51.100.25", []string{"e2", "e1"}},
		{"ipv6", "ip=2001:db8::1", []string{"e4"}},
		{"ipv6 long form", "ip=2001:0db8:0:0::0001", []string{"e4"}},
		{"ipv4-mapped", "ip=::ffff:192.0.2.53", []string{"e7"}},
		{"protocol", "protocol=smtp", []string{"e8", "e6", "e2", "e1"}},
		{"type", "type=email-receive", []string{"e3"}},
		{"subject, any case", "subject=QUARTERLY", []string{"e3", "e2", "e1"}},
		{"subject wildcards are literal", "subject=" + url.QueryEscape("0%_d"), []string{"e8"}},
		{"subject percent", "subject=" + url.QueryEscape("%"), []string{"e8"}},
		{"subject underscore", "subject=" + url.QueryEscape("%_"), []string{"e8"}},
		{"subject underscore matches itself only", "subject=_d", []string{"e8"}},
		{"time range", "from=2024-05-01T10:00:00Z&to=2024-05-01T12:00:00Z", []string{"e3", "e2", "e1"}},
		{"time range other zone", "from=" + url.QueryEscape("2024-05-01T12:00:00+02:00") + "&to=2024-05-01T10:05:00Z", []string{"e1"}},
		{"email and protocol", "email=alice@example.org&protocol=smtp", []string{"e2", "e1"}},
		{"email and ip", "email=alice@example.org&ip=192.0.2.10", []string{"e3", "e1"}},
		{"oldest first", "protocol=smtp&sort=asc", []string{"e1", "e2", "e6", "e8"}},
		{"node", "node=" + nodeName, []string{"e8", "e6", "e5", "e4", "e3", "e2", "e1", "e7"}},
		{"no filter", "sort=desc", []string{"e8", "e6", "e5", "e4", "e3", "e2", "e1", "e7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res events.Result
			ann.getJSON("/api/v1/events?"+tc.query, &res)
			got := e.names(res)
			if !slices.Equal(got, tc.want) {
				t.Errorf("events = %v; want %v", got, tc.want)
			}
			if res.Total != int64(len(tc.want)) {
				t.Errorf("total = %d; want %d", res.Total, len(tc.want))
			}
		})
	}
	for _, q := range []string{"ip=nope", "from=yesterday", "limit=1000", "sort=sideways", "x=1", "cursor=!!"} {
		if code, body, _ := ann.do("GET", "/api/v1/events?"+q, nil); code != 400 {
			t.Errorf("GET ?%s: %d %s; want 400", q, code, body)
		}
	}
	// The addresses come with each result row.
	var res events.Result
	ann.getJSON("/api/v1/events?email=bob@example.net&sort=asc", &res)
	if len(res.Events) != 2 || len(res.Events[0].Addresses) != 4 || res.Events[0].Addresses[2].Address != "bob@example.net" {
		t.Errorf("addresses of e1 = %+v", res.Events[0].Addresses)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	ann := e.login("ann")
	page := func(q string) events.Result {
		var r events.Result
		ann.getJSON("/api/v1/events?"+q, &r)
		return r
	}
	tests := []struct {
		name     string
		query    string
		want     []string
		wantNext bool
	}{
		{"first page", "protocol=smtp&limit=3", []string{"e8", "e6", "e2"}, true},
		{"offset", "protocol=smtp&limit=3&offset=3", []string{"e1"}, false},
		{"offset past the end", "protocol=smtp&limit=3&offset=10", nil, false},
		{"exact fit has no next", "protocol=smtp&limit=4", []string{"e8", "e6", "e2", "e1"}, false},
		{"asc", "protocol=smtp&limit=2&sort=asc", []string{"e1", "e2"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := page(tc.query)
			if got := e.names(r); !slices.Equal(got, tc.want) {
				t.Errorf("events = %v; want %v", got, tc.want)
			}
			if r.Total != 4 {
				t.Errorf("total = %d; want 4", r.Total)
			}
			if (r.NextCursor != "") != tc.wantNext {
				t.Errorf("next_cursor = %q; want one: %v", r.NextCursor, tc.wantNext)
			}
		})
	}
	// Walk every event with the cursor, two at a time, both orders.
	for _, order := range []struct {
		sort string
		want []string
	}{
		{"desc", []string{"e8", "e6", "e5", "e4", "e3", "e2", "e1", "e7"}},
		{"asc", []string{"e7", "e1", "e2", "e3", "e4", "e5", "e6", "e8"}},
	} {
		var got []string
		cursor := ""
		for range 10 {
			r := page("limit=2&sort=" + order.sort + "&cursor=" + url.QueryEscape(cursor))
			got = append(got, e.names(r)...)
			if r.Total != 8 {
				t.Errorf("total with cursor = %d; want 8", r.Total)
			}
			if cursor = r.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, order.want) {
			t.Errorf("cursor walk %s = %v; want %v", order.sort, got, order.want)
		}
	}
	if code, _, _ := ann.do("GET", "/api/v1/events?offset=2&cursor="+url.QueryEscape(page("limit=1").NextCursor), nil); code != 400 {
		t.Errorf("offset and cursor together: %d; want 400", code)
	}
}

func TestEventDetail(t *testing.T) {
	e := newEnv(t)
	ann := e.login("ann")
	var ev map[string]any
	ann.getJSON(fmt.Sprintf("/api/v1/events/%d", e.ids["e1"]), &ev)
	checks := map[string]any{
		"protocol": "smtp", "type": "email-send", "transport": "tcp", "node": nodeName, "subject": "Quarterly report",
		"start": "2024-05-01T10:00:00Z", "end": "2024-05-01T10:01:00Z", "has_pcap": true,
		"uid": fmt.Sprintf("%032x", "e1"),
	}
	for k, want := range checks {
		if got := ev[k]; got != want {
			t.Errorf("%s = %v; want %v", k, got, want)
		}
	}
	if c := ev["client"].(map[string]any); c["ip"] != "192.0.2.10" || c["port"] != float64(40000) {
		t.Errorf("client = %v", c)
	}
	if s := ev["summary"].(map[string]any); s["helo"] != "client.example.org" {
		t.Errorf("summary = %v", s)
	}
	if _, leaked := ev["raw_ref"]; leaked {
		t.Errorf("raw_ref (a node-side path) is exposed")
	}
	addrs := ev["addresses"].([]any)
	if len(addrs) != 4 {
		t.Errorf("addresses = %v; want 4", addrs)
	}
	arts := ev["artifacts"].([]any)
	if len(arts) != 2 {
		t.Fatalf("artifacts = %v; want eml and attachment", arts)
	}
	for _, a := range arts {
		a := a.(map[string]any)
		key := "e1/" + a["kind"].(string)
		if a["sha256"] != e.sums[key] || uint64(a["id"].(float64)) != e.arts[key] {
			t.Errorf("artifact %s = %v; want sha %s id %d", key, a, e.sums[key], e.arts[key])
		}
		if _, leaked := a["path"]; leaked {
			t.Errorf("artifact path is exposed")
		}
	}
	for path, want := range map[string]int{"/api/v1/events/999999": 404, "/api/v1/events/abc": 400, "/api/v1/events/0": 400} {
		if code, _, _ := ann.do("GET", path, nil); code != want {
			t.Errorf("GET %s: %d; want %d", path, code, want)
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDownloads(t *testing.T) {
	e := newEnv(t)
	ann := e.login("ann")
	pcap, _ := os.ReadFile(filepath.Join(e.store.Dir(), e.paths["e1/pcap"]))
	tests := []struct {
		name, path, wantSHA, wantName string
		wantSize                      int
	}{
		{"eml", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e1/eml"]), e.sums["e1/eml"], fmt.Sprintf("event-%d.eml", e.ids["e1"]), -1},
		{"attachment", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e1/attachment"]), e.sums["e1/attachment"], "report.pdf", -1},
		{"hostile name", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e6/attachment"]), e.sums["e6/attachment"], "_img src=x onerror=window.__pwned=4_.html", -1},
		{"http file", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e5/file"]), e.sums["e5/file"], "index.html", -1},
		{"session pcap", fmt.Sprintf("/api/v1/events/%d/pcap", e.ids["e1"]), sha(pcap), fmt.Sprintf("event-%d.pcap", e.ids["e1"]), len(pcap)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, h := ann.do("GET", tc.path, nil)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			if got := sha(body); got != tc.wantSHA || h.Get(HeaderSHA256) != tc.wantSHA {
				t.Errorf("body sha %s, header %s; want %s", got, h.Get(HeaderSHA256), tc.wantSHA)
			}
			if tc.wantSize >= 0 && len(body) != tc.wantSize {
				t.Errorf("size %d; want %d", len(body), tc.wantSize)
			}
			disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || params["filename"] != tc.wantName {
				t.Errorf("Content-Disposition %q; want attachment; filename=%q", h.Get("Content-Disposition"), tc.wantName)
			}
			if h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("Content-Type %q nosniff %q", h.Get("Content-Type"), h.Get("X-Content-Type-Options"))
			}
		})
	}
	// Each download is in the audit log with its hash.
	var p audit.Page
	e.login("aud").getJSON("/api/v1/audit?action=download&outcome=ok", &p)
	if len(p.Entries) != len(tests) {
		t.Fatalf("%d download audit rows; want %d", len(p.Entries), len(tests))
	}
	for _, en := range p.Entries {
		var d map[string]any
		_ = json.Unmarshal(en.Detail, &d)
		if en.Actor != "ann" || en.ClientIP != "127.0.0.1" || len(fmt.Sprint(d["sha256"])) != 64 {
			t.Errorf("audit row %+v (detail %s)", en, en.Detail)
		}
	}

	t.Run("missing", func(t *testing.T) {
		for path, want := range map[string]int{"/api/v1/artifacts/999999": 404, "/api/v1/events/999999/pcap": 404,
			fmt.Sprintf("/api/v1/events/%d/pcap", e.ids["e2"]): 404} {
			if code, body, _ := ann.do("GET", path, nil); code != want {
				t.Errorf("GET %s: %d %s; want %d", path, code, body, want)
			}
		}
	})

	t.Run("corrupted on the node", func(t *testing.T) {
		file := filepath.Join(e.store.Dir(), e.paths["e1/attachment"])
		if err := os.WriteFile(file, []byte("%PDF-1.4 altered numbers!!"), 0o640); err != nil {
			t.Fatal(err)
		}
		code, body, _ := ann.do("GET", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e1/attachment"]), nil)
		if code != http.StatusBadGateway || !strings.Contains(string(body), "SHA-256 mismatch") {
			t.Errorf("status %d %s; want 502 naming the SHA-256 mismatch", code, body)
		}
		var p audit.Page
		e.login("aud").getJSON("/api/v1/audit?action=download&outcome=failure", &p)
		if len(p.Entries) == 0 || !strings.Contains(string(p.Entries[0].Detail), "SHA-256 mismatch") ||
			!strings.Contains(string(p.Entries[0].Detail), e.sums["e1/attachment"]) {
			t.Errorf("no audit row for the mismatch: %+v", p.Entries)
		}
		// The email view refuses it too.
		if err := os.WriteFile(filepath.Join(e.store.Dir(), e.paths["e1/eml"]), []byte("Subject: forged\r\n\r\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := ann.do("GET", fmt.Sprintf("/api/v1/events/%d/email", e.ids["e1"]), nil); code != 502 {
			t.Errorf("email view of an altered eml: %d %s; want 502", code, body)
		}
	})

	t.Run("altered in transit", func(t *testing.T) {
		// A proxy between analyzer and node that flips one byte of the
		// body but passes the node's hash header on unchanged.
		target, _ := url.Parse(e.irs.URL)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ModifyResponse = func(r *http.Response) error {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if len(b) > 100000 {
				b[100000] ^= 0xff
			}
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			return nil
		}
		proxy := httptest.NewServer(rp)
		defer proxy.Close()
		e.heartbeat(nodeName, proxy.URL)
		defer e.heartbeat(nodeName, e.irs.URL)

		resp, err := ann.hc.Get(e.web.URL + fmt.Sprintf("/api/v1/events/%d/pcap", e.ids["e1"]))
		if err != nil {
			t.Fatal(err)
		}
		got, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || rerr == nil || len(got) >= len(pcap) {
			t.Errorf("status %d, read %d of %d bytes, err %v; want a transfer cut before its end", resp.StatusCode, len(got), len(pcap), rerr)
		}
		var p audit.Page
		e.login("aud").getJSON("/api/v1/audit?action=download&outcome=failure", &p)
		if len(p.Entries) == 0 || !strings.Contains(string(p.Entries[0].Detail), "in transit") {
			t.Errorf("no audit row for the transit mismatch: %+v", p.Entries)
		}
	})

	t.Run("node without API", func(t *testing.T) {
		e.heartbeat(nodeName, "")
		defer e.heartbeat(nodeName, e.irs.URL)
		code, body, _ := ann.do("GET", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e5/file"]), nil)
		if code != 502 || !strings.Contains(string(body), "no API URL") {
			t.Errorf("status %d %s; want 502 naming the missing API URL", code, body)
		}
	})

	t.Run("wrong IRS token", func(t *testing.T) {
		e2 := newEnv(t, func(c *Config) { c.IRSToken = "wrong" })
		code, body, _ := e2.login("ann").do("GET", fmt.Sprintf("/api/v1/artifacts/%d", e2.arts["e5/file"]), nil)
		if code != 502 || !strings.Contains(string(body), "token") {
			t.Errorf("status %d %s; want 502 naming the token", code, body)
		}
	})
}

func TestEmailView(t *testing.T) {
	e := newEnv(t)
	ann := e.login("ann")
	var m Email
	ann.getJSON(fmt.Sprintf("/api/v1/events/%d/email", e.ids["e1"]), &m)
	if m.Subject != "Quarterly report" || len(m.From) != 1 || m.From[0].Address != "alice@example.org" ||
		len(m.To) != 1 || m.To[0].Name != "Bob" || !strings.Contains(m.Text, "numbers are attached") {
		t.Errorf("email = %+v", m)
	}
	if m.EML.SHA256 != e.sums["e1/eml"] || m.EML.ArtifactID != e.arts["e1/eml"] {
		t.Errorf("eml = %+v; want sha %s id %d", m.EML, e.sums["e1/eml"], e.arts["e1/eml"])
	}
	if len(m.Parts) != 1 || m.Parts[0].Name != "report.pdf" || m.Parts[0].SHA256 != e.sums["e1/attachment"] ||
		m.Parts[0].ArtifactID != e.arts["e1/attachment"] || m.Parts[0].Size != int64(len("%PDF-1.4 quarterly numbers")) {
		t.Errorf("attachments = %+v", m.Parts)
	}
	var names []string
	for _, h := range m.Headers {
		names = append(names, h.Name)
	}
	if !slices.Contains(names, "Subject") || !slices.Contains(names, "Message-ID") {
		t.Errorf("headers = %v", names)
	}
	if code, _, _ := ann.do("GET", fmt.Sprintf("/api/v1/events/%d/email", e.ids["e4"]), nil); code != 404 {
		t.Errorf("email of an event without one: %d; want 404", code)
	}
}

// TestHostileContent: script in the subject, body, file names and header
// fields comes back as JSON strings, HTML-escaped in the JSON text, and
// is never interpreted by the API.
func TestHostileContent(t *testing.T) {
	e := newEnv(t)
	ann := e.login("ann")
	for _, path := range []string{
		fmt.Sprintf("/api/v1/events/%d", e.ids["e6"]),
		fmt.Sprintf("/api/v1/events/%d/email", e.ids["e6"]),
		"/api/v1/events?email=mallory@evil.example",
	} {
		code, body, h := ann.do("GET", path, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if strings.ContainsAny(string(body), "<>") {
			t.Errorf("GET %s: raw < or > in the JSON text (want \\u003c escapes): %.200s", path, body)
		}
		if !strings.Contains(string(body), `\u003cimg src=x onerror=`) {
			t.Errorf("GET %s: the hostile text is missing (want it kept as data): %.300s", path, body)
		}
	}
	var m Email
	ann.getJSON(fmt.Sprintf("/api/v1/events/%d/email", e.ids["e6"]), &m)
	if m.Subject != hostileJS || len(m.From) != 1 || m.From[0].Name != hostileName || !strings.Contains(m.Text, "<script>window.__pwned=3</script>") {
		t.Errorf("hostile strings not returned verbatim: %+v", m)
	}
	if len(m.Parts) != 1 || m.Parts[0].Name != "<img src=x onerror=window.__pwned=4>.html" {
		t.Errorf("attachment name = %+v", m.Parts)
	}
	var note string
	for _, h := range m.Headers {
		if h.Name == "X-Note" {
			note = h.Value
		}
	}
	if note != "<script>window.__pwned=2</script>" {
		t.Errorf("X-Note = %q", note)
	}
}

func TestMirrorToggle(t *testing.T) {
	e := newEnv(t)
	root := e.login("root")
	var st MirrorState
	root.getJSON("/api/v1/mirror", &st)
	byName := map[string]MirrorProtocol{}
	for _, p := range st.Protocols {
		byName[p.Name] = p
	}
	if len(st.Protocols) < 14 || byName["smtp"].Name != "smtp" || !byName["smtp"].Parsers[nodeName] {
		t.Fatalf("mirror state = %+v", st)
	}
	// A second, stale node is left alone.
	e.heartbeat("irs-old", "http://127.0.0.1:1")
	if _, err := e.db.Exec("UPDATE irs_nodes SET last_heartbeat = UTC_TIMESTAMP(6) - INTERVAL 1 HOUR WHERE name = 'irs-old'"); err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{true, false, true} {
		var res ToggleResult
		code, body, _ := root.do("PUT", "/api/v1/mirror/smtp", map[string]bool{"enabled": on})
		if code != 200 {
			t.Fatalf("PUT smtp %v: %d %s", on, code, body)
		}
		_ = json.Unmarshal(body, &res)
		if res.Controller == nil || res.Controller.Protocol.Enabled != on {
			t.Errorf("controller answer %+v; want enabled=%v", res.Controller, on)
		}
		got, err := e.ctl.Policy().Get("smtp")
		if err != nil || got.Enabled != on {
			t.Errorf("controller policy smtp = %v, %v; want %v", got.Enabled, err, on)
		}
		if e.reg.Enabled("smtp") != on {
			t.Errorf("IRS parser smtp enabled = %v; want %v", e.reg.Enabled("smtp"), on)
		}
		results := map[string]string{}
		for _, n := range res.Nodes {
			results[n.Node] = n.Result
		}
		if results[nodeName] != "ok" || results["irs-old"] != "skipped" {
			t.Errorf("node results = %+v", res.Nodes)
		}
	}
	// The controller's state, read back through the analyzer.
	root.getJSON("/api/v1/mirror", &st)
	for _, p := range st.Protocols {
		if p.Name == "smtp" && !p.Enabled {
			t.Errorf("GET /mirror after enabling: smtp off")
		}
	}
	// A protocol the IRS has no parser for.
	var res ToggleResult
	code, body, _ := root.do("PUT", "/api/v1/mirror/ftp", map[string]bool{"enabled": true})
	_ = json.Unmarshal(body, &res)
	ftpResult := ""
	for _, n := range res.Nodes {
		if n.Node == nodeName {
			ftpResult = n.Result
		}
	}
	if code != 200 || ftpResult != "no-parser" {
		t.Errorf("PUT ftp: %d %s; want 200 with no-parser on %s", code, body, nodeName)
	}
	for _, tc := range []struct {
		path string
		body any
		want int
	}{
		{"/api/v1/mirror/nosuch", map[string]bool{"enabled": true}, 404},
		{"/api/v1/mirror/smtp", map[string]string{"enabled": "yes"}, 400},
		{"/api/v1/mirror/smtp", map[string]any{}, 400},
		{"/api/v1/mirror/SMTP;drop", map[string]bool{"enabled": true}, 400},
	} {
		if code, body, _ := root.do("PUT", tc.path, tc.body); code != tc.want {
			t.Errorf("PUT %s %v: %d %s; want %d", tc.path, tc.body, code, body, tc.want)
		}
	}
	var p audit.Page
	e.login("aud").getJSON("/api/v1/audit?action=mirror-toggle", &p)
	if len(p.Entries) < 4 || p.Entries[len(p.Entries)-1].Target != "smtp" || p.Entries[len(p.Entries)-1].Actor != "root" {
		t.Errorf("toggle audit rows = %+v", p.Entries)
	}

	// Status pages pass on the controller's view.
	var sw struct {
		Switches []any `json:"switches"`
	}
	root.getJSON("/api/v1/switches", &sw)
	var topo map[string]any
	root.getJSON("/api/v1/topology", &topo)
	if _, ok := topo["links"]; !ok {
		t.Errorf("topology = %v", topo)
	}
	var nodes struct {
		Nodes []events.Node `json:"nodes"`
	}
	root.getJSON("/api/v1/nodes", &nodes)
	if len(nodes.Nodes) != 2 || nodes.Nodes[0].Name != nodeName || nodes.Nodes[0].HeartbeatAge > 60 || nodes.Nodes[1].HeartbeatAge < 3500 {
		t.Errorf("nodes = %+v", nodes.Nodes)
	}
}

func TestControllerDown(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Controller = nil })
	root := e.login("root")
	for _, path := range []string{"/api/v1/mirror", "/api/v1/switches", "/api/v1/flows", "/api/v1/topology"} {
		if code, _, _ := root.do("GET", path, nil); code != 503 {
			t.Errorf("GET %s without a controller: %d; want 503", path, code)
		}
	}
	e2 := newEnv(t)
	e2.srv.cfg.Controller = clientAt("http://127.0.0.1:1")
	if code, body, _ := e2.login("root").do("PUT", "/api/v1/mirror/smtp", map[string]bool{"enabled": false}); code != 502 {
		t.Errorf("PUT with the controller unreachable: %d %s; want 502", code, body)
	}
}

func TestCSRFAndCookies(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SecureCookies = true })
	root := e.login("root")
	// The cookie is Secure only under TLS, which the jar honours: read
	// it from a fresh login instead.
	req, _ := http.NewRequest("POST", e.web.URL+"/api/v1/login", strings.NewReader(`{"name":"root","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || len(cookie.Value) != 64 {
		t.Fatalf("session cookie = %+v; want HttpOnly, Secure, SameSite=Strict, Path=/", cookie)
	}
	// The jar will not send a Secure cookie over http: attach it by hand.
	withCookie := map[string]string{"Cookie": CookieName + "=" + cookie.Value, "Content-Type": "application/json"}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	{
		req, _ := http.NewRequest("GET", e.web.URL+"/api/v1/me", nil)
		req.Header.Set("Cookie", withCookie["Cookie"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
	}
	merge := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range withCookie {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		want                     int
	}{
		{"no token", "PUT", "/api/v1/mirror/smtp", `{"enabled":true}`, merge(nil), 403},
		{"wrong token", "PUT", "/api/v1/mirror/smtp", `{"enabled":true}`, merge(map[string]string{HeaderCSRF: strings.Repeat("0", 64)}), 403},
		{"token of another session", "PUT", "/api/v1/mirror/smtp", `{"enabled":true}`, merge(map[string]string{HeaderCSRF: root.csrf}), 403},
		{"cross-site origin", "PUT", "/api/v1/mirror/smtp", `{"enabled":true}`, merge(map[string]string{HeaderCSRF: me.CSRF, "Origin": "http://evil.example"}), 403},
		{"cross-site fetch", "POST", "/api/v1/users", `{}`, merge(map[string]string{HeaderCSRF: me.CSRF, "Sec-Fetch-Site": "cross-site"}), 403},
		{"form post", "PUT", "/api/v1/mirror/smtp", `enabled=true`, merge(map[string]string{HeaderCSRF: me.CSRF, "Content-Type": "application/x-www-form-urlencoded"}), 415},
		{"good", "PUT", "/api/v1/mirror/smtp", `{"enabled":true}`, merge(map[string]string{HeaderCSRF: me.CSRF, "Origin": e.web.URL}), 200},
		{"logout without token", "POST", "/api/v1/logout", `{}`, merge(nil), 403},
		{"login as a form", "POST", "/api/v1/login", `name=root&password=x`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"login cross-site", "POST", "/api/v1/login", `{"name":"root","password":"` + password + `"}`, map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{"GET needs no token", "GET", "/api/v1/mirror", "", merge(nil), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{}
			req, _ := http.NewRequest(tc.method, e.web.URL+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s: %d %s; want %d", tc.method, tc.path, resp.StatusCode, b, tc.want)
			}
		})
	}
	// Logout ends the session server-side: the old cookie no longer works.
	u := e.login("ann")
	old := u.hc.Jar.Cookies(mustURL(e.web.URL))
	if code, _, _ := u.do("POST", "/api/v1/logout", map[string]string{}); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	req, _ = http.NewRequest("GET", e.web.URL+"/api/v1/me", nil)
	for _, c := range old {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("old cookie after logout: %d; want 401", resp.StatusCode)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestLoginRateLimit(t *testing.T) {
	t.Run("per user", func(t *testing.T) {
		e := newEnv(t)
		u := e.anon()
		for i := range 5 {
			if code, _, _ := u.do("POST", "/api/v1/login", map[string]string{"name": "ann", "password": "wrong password"}); code != 401 {
				t.Fatalf("failure %d: %d; want 401", i+1, code)
			}
		}
		code, body, h := u.do("POST", "/api/v1/login", map[string]string{"name": "ANN", "password": password})
		if code != 429 {
			t.Fatalf("6th attempt (right password): %d %s; want 429", code, body)
		}
		if ra := h.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After = %q", ra)
		}
		// Read the log directly: this address is locked out for a minute.
		p, err := audit.New(e.db).List(e.ctx, audit.Filter{Action: audit.ActionLogin, Outcome: audit.OutcomeDenied})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 6 || !strings.Contains(string(p.Entries[0].Detail), "rate limited") || p.Entries[1].ClientIP != "127.0.0.1" {
			t.Errorf("denied login audit rows = %d: %+v", len(p.Entries), p.Entries)
		}
	})
	t.Run("per address", func(t *testing.T) {
		e := newEnv(t)
		u := e.anon()
		for i := range 5 {
			if code, _, _ := u.do("POST", "/api/v1/login", map[string]string{"name": fmt.Sprintf("guess%d", i), "password": "wrong password"}); code != 401 {
				t.Fatalf("failure %d: %d; want 401", i+1, code)
			}
		}
		if code, _, _ := u.do("POST", "/api/v1/login", map[string]string{"name": "root", "password": password}); code != 429 {
			t.Errorf("other user from the same address: %d; want 429", code)
		}
	})
	t.Run("window passes", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.LoginWindow = 2 * time.Second })
		u := e.anon()
		for range 5 {
			u.do("POST", "/api/v1/login", map[string]string{"name": "ann", "password": "wrong password"})
		}
		if code, _, _ := u.do("POST", "/api/v1/login", map[string]string{"name": "ann", "password": password}); code != 429 {
			t.Fatalf("within the window: %d; want 429", code)
		}
		time.Sleep(2100 * time.Millisecond)
		if code, _, _ := u.do("POST", "/api/v1/login", map[string]string{"name": "ann", "password": password}); code != 200 {
			t.Errorf("after the window: %d; want 200", code)
		}
	})
	t.Run("unknown and disabled look alike", func(t *testing.T) {
		e := newEnv(t)
		root := e.login("root")
		root.do("PATCH", "/api/v1/users/zed", map[string]bool{"disabled": true})
		_, b1, _ := e.anon().do("POST", "/api/v1/login", map[string]string{"name": "zed", "password": password})
		_, b2, _ := e.anon().do("POST", "/api/v1/login", map[string]string{"name": "nobody", "password": password})
		if string(b1) != string(b2) {
			t.Errorf("disabled %s vs unknown %s: answers differ", b1, b2)
		}
	})
}

func TestUsersAPI(t *testing.T) {
	e := newEnv(t)
	root := e.login("root")
	ann := e.login("ann")
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"create", "POST", "/api/v1/users", map[string]string{"name": "eve", "role": "auditor", "password": "eve password 1"}, 201},
		{"duplicate", "POST", "/api/v1/users", map[string]string{"name": "EVE", "role": "auditor", "password": "eve password 1"}, 409},
		{"weak", "POST", "/api/v1/users", map[string]string{"name": "fay", "role": "analyst", "password": "short"}, 400},
		{"bad role", "POST", "/api/v1/users", map[string]string{"name": "fay", "role": "god", "password": "long enough password"}, 400},
		{"bad name", "POST", "/api/v1/users", map[string]string{"name": "<b>", "role": "analyst", "password": "long enough password"}, 400},
		{"unknown field", "POST", "/api/v1/users", map[string]string{"name": "fay", "role": "analyst", "password": "long enough password", "admin": "yes"}, 400},
		{"nothing to change", "PATCH", "/api/v1/users/ann", map[string]string{}, 400},
		{"no such user", "PATCH", "/api/v1/users/nobody", map[string]string{"role": "admin"}, 404},
		{"demote last admin", "PATCH", "/api/v1/users/root", map[string]string{"role": "analyst"}, 409},
		{"disable last admin", "PATCH", "/api/v1/users/root", map[string]bool{"disabled": true}, 409},
		{"new password for ann", "PATCH", "/api/v1/users/ann", map[string]string{"password": "a brand new password"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, body, _ := root.do(tc.method, tc.path, tc.body); code != tc.want {
				t.Errorf("%s %s: %d %s; want %d", tc.method, tc.path, code, body, tc.want)
			}
		})
	}
	// The change ended ann's session; the new password works.
	if code, _, _ := ann.do("GET", "/api/v1/me", nil); code != 401 {
		t.Errorf("ann's session after a password change: %d; want 401", code)
	}
	u := e.anon()
	if code, _, _ := u.do("POST", "/api/v1/login", map[string]string{"name": "ann", "password": "a brand new password"}); code != 200 {
		t.Errorf("login with the new password: %d", code)
	}
	var list struct {
		Users []map[string]any `json:"users"`
	}
	root.getJSON("/api/v1/users", &list)
	if len(list.Users) != 5 {
		t.Errorf("%d users; want 5", len(list.Users))
	}
	for _, u := range list.Users {
		for k := range u {
			if strings.Contains(k, "password_hash") || strings.Contains(k, "hash") {
				t.Errorf("user list exposes %s", k)
			}
		}
	}
	var p audit.Page
	e.login("aud").getJSON("/api/v1/audit?actor=root", &p)
	var creates, updates int
	for _, en := range p.Entries {
		switch en.Action {
		case audit.ActionUserCreate:
			creates++
			if strings.Contains(string(en.Detail), "eve password") || strings.Contains(string(en.Detail), "long enough") {
				t.Errorf("a password is in the audit log: %s", en.Detail)
			}
		case audit.ActionUserUpdate:
			updates++
		}
	}
	// Requests refused before they reach the accounts (unknown field,
	// nothing to change) are not account changes.
	if creates != 5 || updates != 4 {
		t.Errorf("audit: %d creates, %d updates; want 5 and 4", creates, updates)
	}
}

// TestAuditTrail: what the analyzer did is in the audit log, in a chain
// that verifies, and the log cannot be changed through the database.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	e.anon().do("POST", "/api/v1/login", map[string]string{"name": "ann", "password": "wrong password"})
	ann := e.login("ann")
	ann.do("GET", "/api/v1/events?email=alice@example.org&protocol=smtp", nil)
	ann.do("GET", fmt.Sprintf("/api/v1/artifacts/%d", e.arts["e1/eml"]), nil)
	ann.do("GET", "/api/v1/mirror", nil) // forbidden
	root := e.login("root")
	root.do("PUT", "/api/v1/mirror/dns", map[string]bool{"enabled": false})
	root.do("POST", "/api/v1/users", map[string]string{"name": "gil", "role": "analyst", "password": "gil password 1"})
	ann.do("POST", "/api/v1/logout", map[string]string{})

	aud := e.login("aud")
	var p audit.Page
	aud.getJSON("/api/v1/audit?limit=1000", &p)
	type row struct{ actor, action, outcome, target, detail string }
	want := []row{
		{"ann", "login", "denied", "ann", "bad credentials"},
		{"ann", "login", "ok", "ann", ""},
		{"ann", "search", "ok", "events", `"email":"alice@example.org"`},
		{"ann", "download", "ok", fmt.Sprintf("artifacts/%d", e.arts["e1/eml"]), e.sums["e1/eml"]},
		{"ann", "access", "denied", "GET /api/v1/mirror", "analyst"},
		{"root", "login", "ok", "root", ""},
		{"root", "mirror-toggle", "ok", "dns", `"enabled":false`},
		{"root", "user-create", "ok", "gil", `"role":"analyst"`},
		{"ann", "logout", "ok", "", ""},
		{"aud", "login", "ok", "aud", ""},
	}
	if len(p.Entries) != len(want) {
		for _, en := range p.Entries {
			t.Logf("%d %s %s %s %s %s", en.Seq, en.Actor, en.Action, en.Outcome, en.Target, en.Detail)
		}
		t.Fatalf("%d audit rows; want %d", len(p.Entries), len(want))
	}
	for i, w := range want {
		en := p.Entries[len(p.Entries)-1-i]
		if en.Actor != w.actor || en.Action != w.action || en.Outcome != w.outcome || en.Target != w.target ||
			!strings.Contains(string(en.Detail), w.detail) || en.ClientIP != "127.0.0.1" || en.Time.IsZero() {
			t.Errorf("row %d = %+v (detail %s); want %+v", i+1, en, en.Detail, w)
		}
	}
	var v audit.Verification
	aud.getJSON("/api/v1/audit/verify", &v)
	if !v.OK || v.Rows != uint64(len(want)) {
		t.Errorf("verify = %+v", v)
	}
	for _, stmt := range []string{"UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log WHERE seq = 1"} {
		if _, err := e.db.Exec(stmt); err == nil {
			t.Errorf("%s: accepted by the database", stmt)
		}
	}
	// Filters and paging.
	aud.getJSON("/api/v1/audit?actor=ann&action=login", &p)
	if len(p.Entries) != 2 {
		t.Errorf("ann's logins: %d; want 2", len(p.Entries))
	}
	aud.getJSON("/api/v1/audit?limit=4", &p)
	if len(p.Entries) != 4 || p.Next == 0 {
		t.Fatalf("page 1 = %d rows, next %d", len(p.Entries), p.Next)
	}
	var p2 audit.Page
	aud.getJSON(fmt.Sprintf("/api/v1/audit?limit=4&before=%d", p.Next), &p2)
	if len(p2.Entries) != 4 || p2.Entries[0].Seq != p.Entries[3].Seq-1 {
		t.Errorf("page 2 starts at %d; want %d", p2.Entries[0].Seq, p.Entries[3].Seq-1)
	}
	for _, q := range []string{"from=yesterday", "limit=0", "before=x"} {
		if code, _, _ := aud.do("GET", "/api/v1/audit?"+q, nil); code != 400 {
			t.Errorf("GET /audit?%s: %d; want 400", q, code)
		}
	}
}

func TestStaticUIAndHeaders(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path     string
		want     int
		ctPrefix string
	}{
		{"/", 200, "text/html"},
		{"/js/app.js", 200, "text/javascript"},
		{"/app.css", 200, "text/css"},
		{"/js/", 404, ""},
		{"/nope.html", 404, ""},
		{"/api/v1/nope", 404, "application/json"},
		{"/api/v1/openapi.json", 200, "application/json"},
		{"/api/v1/health", 200, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			code, body, h := e.anon().do("GET", tc.path, nil)
			if code != tc.want || !strings.HasPrefix(h.Get("Content-Type"), tc.ctPrefix) {
				t.Errorf("GET %s: %d %q; want %d %q (%.80s)", tc.path, code, h.Get("Content-Type"), tc.want, tc.ctPrefix, body)
			}
			if h.Get("Content-Security-Policy") != CSP || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("security headers missing: %v", h)
			}
		})
	}
	if !strings.Contains(CSP, "default-src 'self'") || strings.Contains(CSP, "unsafe") {
		t.Errorf("CSP %q", CSP)
	}
}

func clientAt(u string) Controller {
	return client.New(u, client.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}
