package bufpool

import "testing"

// A released buffer comes back empty to a Take it is large enough for
// (and to a TakeAtMost it fits); one over the bound is not kept; Take
// makes a buffer of the asked capacity when none fits. sync.Pool may drop
// what it is given (a collection; a quarter of all under the race
// detector): reuse is looked for over many rounds, and the other checks
// hold whether or not a buffer was dropped.
func TestPool(t *testing.T) {
	p := New(1024)
	reused := false
	for range 100 {
		b := make([]byte, 1, 512)
		p.Release(b)
		got := p.Take(100)
		if len(got) != 0 || cap(got) < 100 {
			t.Fatalf("Take(100): len %d cap %d", len(got), cap(got))
		}
		if cap(got) == 512 && &got[:1][0] == &b[0] {
			reused = true
			break
		}
	}
	if !reused {
		t.Error("a released buffer was never handed out again in 100 rounds")
	}
	if got := p.Take(4096); len(got) != 0 || cap(got) < 4096 {
		t.Errorf("Take(4096): len %d cap %d", len(got), cap(got))
	}
	if got := p.Take(0); len(got) != 0 {
		t.Errorf("Take(0): len %d", len(got))
	}

	q := New(1024)
	q.Release(make([]byte, 0, 512))
	if got := q.TakeAtMost(100); got != nil {
		t.Errorf("TakeAtMost(100) with only a 512-byte buffer free: cap %d", cap(got))
	}
	if got := q.TakeAtMost(1024); got != nil && (len(got) != 0 || cap(got) != 512) {
		t.Errorf("TakeAtMost(1024): len %d cap %d, want the 512-byte buffer or none", len(got), cap(got))
	}

	small := New(64)
	small.Release(make([]byte, 0, 65))
	if got := small.TakeAtMost(1 << 20); got != nil {
		t.Errorf("a buffer over the bound was kept: cap %d", cap(got))
	}
}
