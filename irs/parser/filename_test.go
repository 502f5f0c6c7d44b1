package parser

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeFileName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\temp\a.exe`, "a.exe"},
		{"/pub/dir/", ""},
		{"..hidden", "hidden"},
		{" . .x", "x"},
		{"bad\x00name\x07.txt", "bad_name_.txt"},
		{"bad\xffutf8", "bad_utf8"},
		{"naïve.txt", "naïve.txt"},
		{"a|b;c$d.sh", "a_b_c_d.sh"},
		{"a%20b", "a_20b"}, // no percent-decoding here: that is HTTP's
		{"", ""},
		{"...", ""},
		{strings.Repeat("é", 100), strings.Repeat("é", 64)},
		{"x" + strings.Repeat("é", 100), "x" + strings.Repeat("é", 63)},
	}
	for _, tc := range tests {
		got := SafeFileName(tc.in)
		if got != tc.want {
			t.Errorf("SafeFileName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > maxFileName || !utf8.ValidString(got) {
			t.Errorf("SafeFileName(%q) = %q: %d bytes or invalid UTF-8", tc.in, got, len(got))
		}
	}
}
