package mailproto

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// readAll feeds data to a LineReader in the given pieces and returns the
// lines it gave (line ends included) and the overflows, in order.
func readAll(pieces [][]byte) []string {
	var r LineReader
	var out []string
	for _, d := range pieces {
		for len(d) > 0 {
			line, n, over := r.Next(d)
			if over {
				out = append(out, "<overflow>")
			}
			if line != nil {
				out = append(out, string(line))
			}
			d = d[n:]
		}
	}
	return out
}

func splits(data []byte, seed int64) map[string][][]byte {
	bytewise := make([][]byte, len(data))
	for i := range data {
		bytewise[i] = data[i : i+1]
	}
	rnd := rand.New(rand.NewSource(seed))
	var random [][]byte
	for d := data; len(d) > 0; {
		n := 1 + rnd.Intn(len(d))
		random = append(random, d[:n])
		d = d[n:]
	}
	return map[string][][]byte{"whole": {data}, "bytewise": bytewise, "random": random}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	exact := strings.Repeat("y", MaxLine)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"two lines", "EHLO a\r\nQUIT\r\n", []string{"EHLO a\r\n", "QUIT\r\n"}},
		{"bare LF", "a\nb\n", []string{"a\n", "b\n"}},
		{"partial last line", "a\r\nb", []string{"a\r\n"}},
		{"empty line", "\r\n\n", []string{"\r\n", "\n"}},
		{"over-long line dropped", long + "\r\nnext\r\n", []string{"<overflow>", "next\r\n"}},
		{"longest line kept", exact + "\n", []string{exact + "\n"}},
		{"one byte too long", exact + "\r\n", []string{"<overflow>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for how, pieces := range splits([]byte(tc.in), 7) {
				got := readAll(pieces)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					g, w := fmt.Sprint(got), fmt.Sprint(tc.want)
					t.Errorf("%s: got %.80q; want %.80q", how, g, w)
				}
			}
		})
	}
}

func TestLineReaderState(t *testing.T) {
	var r LineReader
	if !r.AtStart() {
		t.Fatalf("new reader: AtStart false; want true")
	}
	if line, n, _ := r.Next([]byte("par")); line != nil || n != 3 {
		t.Fatalf("Next(partial) = %q, %d; want nil, 3", line, n)
	}
	if r.AtStart() {
		t.Errorf("inside a line: AtStart true; want false")
	}
	if r.Buffered() == 0 {
		t.Errorf("inside a line: Buffered 0; want the partial line's buffer")
	}
	r.Reset()
	if !r.AtStart() {
		t.Errorf("after Reset: AtStart false; want true")
	}
	if line, _, _ := r.Next([]byte("tial\n")); string(line) != "tial\n" {
		t.Errorf("after Reset: line %q; want %q (the partial line dropped)", line, "tial\n")
	}
	r.Next([]byte(strings.Repeat("z", MaxLine+1)))
	if r.AtStart() {
		t.Errorf("skipping an over-long line: AtStart true; want false")
	}
	r.Release()
	if r.Buffered() != 0 || !r.AtStart() {
		t.Errorf("after Release: Buffered %d, AtStart %v; want 0, true", r.Buffered(), r.AtStart())
	}
}

func TestTrimEOL(t *testing.T) {
	tests := []struct {
		in, want string
		bare     bool
	}{
		{"QUIT\r\n", "QUIT", false},
		{"QUIT\n", "QUIT", true},
		{"QUIT", "QUIT", false},
		{"\n", "", true},
		{"", "", false},
		{"a\r\r\n", "a\r", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, bare := TrimEOL([]byte(tc.in))
			if string(got) != tc.want || bare != tc.bare {
				t.Errorf("TrimEOL(%q) = %q, %v; want %q, %v", tc.in, got, bare, tc.want, tc.bare)
			}
		})
	}
}

func TestAppendBounded(t *testing.T) {
	tests := []struct {
		name      string
		buf       []byte
		add       int
		limit     int
		wantLen   int
		wantAdded int
	}{
		{"fits", nil, 10, 100, 10, 10},
		{"cut at the limit", make([]byte, 90), 20, 100, 100, 10},
		{"full", make([]byte, 100), 5, 100, 100, 0},
		{"large add", nil, 5000, 4096, 4096, 4096},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n := AppendBounded(tc.buf, bytes.Repeat([]byte("a"), tc.add), tc.limit)
			if len(got) != tc.wantLen || n != tc.wantAdded {
				t.Errorf("len %d, added %d; want %d, %d", len(got), n, tc.wantLen, tc.wantAdded)
			}
			if cap(got) > tc.limit && cap(got) > cap(tc.buf) {
				t.Errorf("cap %d; want at most the limit %d", cap(got), tc.limit)
			}
		})
	}
	// Growth is geometric: many small appends do not reallocate each time.
	var buf []byte
	grows := 0
	for i := 0; i < 10000; i++ {
		c := cap(buf)
		buf, _ = AppendBounded(buf, []byte("0123456789"), 1<<20)
		if cap(buf) != c {
			grows++
		}
	}
	if grows > 20 {
		t.Errorf("%d reallocations for 10000 appends; want geometric growth", grows)
	}
}

func TestReserve(t *testing.T) {
	for _, c := range []struct {
		name            string
		have, n, limit  int
		wantCap, keepAs int
	}{
		{"announced", 0, 5000, 1 << 20, 5000, 0},
		{"above the limit", 0, 5000, 3000, 3000, 0},
		{"hostile", 0, 1 << 30, 64 << 20, MaxReserve, 0},
		{"already room", 8000, 5000, 1 << 20, 8000, 0},
		{"keeps what it holds", 10, 5000, 1 << 20, 5000, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			buf := make([]byte, c.keepAs, max(c.have, c.keepAs))
			for i := range buf {
				buf[i] = byte(i)
			}
			got := Reserve(buf, c.n, c.limit)
			if cap(got) != c.wantCap || len(got) != c.keepAs {
				t.Errorf("Reserve: len %d cap %d, want len %d cap %d", len(got), cap(got), c.keepAs, c.wantCap)
			}
			for i := range got {
				if got[i] != byte(i) {
					t.Fatalf("byte %d changed", i)
				}
			}
		})
	}
}

// TestMessageBuffers: a released buffer comes back empty and never over
// the taker's limit; one over MaxPooled is not kept. (The pool may drop
// anything at any time, so reuse itself is not asserted.)
func TestMessageBuffers(t *testing.T) {
	for _, c := range []struct {
		name     string
		capacity int
		limit    int
	}{
		{"reusable", 8 << 10, 1 << 20},
		{"over the taker's limit", 8 << 10, 4 << 10},
		{"too large to keep", MaxPooled + 1, 64 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			buf := append(make([]byte, 0, c.capacity), "secret message"...)
			first := &buf[:1][0]
			ReleaseBuffer(buf)
			for range 8 {
				got := TakeBuffer(c.limit)
				if len(got) != 0 || cap(got) > c.limit {
					t.Fatalf("TakeBuffer(%d): len %d cap %d, want len 0, cap at most %d", c.limit, len(got), cap(got), c.limit)
				}
				if c.capacity > MaxPooled && cap(got) > 0 && &got[:1][0] == first {
					t.Fatalf("a buffer of %d bytes (over MaxPooled %d) came back", c.capacity, MaxPooled)
				}
				if cap(got) > 0 {
					ReleaseBuffer(got)
				}
			}
		})
	}
	ReleaseBuffer(nil) // nothing to keep, no panic
}
