package bufpool

import "testing"

// A released buffer comes back empty to a Take it is large enough for
// (and to a TakeAtMost it fits); one over the bound is not kept; Take
// makes a buffer of the asked capacity when none fits.
func TestPool(t *testing.T) {
	p := New(1024)
	b := append(make([]byte, 0, 512), "content"...)
	p.Release(b)
	// sync.Pool may drop what it holds at any time (a collection): look
	// for the buffer over a few rounds rather than once.
	reused := false
	for range 10 {
		got := p.Take(100)
		if len(got) != 0 || cap(got) < 100 {
			t.Fatalf("Take(100): len %d cap %d", len(got), cap(got))
		}
		if cap(got) == 512 {
			reused = true
		}
		p.Release(got)
	}
	if !reused {
		t.Error("a released buffer was never handed out again")
	}
	if got := p.Take(4096); cap(got) < 4096 {
		t.Errorf("Take(4096) over every free buffer: cap %d", cap(got))
	}
	if got := p.TakeAtMost(100); got != nil {
		t.Errorf("TakeAtMost(100) with only a 512-byte buffer free: cap %d", cap(got))
	}
	if got := p.Take(0); len(got) != 0 {
		t.Errorf("Take(0): len %d", len(got))
	}
	big := New(64)
	big.Release(make([]byte, 0, 65))
	if got := big.TakeAtMost(1 << 20); got != nil {
		t.Errorf("a buffer over the bound was kept: cap %d", cap(got))
	}
}
