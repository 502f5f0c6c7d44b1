package mail

import (
	"bytes"
	"strings"

	"github.com/sdnli/sdnli/irs/parser/mailproto"
	"testing"
)

// feedAll feeds in pieces of size step (0: whole) and returns the decoder,
// bytes consumed and whether the end was found.
func feedAll(in []byte, step, max, keepRaw int) (*DotDecoder, int, bool) {
	d := NewDotDecoder(max, keepRaw)
	used := 0
	for used < len(in) {
		end := len(in)
		if step > 0 && used+step < end {
			end = used + step
		}
		n, done := d.Feed(in[used:end])
		used += n
		if done {
			return d, used, true
		}
	}
	return d, used, false
}

func TestDotDecoder(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      string // decoded message
		used      int    // bytes consumed (-1: all)
		done      bool
		loose     int
		nul, long bool
	}{
		{"simple", "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", "Subject: x\r\n\r\nbody\r\n", 23, true, 0, false, false},
		{"empty message", ".\r\nQUIT\r\n", "", 3, true, 0, false, false},
		{"dot stuffed", "a\r\n..b\r\n...\r\n.\r\n", "a\r\n.b\r\n..\r\n", -1, true, 0, false, false},
		{"dot stuffed first line", "..x\r\n.\r\n", ".x\r\n", -1, true, 0, false, false},
		{"bare lf lines kept", "a\nb\r\n.\r\n", "a\nb\r\n", -1, true, 0, false, false},
		{"lf dot crlf is loose", "a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n", -1, true, 1, false, false},
		{"crlf dot lf is loose", "a\r\n.\nb\r\n.\r\n", "a\r\n.\nb\r\n", -1, true, 1, false, false},
		{"lf dot lf is loose", "a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", -1, true, 1, false, false},
		{"cr dot crlf is loose", "a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", -1, true, 1, false, false},
		{"crlf dot cr is loose", "a\r\n.\rb\r\n.\r\n", "a\r\n.\rb\r\n", -1, true, 1, false, false},
		{"no end", "a\r\nb\r\n", "a\r\nb\r\n", -1, false, 0, false, false},
		{"dot then text not end", "a\r\n.b\r\n", "a\r\nb\r\n", -1, false, 0, false, false},
		{"bare cr dot text", "a\r.b\r\n.\r\n", "a\r.b\r\n", -1, true, 0, false, false},
		{"nul byte", "a\x00b\r\n.\r\n", "a\x00b\r\n", -1, true, 0, true, false},
		{"long line", string(bytes.Repeat([]byte("x"), 1001)) + "\r\n.\r\n", string(bytes.Repeat([]byte("x"), 1001)) + "\r\n", -1, true, 0, false, true},
	}
	for _, tc := range tests {
		for _, step := range []int{0, 1, 2, 3, 7} {
			d, used, done := feedAll([]byte(tc.in), step, 1<<20, 1<<10)
			wantUsed := tc.used
			if wantUsed < 0 {
				wantUsed = len(tc.in)
			}
			if got := string(d.Bytes()); got != tc.want {
				t.Errorf("%s step %d: message %q; want %q", tc.name, step, got, tc.want)
			}
			if used != wantUsed || done != tc.done {
				t.Errorf("%s step %d: consumed %d done %v; want %d %v", tc.name, step, used, done, wantUsed, tc.done)
			}
			if d.LooseEnds != tc.loose || d.NUL != tc.nul || d.LongLine != tc.long {
				t.Errorf("%s step %d: loose %d nul %v long %v; want %d %v %v", tc.name, step, d.LooseEnds, d.NUL, d.LongLine, tc.loose, tc.nul, tc.long)
			}
			if d.Size() != int64(len(tc.want)) {
				t.Errorf("%s step %d: size %d; want %d", tc.name, step, d.Size(), len(tc.want))
			}
		}
	}
}

func TestDotDecoderLooseEnd(t *testing.T) {
	in := "Subject: a\r\n\r\nbody\n.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nsmuggled\r\n.\r\n"
	for _, step := range []int{0, 1, 5} {
		d, _, done := feedAll([]byte(in), step, 1<<20, 1<<10)
		if !done {
			t.Fatalf("step %d: end not found", step)
		}
		at, raw, ok := d.LooseEnd()
		if !ok {
			t.Fatalf("step %d: LooseEnd not ok", step)
		}
		if want := len("Subject: a\r\n\r\nbody\n"); at != want {
			t.Errorf("step %d: loose end at %d; want %d", step, at, want)
		}
		if want := "MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nsmuggled\r\n.\r\n"; string(raw) != want {
			t.Errorf("step %d: raw after %q; want %q", step, raw, want)
		}
		d.CutAt(at)
		if got, want := string(d.Bytes()), "Subject: a\r\n\r\nbody\n"; got != want {
			t.Errorf("step %d: after cut %q; want %q", step, got, want)
		}
	}
	// Raw bytes beyond keepRaw are not kept whole: no LooseEnd.
	d, _, _ := feedAll([]byte(in), 0, 1<<20, 8)
	if _, _, ok := d.LooseEnd(); ok {
		t.Errorf("LooseEnd ok with overflowing raw capture; want not ok")
	}
}

