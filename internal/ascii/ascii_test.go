package ascii

import (
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	tests := []struct {
		s, sub        string
		prefix, equal bool
		index         int
	}{
		{"MAIL FROM:<a@b>", "mail from:", true, false, 0},
		{"mail from:", "MAIL FROM:", true, true, 0},
		{"x-Filename=a", "FILENAME=", false, false, 2},
		{"\u0130\u0130 filename=b", "filename=", false, false, 5},
		{"\xff\xfe FileName=", "filename=", false, false, 3},
		{"\u017f", "s", false, false, -1}, // long s: Unicode folding only
		{"\u212a", "k", false, false, -1}, // Kelvin sign
		{"@[", "`{", false, false, -1},    // not letters: the case bit alone is no match
		{"", "", true, true, 0},
		{"ab", "abc", false, false, -1},
		{"AbCabc", "ABC", true, false, 0},
		{"zzzABC", "abc", false, false, 3},
	}
	for _, tt := range tests {
		if got := HasPrefixFold(tt.s, tt.sub); got != tt.prefix {
			t.Errorf("HasPrefixFold(%q, %q) = %v", tt.s, tt.sub, got)
		}
		if got := EqualFold([]byte(tt.s), tt.sub); got != tt.equal {
			t.Errorf("EqualFold(%q, %q) = %v", tt.s, tt.sub, got)
		}
		if got := IndexFold(tt.s, []byte(tt.sub)); got != tt.index {
			t.Errorf("IndexFold(%q, %q) = %d, want %d", tt.s, tt.sub, got, tt.index)
		}
		if got := ContainsFold([]byte(tt.s), tt.sub); got != (tt.index >= 0) {
			t.Errorf("ContainsFold(%q, %q) = %v", tt.s, tt.sub, got)
		}
	}
}

// FuzzIndexFold holds IndexFold to strings.Index of both sides lowered
// where lowering keeps every byte's place (ASCII text), and requires an
// index that fits s everywhere.
func FuzzIndexFold(f *testing.F) {
	f.Add("Content-Disposition: FILENAME=x", "filename=")
	f.Add("\u0130\u0130\u0130 filename=", "filename=")
	f.Fuzz(func(t *testing.T, s, sub string) {
		i := IndexFold(s, sub)
		if i >= 0 && (i+len(sub) > len(s) || !EqualFold(s[i:i+len(sub)], sub)) {
			t.Fatalf("IndexFold(%q, %q) = %d, which does not hold sub", s, sub, i)
		}
		if isASCII(s) && isASCII(sub) {
			if want := strings.Index(strings.ToLower(s), strings.ToLower(sub)); i != want {
				t.Fatalf("IndexFold(%q, %q) = %d, want %d", s, sub, i, want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestLowerUpper(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if want := strings.ToLower(string(rune(b))); b < 0x80 && string(Lower(b)) != want {
			t.Errorf("Lower(%q) = %q, want %q", b, Lower(b), want)
		}
		if want := strings.ToUpper(string(rune(b))); b < 0x80 && string(Upper(b)) != want {
			t.Errorf("Upper(%q) = %q, want %q", b, Upper(b), want)
		}
		if b >= 0x80 && (Lower(b) != b || Upper(b) != b) {
			t.Errorf("byte %#x changed", b)
		}
	}
}
