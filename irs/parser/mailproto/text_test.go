package mailproto

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"alice@example.org", 100, "alice@example.org"},
		{"tab\tkept", 100, "tab\tkept"},
		{"nul\x00cr\rdel\x7f", 100, "nul.cr.del."},
		{"bad \xff utf8", 100, "bad ? utf8"},
		{"héllo", 100, "héllo"},
		{"cut here", 3, "cut"},
		{"h\xc3\xa9", 2, "h?"}, // a rune cut in half by max
		{"", 10, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q/%d", tc.in, tc.max), func(t *testing.T) {
			if got := Clean([]byte(tc.in), tc.max); got != tc.want {
				t.Errorf("Clean = %q; want %q", got, tc.want)
			}
			if got := CleanString(tc.in, tc.max); got != tc.want {
				t.Errorf("CleanString = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"MAIL FROM:<a>", 64, `"MAIL FROM:<a>"`},
		{"a\r\n", 64, `"a\r\n"`},
		{"abcdef", 3, `"abc"...`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Quote([]byte(tc.in), tc.max); got != tc.want {
				t.Errorf("Quote(%q, %d) = %s; want %s", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestAtoi(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true},
		{"1234", 1234, true},
		{"999999999", 999999999, true},
		{"1234567890", 0, false}, // too long to be a small number
		{"", 0, false},
		{"-1", 0, false},
		{"12a", 0, false},
		{" 1", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := Atoi([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Errorf("Atoi(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTLSRecordStart(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"handshake", []byte{0x16, 0x03, 0x01}, true},
		{"alert", []byte{0x15, 0x03}, true},
		{"application data", []byte{0x17, 0x03, 0x03}, true},
		{"change cipher spec, one byte", []byte{0x14}, true},
		{"SSLv2 hello", []byte{0x80, 0x2e}, true},
		{"handshake, wrong version", []byte{0x16, 0x02}, false},
		{"command", []byte("EHLO"), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TLSRecordStart(tc.in); got != tc.want {
				t.Errorf("TLSRecordStart(% x) = %v; want %v", tc.in, got, tc.want)
			}
		})
	}
	if TLSRecordStart([]byte(strings.Repeat("\x16", 2))) {
		t.Errorf("TLSRecordStart(16 16) = true; want false")
	}
}

func TestGapSize(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0"},
		{1460, "1460"},
		{-1, "an unknown number of"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := GapSize(tc.n); got != tc.want {
				t.Errorf("GapSize(%d) = %q; want %q", tc.n, got, tc.want)
			}
		})
	}
}

// TestAppendFields: the fields of bytes.Fields, with their capacities,
// after what dst held; for chosen lines and random ones of spaces,
// letters and Unicode spaces.
func TestAppendFields(t *testing.T) {
	lines := []string{"", " ", "UIDL", "1 whqtswO00WBw418f9t5JxYwZ", "  1\t\tabc \r\n", "a\vb\fc", "x\u00a0y z", "\u0085a", "+OK 1234 octets\r\n"}
	rng := rand.New(rand.NewSource(7))
	pieces := []string{" ", "\t", "\r", "\n", "a", "Z9", "\u00a0", "\u2003", "\xff", "é"}
	for range 2000 {
		var b strings.Builder
		for range rng.Intn(12) {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		lines = append(lines, b.String())
	}
	for _, l := range lines {
		var arr [2][]byte
		got := AppendFields(append(arr[:0], []byte("kept")), []byte(l))
		want := append([][]byte{[]byte("kept")}, bytes.Fields([]byte(l))...)
		if len(got) != len(want) {
			t.Fatalf("%q: %d fields, want %d (%q, want %q)", l, len(got), len(want), got, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) || cap(got[i]) != cap(want[i]) && i > 0 {
				t.Fatalf("%q: field %d %q (cap %d), want %q (cap %d)", l, i, got[i], cap(got[i]), want[i], cap(want[i]))
			}
		}
	}
}

// TestAppendClean: AppendClean appends what Clean returns, for chosen
// and random bytes (invalid UTF-8, controls, cuts inside a rune).
func TestAppendClean(t *testing.T) {
	ins := []string{"", "abc", "a\x00b\x7f", "caf\xc3\xa9", "\xff\xfe", "\xe2\x82", "tab\there", strings.Repeat("é", 50)}
	rng := rand.New(rand.NewSource(3))
	for range 2000 {
		b := make([]byte, rng.Intn(20))
		for i := range b {
			const alphabet = "a\x00\t\x7f\xc3\xa9\xe2\x82\xac\xff "
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		ins = append(ins, string(b))
	}
	for _, in := range ins {
		for _, max := range []int{0, 1, 3, 10, 70} {
			want := Clean([]byte(in), max)
			if got := string(AppendClean([]byte("kept:"), []byte(in), max)); got != "kept:"+want {
				t.Fatalf("AppendClean(%q, %d) = %q, want %q", in, max, got, "kept:"+want)
			}
		}
	}
}
