package engine

import (
	"testing"
)

// A decided connection's detection state is reused only from the next
// packet on (the calls that decided may still read it), comes back empty,
// keeps small buffers and drops large ones; the free list is bounded.
func TestDetectionReuse(t *testing.T) {
	w := &worker{}
	small := &detection{out: []bool{true, false}, grams: 3, full: [2]bool{true, true}, log: []chunk{{n: 5}}}
	small.buf[0] = append(make([]byte, 0, 64), "client"...)
	small.buf[1] = append(make([]byte, 0, 64), "server"...)
	large := &detection{}
	large.buf[0] = make([]byte, 10, 2*reusedDetectBuffer)
	w.retire(small)
	w.retire(large)
	if len(w.detFree) != 0 {
		t.Fatalf("retired states reusable within the same packet: %d free", len(w.detFree))
	}
	w.reuseDetections()
	if len(w.detFree) != 2 || len(w.detRetired) != 0 {
		t.Fatalf("after the packet: %d free, %d retired; want 2, 0", len(w.detFree), len(w.detRetired))
	}
	for i, d := range w.detFree {
		if len(d.out) != 0 || d.grams != 0 || d.full != [2]bool{} || len(d.log) != 0 || len(d.buf[0]) != 0 || len(d.buf[1]) != 0 || d.cands != nil {
			t.Errorf("state %d not emptied: %+v", i, d)
		}
	}
	if cap(small.buf[0]) != 64 || cap(large.buf[0]) != 0 {
		t.Errorf("buffers kept: small %d (want 64), large %d (want 0)", cap(small.buf[0]), cap(large.buf[0]))
	}
	for range 2 * maxFreeDetections {
		w.retire(&detection{})
	}
	w.reuseDetections()
	if len(w.detFree) != maxFreeDetections {
		t.Errorf("%d states kept, bound %d", len(w.detFree), maxFreeDetections)
	}
}
