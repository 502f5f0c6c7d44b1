package ssh

import "testing"

// TestPrintableASCII holds the word-at-a-time test to the byte loop: every
// byte value at every position of buffers up to 40 bytes long.
func TestPrintableASCII(t *testing.T) {
	slow := func(s []byte) bool {
		for _, c := range s {
			if c < 0x20 || c > 0x7e {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 40; n++ {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = 'a' + byte(i%26)
		}
		if got := printableASCII(buf); !got {
			t.Errorf("printableASCII(%q) = false; want true", buf)
		}
		for pos := 0; pos < n; pos++ {
			for v := 0; v < 256; v++ {
				buf[pos] = byte(v)
				if got, want := printableASCII(buf), slow(buf); got != want {
					t.Fatalf("printableASCII(%q) = %v; want %v (byte %#x at %d)", buf, got, want, v, pos)
				}
			}
			buf[pos] = 'a' + byte(pos%26)
		}
	}
	// neighbours: a bad byte next to good ones of every value
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			buf := []byte{'x', 'x', 'x', byte(a), byte(b), 'x', 'x', 'x'}
			if got, want := printableASCII(buf), slow(buf); got != want {
				t.Fatalf("printableASCII(%q) = %v; want %v", buf, got, want)
			}
		}
	}
}
