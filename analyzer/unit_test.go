package analyzer

import (
	"mime"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSafeFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\evil.exe`, "evil.exe"},
		{"<img src=x onerror=alert(1)>.pdf", "_img src=x onerror=alert(1)_.pdf"},
		{"a\r\nContent-Type: text/html", "html"},
		{"a\r\nContent-Type: text", "a__Content-Type_ text"},
		{"..hidden", "hidden"},
		{"", "download.bin"},
		{"\x00\x01", "__"},
		{"résumé “final”.docx", "résumé “final”.docx"},
		{"rtl\u202egnp.exe", "rtl_gnp.exe"},
		{strings.Repeat("a", 300), strings.Repeat("a", 120)},
		{"bad\xffutf8", "bad_utf8"},
		{`quote".txt`, "quote_.txt"},
	}
	for _, tc := range tests {
		if got := SafeFilename(tc.in); got != tc.want {
			t.Errorf("SafeFilename(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, name := range []string{"report.pdf", "résumé.pdf", "<script>.html", "a\"b;c.txt", "../x", "\r\n"} {
		v := contentDisposition(name)
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("contentDisposition(%q) = %q: has a line break", name, v)
		}
		disp, params, err := mime.ParseMediaType(v)
		if err != nil || disp != "attachment" {
			t.Errorf("contentDisposition(%q) = %q: parses as %q, %v; want attachment", name, v, disp, err)
			continue
		}
		if got, want := params["filename"], SafeFilename(name); got != want {
			t.Errorf("contentDisposition(%q) filename = %q; want %q", name, got, want)
		}
	}
}

func TestParseSearch(t *testing.T) {
	tests := []struct {
		query   string
		wantErr string
		check   func(t *testing.T, got string)
	}{
		{"email=Alice@Example.org&protocol=smtp&limit=10&offset=20&sort=asc", "", nil},
		{"ip=192.0.2.1", "", nil},
		{"ip=::ffff:192.0.2.1", "", nil},
		{"ip=999.1.1.1", "ip", nil},
		{"from=2024-05-01T10:00:00Z&to=2024-05-02T00:00:00%2B02:00", "", nil},
		{"from=yesterday", "from", nil},
		{"sort=up", "sort", nil},
		{"limit=-1", "limit", nil},
		{"limit=501", "limit", nil},
		{"offset=100001", "offset", nil},
		{"bogus=1", "unknown parameter", nil},
		{"email=a&email=b", "given 2 times", nil},
		{"cursor=%%%", "", nil},
		{"cursor=!!!", "cursor", nil},
		{"cursor=MTcxNDU1NzYwMDAwMDAwMC4xMg&offset=5", "either offset or cursor", nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, perr := url.ParseQuery(tc.query)
			if perr != nil {
				return // not a query a client can send
			}
			q, err := parseSearch(v)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v; want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want one mentioning %q (query %+v)", err, tc.wantErr, q)
			}
		})
	}
	q, _ := parseSearch(url.Values{"ip": {"::ffff:192.0.2.1"}, "limit": {"0"}})
	if q.IP.String() != "192.0.2.1" || q.Limit != 50 {
		t.Errorf("ip/limit = %v/%d; want 192.0.2.1/50", q.IP, q.Limit)
	}
}

func TestParseEmailHostile(t *testing.T) {
	raw := "From: \"<img src=x onerror=alert(1)>\" <evil@example.org>\r\n" +
		"To: victim@example.org\r\n" +
		"Subject: =?UTF-8?B?PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==?=\r\n" +
		"X-Evil: <svg onload=alert(2)>\r\n" +
		"  folded\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\n<script>alert(3)</script>\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"<img src=x onerror=alert(4)>.pdf\"\r\n\r\nPDF\r\n--b--\r\n"
	e := parseEmail([]byte(raw))
	if e.Subject != "<script>alert(1)</script>" {
		t.Errorf("Subject = %q; want the decoded text as is", e.Subject)
	}
	if len(e.From) != 1 || e.From[0].Name != "<img src=x onerror=alert(1)>" {
		t.Errorf("From = %+v", e.From)
	}
	if !strings.Contains(e.Text, "<script>alert(3)</script>") {
		t.Errorf("Text = %q", e.Text)
	}
	if len(e.Parts) != 1 || e.Parts[0].Name != "<img src=x onerror=alert(4)>.pdf" || len(e.Parts[0].SHA256) != 64 {
		t.Errorf("Parts = %+v", e.Parts)
	}
	var evil string
	for _, h := range e.Headers {
		if h.Name == "X-Evil" {
			evil = h.Value
		}
	}
	if evil != "<svg onload=alert(2)> folded" {
		t.Errorf("X-Evil = %q; want unfolded value", evil)
	}
	if len(e.Headers) != 6 {
		t.Errorf("%d headers; want 6: %+v", len(e.Headers), e.Headers)
	}
}

func TestHeaderListBounded(t *testing.T) {
	var b strings.Builder
	for range 2000 {
		b.WriteString("X-A: " + strings.Repeat("v", 100) + "\r\n")
	}
	b.WriteString("X-Long: " + strings.Repeat("é", 10000) + "\r\n\r\nbody")
	h := headerList([]byte(b.String()))
	if len(h) != maxHeaders {
		t.Errorf("%d headers; want the cap %d", len(h), maxHeaders)
	}
	h = headerList([]byte("X-Long: " + strings.Repeat("é", 10000) + "\r\n\r\n"))
	if len(h) != 1 || len(h[0].Value) > maxHeaderValue || !strings.HasSuffix(h[0].Value, "é") {
		t.Errorf("long header: %d bytes; want at most %d, whole runes", len(h[0].Value), maxHeaderValue)
	}
	if h := headerList([]byte("no header at all")); len(h) != 0 {
		t.Errorf("headerList(garbage) = %+v", h)
	}
}

func TestCrossSite(t *testing.T) {
	tests := []struct {
		origin, fetchSite string
		want              bool
	}{
		{"", "", false},
		{"http://analyzer.example:8443", "same-origin", false},
		{"http://evil.example", "", true},
		{"", "cross-site", true},
		{"null", "", true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("POST", "http://analyzer.example:8443/api/v1/login", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		if got := crossSite(r); got != tc.want {
			t.Errorf("crossSite(origin %q, site %q) = %v; want %v", tc.origin, tc.fetchSite, got, tc.want)
		}
	}
}