func TestDotDecoderBounded(t *testing.T) {
	in := bytes.Repeat([]byte("0123456789abcdef\r\n"), 10000)
	d, _, done := feedAll(in, 4096, 1000, 100)
	if done {
		t.Fatalf("end found in data without a dot line")
	}
	if len(d.Bytes()) != 1000 || !d.Truncated || d.Size() != int64(len(in)) {
		t.Errorf("kept %d truncated %v size %d; want 1000 true %d", len(d.Bytes()), d.Truncated, d.Size(), len(in))
	}
	if d.Buffered() > 1000 {
		t.Errorf("Buffered() = %d; want <= 1000", d.Buffered())
	}
}

func TestDotDecoderMidLine(t *testing.T) {
	d := NewDotDecoder(1<<10, 0)
	d.StartMidLine()
	n, done := d.Feed([]byte(".tail\r\n.\r\nQUIT\r\n"))
	if !done || string(d.Bytes()) != ".tail\r\n" || n != 10 {
		t.Errorf("mid-line start: %q done %v n %d; want %q true 10", d.Bytes(), done, n, ".tail\r\n")
	}
}

// BenchmarkDotDecoder measures dot-unstuffing of a 1 MB body fed in
// TCP-sized pieces.
func BenchmarkDotDecoder(b *testing.B) {
	body := bytes.Repeat([]byte("A line of message text of ordinary length, dot-stuffed or not.\r\n..x\r\n"), 15000)
	body = append(body, ".\r\n"...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d := NewDotDecoder(len(body), 1<<10)
		for p := body; len(p) > 0; {
			n := min(1448, len(p))
			k, done := d.Feed(p[:n])
			p = p[k:]
			if done {
				break
			}
		}
	}
}

// TestDotDecoderExpect: an announced size makes room once, within the
// caps, and changes nothing decoded.
func TestDotDecoderExpect(t *testing.T) {
	msg := []byte(strings.Repeat("a line of the message\r\n", 2000) + ".\r\n")
	for _, c := range []struct {
		name      string
		max, size int
		wantCap   int // capacity right after Expect
	}{
		{"honest", 1 << 20, 46000, 46000 + 46000/32 + 64},
		{"too small", 1 << 20, 100, 100 + 100/32 + 64},
		{"above the maximum", 30000, 46000, 30000},
		{"hostile", 64 << 20, 999999999, mailproto.MaxReserve},
		{"none", 1 << 20, -1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDotDecoder(c.max, 0)
			d.Expect(c.size)
			if cap(d.Bytes()) != c.wantCap {
				t.Errorf("capacity after Expect(%d) = %d, want %d", c.size, cap(d.Bytes()), c.wantCap)
			}
			ref := NewDotDecoder(c.max, 0)
			n1, done1 := d.Feed(msg)
			n2, done2 := ref.Feed(msg)
			if n1 != n2 || done1 != done2 || !bytes.Equal(d.Bytes(), ref.Bytes()) || d.Truncated != ref.Truncated {
				t.Errorf("decoding with Expect differs: %d %v %d bytes; without: %d %v %d bytes", n1, done1, len(d.Bytes()), n2, done2, len(ref.Bytes()))
			}
		})
	}
}

// TestDotDecoderRelease: a decoder whose buffer was released holds
// nothing, and later messages decode the same whatever buffer they got.
func TestDotDecoderRelease(t *testing.T) {
	long := []byte(strings.Repeat("a longer first message line\r\n", 300) + ".\r\n")
	short := []byte("Subject: short\r\n\r\nbody\r\n..stuffed\r\n.\r\n")
	for i, msg := range [][]byte{long, short, long, short} {
		ref := NewDotDecoder(1<<20, 0)
		ref.Feed(msg)
		want := append([]byte(nil), ref.Bytes()...)
		d := NewDotDecoder(1<<20, 0)
		for p := msg; len(p) > 0; {
			n, done := d.Feed(p[:min(100, len(p))])
			p = p[n:]
			if done {
				break
			}
		}
		if !bytes.Equal(d.Bytes(), want) {
			t.Fatalf("message %d: decoded %q, want %q", i, d.Bytes(), want)
		}
		d.Release()
		if len(d.Bytes()) != 0 || d.Buffered() != 0 {
			t.Fatalf("message %d: after Release %d bytes, %d buffered; want none", i, len(d.Bytes()), d.Buffered())
		}
	}
}
