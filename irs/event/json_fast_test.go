package event

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// plainRunRef is plainRun byte by byte: the first byte from i on that
// is not plain ASCII for the escaping chosen.
func plainRunRef(s string, i int, html bool) int {
	safe := &htmlSafe
	if !html {
		safe = &plainSafe
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !safe[c] {
			return i
		}
	}
	return len(s)
}

// TestPlainRun puts every byte value at every position of a string long
// enough for two words and a tail, and requires plainRun to stop exactly
// where the byte-by-byte table does (a false mark above the first true
// one must not matter, a miss would leave a byte unescaped).
func TestPlainRun(t *testing.T) {
	for _, html := range []bool{true, false} {
		t.Run(fmt.Sprintf("html=%v", html), func(t *testing.T) {
			for pos := range 19 {
				for c := range 256 {
					b := []byte(strings.Repeat("a", 19))
					b[pos] = byte(c)
					for from := 0; from <= pos; from += 3 {
						want := plainRunRef(string(b), from, html)
						if got := plainRun(string(b), from, html); got != want {
							t.Fatalf("byte %#02x at %d, from %d: want %d, got %d", c, pos, from, want, got)
						}
					}
				}
			}
		})
	}
}

// TestPlainRunRandom compares plainRun with the table on random strings
// made mostly of the bytes that sit next to the ones to escape (where a
// borrow or a carry could hide one).
func TestPlainRunRandom(t *testing.T) {
	alphabet := []byte("aZ~\x00\x01\x1f\x20\x21\"#\\]<=>?&%'\x7f\x80\xbf\xc3\xe2\xff")
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		for _, html := range []bool{true, false} {
			want := plainRunRef(s, 0, html)
			if got := plainRun(s, 0, html); got != want {
				t.Fatalf("case %d %q html=%v: want %d, got %d", n, s, html, want, got)
			}
		}
	}
}
