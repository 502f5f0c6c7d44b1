package analyzer

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"report.pdf", "../../etc/passwd", "<img src=x onerror=alert(1)>.pdf", "\x00", "..", "a\u202eb", "é/\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := SafeFilename(name)
		if got == "" || !utf8.ValidString(got) || utf8.RuneCountInString(got) > 120 {
			t.Fatalf("SafeFilename(%q) = %q: empty, invalid or too long", name, got)
		}
		if strings.ContainsAny(got, "/\\\"<>:|?*;%'") || strings.HasPrefix(got, ".") {
			t.Fatalf("SafeFilename(%q) = %q: unsafe character or leading dot", name, got)
		}
		for _, c := range got {
			if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
				t.Fatalf("SafeFilename(%q) = %q: control or format character %U", name, got, c)
			}
		}
		if v := contentDisposition(name); strings.ContainsAny(v, "\r\n") || !strings.HasPrefix(v, "attachment") {
			t.Fatalf("contentDisposition(%q) = %q", name, v)
		}
	})
}

func FuzzParseEmail(f *testing.F) {
	f.Add([]byte("Subject: hi\r\nFrom: a@b\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename=x\r\n\r\ndata\r\n--b--\r\n"))
	f.Add([]byte("X: =?utf-8?b?PHNjcmlwdD4=?=\r\n folded\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e := parseEmail(raw)
		if len(e.Headers) > maxHeaders {
			t.Fatalf("%d headers; want at most %d", len(e.Headers), maxHeaders)
		}
		for _, h := range e.Headers {
			if len(h.Value) > maxHeaderValue || !utf8.ValidString(h.Value) || !utf8.ValidString(h.Name) {
				t.Fatalf("header %q: %d bytes or invalid UTF-8", h.Name, len(h.Value))
			}
		}
		for _, p := range e.Parts {
			if len(p.SHA256) != 64 {
				t.Fatalf("attachment %q without a SHA-256", p.Name)
			}
		}
	})
}
