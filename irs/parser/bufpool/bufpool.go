// Package bufpool keeps byte buffers that parsers released once their
// content was saved (the store keeps a copy), for the next message, body
// or file: each would otherwise be grown packet by packet from nothing,
// every growth a copy of all received so far into fresh memory. A pool
// frees what it holds at garbage collection, unlike a buffer kept by a
// connection for its next use.
package bufpool

import "sync"

// Pool is a set of released buffers of capacity up to a bound. It is
// safe for concurrent use.
type Pool struct {
	free sync.Pool // of *[]byte
	max  int
}

// New returns a pool that keeps buffers of capacity at most max.
func New(max int) *Pool { return &Pool{max: max} }

// Take returns an empty buffer of capacity at least n: a released one if
// one is that large, else a new one of capacity n (nil for n 0, left to
// grow).
func (p *Pool) Take(n int) []byte {
	if bp, ok := p.free.Get().(*[]byte); ok {
		if cap(*bp) >= n {
			return (*bp)[:0]
		}
		p.free.Put(bp)
	}
	if n == 0 {
		return nil
	}
	return make([]byte, 0, n)
}

// TakeAtMost returns an empty released buffer of capacity at most limit,
// or nil: for content that must not be given room beyond its limit.
func (p *Pool) TakeAtMost(limit int) []byte {
	bp, ok := p.free.Get().(*[]byte)
	if !ok {
		return nil
	}
	if cap(*bp) > limit {
		p.free.Put(bp)
		return nil
	}
	return (*bp)[:0]
}

// Release hands buf over for reuse. The caller must not touch buf (or
// anything sliced from it) again.
func (p *Pool) Release(buf []byte) {
	if cap(buf) == 0 || cap(buf) > p.max {
		return
	}
	buf = buf[:0]
	p.free.Put(&buf)
}
