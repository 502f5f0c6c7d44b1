// Package flow is the IRS flow table: flows keyed by the
// direction-independent 5-tuple, a symmetric hash that sends both
// directions of a flow to the same worker, idle timeouts per class of
// flow, and a hard cap on the number of flows with least-recently-seen
// eviction.
//
// The table is written by hand rather than built on a Go map because the
// hot path needs what a map cannot give: the caller computes the hash once
// per packet (it also picks the worker), lookups allocate nothing, entries
// never move (parsers and streams keep pointers to them), and every entry
// sits on an intrusive least-recently-seen list so that expiring idle
// flows and choosing an eviction victim cost O(1) per flow instead of a
// scan. A Table is owned by one goroutine.
package flow

import (
	"encoding/binary"
	"math/bits"
)

// Key is the canonical, direction-independent 5-tuple: the endpoint that
// sorts lower is A. IPv4 addresses use the first four bytes of the arrays.
type Key struct {
	A, B         [16]byte
	PortA, PortB uint16
	Proto        uint8
	Family       uint8
	_            [2]byte
}

// MakeKey builds the canonical key of a packet from src to dst, and
// reports whether src is endpoint A.
func MakeKey(family, proto uint8, src, dst *[16]byte, sport, dport uint16) (k Key, srcIsA bool) {
	k.Proto, k.Family = proto, family
	srcIsA = less(src, sport, dst, dport)
	if srcIsA {
		k.A, k.B, k.PortA, k.PortB = *src, *dst, sport, dport
	} else {
		k.A, k.B, k.PortA, k.PortB = *dst, *src, dport, sport
	}
	return k, srcIsA
}

// equal is k == *o in five word compares: the generated struct equality
// calls memequal for the addresses, which cost more than the rest of a
// lookup that hits.
func (k *Key) equal(o *Key) bool {
	le := binary.LittleEndian
	return le.Uint64(k.A[:8]) == le.Uint64(o.A[:8]) && le.Uint64(k.A[8:]) == le.Uint64(o.A[8:]) &&
		le.Uint64(k.B[:8]) == le.Uint64(o.B[:8]) && le.Uint64(k.B[8:]) == le.Uint64(o.B[8:]) &&
		k.PortA == o.PortA && k.PortB == o.PortB && k.Proto == o.Proto && k.Family == o.Family
}

func less(a *[16]byte, pa uint16, b *[16]byte, pb uint16) bool {
	a0, b0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if a0 != b0 {
		return a0 < b0
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	if a1 != b1 {
		return a1 < b1
	}
	return pa <= pb
}

// Hash mixes the key with seed. Because the key is canonical the hash is
// the same for both directions of a flow. Use a fixed seed where the
// result must be reproducible (choosing the worker) and a random one where
// an attacker must not be able to aim at one bucket (the table).
func (k *Key) Hash(seed uint64) uint64 {
	const (
		m1 = 0xa0761d6478bd642f
		m2 = 0xe7037ed1a0b428db
		m3 = 0x8ebc6af09c88c6e3
		m4 = 0x589965cc75374cc3
	)
	a0 := binary.LittleEndian.Uint64(k.A[:8])
	a1 := binary.LittleEndian.Uint64(k.A[8:])
	b0 := binary.LittleEndian.Uint64(k.B[:8])
	b1 := binary.LittleEndian.Uint64(k.B[8:])
	p := uint64(k.PortA)<<32 | uint64(k.PortB)<<16 | uint64(k.Proto)<<8 | uint64(k.Family)
	h := mix(a0^m1^seed, a1^m2)
	h = mix(h^b0, b1^m3)
	h = mix(h^p, m4^seed)
	return h
}

// PairHash mixes only the two addresses (and the family) with seed: the
// same for every flow between two hosts, in either direction. The engine
// picks workers by it so that related flows of one host pair — an FTP
// control connection and its data connections, a PPTP control connection
// and its GRE call — are handled by one worker, in capture order.
func (k *Key) PairHash(seed uint64) uint64 {
	const (
		m1 = 0xa0761d6478bd642f
		m2 = 0xe7037ed1a0b428db
		m3 = 0x8ebc6af09c88c6e3
		m4 = 0x589965cc75374cc3
	)
	a0 := binary.LittleEndian.Uint64(k.A[:8])
	a1 := binary.LittleEndian.Uint64(k.A[8:])
	b0 := binary.LittleEndian.Uint64(k.B[:8])
	b1 := binary.LittleEndian.Uint64(k.B[8:])
	h := mix(a0^m1^seed, a1^m2)
	h = mix(h^b0, b1^m3)
	return mix(h^uint64(k.Family), m4^seed)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// Entry is one flow in a Table. V is the caller's per-flow state, kept
// inline so that a new flow costs no allocation once the slab is warm.
type Entry[V any] struct {
	Key      Key
	hash     uint64
	LastSeen int64 // the table's clock at the last Touch (Unix ns)
	Created  int64
	// moved is when the entry last went to the back of its list: lists
	// are ordered by it. Touch moves an entry at most once per
	// touchGrain, which saves the pointer chasing of a move on every
	// packet; expiry looks at LastSeen, so it is at most one grain late.
	moved int64
	prev  *Entry[V]
	next  *Entry[V]
	list  uint8
	live  bool
	V     V
}

// List returns the list (class) the entry is on.
func (e *Entry[V]) List() int { return int(e.list) }

// touchGrain is the precision of the lists' order (ns).
const touchGrain = int64(250e6)

type lru[V any] struct {
	head, tail *Entry[V]
	n          int
}

const slabSize = 1024

// Config sizes a Table.
type Config struct {
	// MaxFlows caps the number of entries; inserting beyond it evicts
	// (default 1<<20).
	MaxFlows int
	// Timeouts gives the idle timeout of each list in nanoseconds; its
	// length is the number of lists. A timeout <= 0 never expires.
	Timeouts []int64
	// Seed randomises the bucket hash.
	Seed uint64
}

// slot keeps the hash beside the pointer, so that probing past other
// flows does not touch their entries.
type slot[V any] struct {
	h uint64
	e *Entry[V]
}

// Table is the flow table. Not safe for concurrent use.
type Table[V any] struct {
	slots   []slot[V]
	mask    uint64
	n       int
	max     int
	seed    uint64
	lists   []lru[V]
	timeout []int64
	free    []*Entry[V]
	slabs   [][]Entry[V]
	// Counters.
	Created uint64
	Evicted uint64
	Expired uint64
}

// New returns an empty table.
func New[V any](cfg Config) *Table[V] {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = 1 << 20
	}
	if len(cfg.Timeouts) == 0 {
		cfg.Timeouts = []int64{0}
	}
	t := &Table[V]{
		max:     cfg.MaxFlows,
		seed:    cfg.Seed,
		lists:   make([]lru[V], len(cfg.Timeouts)),
		timeout: append([]int64(nil), cfg.Timeouts...),
	}
	t.slots = make([]slot[V], 1024)
	t.mask = uint64(len(t.slots) - 1)
	return t
}

// Len returns the number of flows.
func (t *Table[V]) Len() int { return t.n }

// Max returns the cap on flows.
func (t *Table[V]) Max() int { return t.max }

// Hash returns the table's (seeded) hash of k.
func (t *Table[V]) Hash(k *Key) uint64 { return k.Hash(t.seed) }

// Lookup finds the flow with key k and hash h (from t.Hash).
func (t *Table[V]) Lookup(k *Key, h uint64) *Entry[V] {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.e == nil {
			return nil
		}
		if s.h == h && s.e.Key.equal(k) {
			return s.e
		}
	}
}

// Insert adds a flow that Lookup did not find, on list l, at time now. If
// the table is full the least recently seen flow is evicted first: evict
// is called with it (it must not touch the table) before its entry is
// reused. The new entry's V is the zero value.
func (t *Table[V]) Insert(k *Key, h uint64, l int, now int64, evict func(*Entry[V])) *Entry[V] {
	if t.n >= t.max {
		if v := t.Oldest(); v != nil {
			if evict != nil {
				evict(v)
			}
			t.Remove(v)
			t.Evicted++
		}
	}
	if uint64(t.n+1)*2 > uint64(len(t.slots)) {
		t.grow()
	}
	e := t.alloc()
	e.Key, e.hash, e.LastSeen, e.Created, e.moved, e.live = *k, h, now, now, now, true
	i := h & t.mask
	for t.slots[i].e != nil {
		i = (i + 1) & t.mask
	}
	t.slots[i] = slot[V]{h, e}
	t.n++
	t.Created++
	t.pushBack(l, e)
	return e
}

func (t *Table[V]) alloc() *Entry[V] {
	if len(t.free) == 0 {
		slab := make([]Entry[V], slabSize)
		t.slabs = append(t.slabs, slab)
		for i := len(slab) - 1; i >= 0; i-- {
			t.free = append(t.free, &slab[i])
		}
	}
	e := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	return e
}

func (t *Table[V]) grow() {
	old := t.slots
	t.slots = make([]slot[V], len(old)*2)
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.e == nil {
			continue
		}
		i := s.h & t.mask
		for t.slots[i].e != nil {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// Remove deletes e from the table; its entry is reused later, so the
// caller must drop every pointer to it.
func (t *Table[V]) Remove(e *Entry[V]) {
	if !e.live {
		return
	}
	// Find the slot, then close the hole by shifting back the entries of
	// the probe run that follows (no tombstones).
	i := e.hash & t.mask
	for t.slots[i].e != e {
		i = (i + 1) & t.mask
	}
	t.slots[i] = slot[V]{}
	for j := (i + 1) & t.mask; t.slots[j].e != nil; j = (j + 1) & t.mask {
		f := t.slots[j]
		home := f.h & t.mask
		// f may move into the hole at i unless its home lies cyclically
		// in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i], t.slots[j] = f, slot[V]{}
			i = j
		}
	}
	t.unlink(e)
	t.n--
	var zero V
	e.V = zero
	e.live = false
	t.free = append(t.free, e)
}

func (t *Table[V]) pushBack(l int, e *Entry[V]) {
	ls := &t.lists[l]
	e.list = uint8(l)
	e.prev, e.next = ls.tail, nil
	if ls.tail != nil {
		ls.tail.next = e
	} else {
		ls.head = e
	}
	ls.tail = e
	ls.n++
}

func (t *Table[V]) unlink(e *Entry[V]) {
	ls := &t.lists[e.list]
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		ls.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		ls.tail = e.prev
	}
	e.prev, e.next = nil, nil
	ls.n--
}

// Touch marks e as seen at now (which must not go backwards: pass the
// caller's monotonic clock) and, at most once per grain, moves it to the
// back of its list.
func (t *Table[V]) Touch(e *Entry[V], now int64) {
	e.LastSeen = now
	if now-e.moved >= touchGrain && t.lists[e.list].tail != e {
		l := int(e.list)
		t.unlink(e)
		e.moved = now
		t.pushBack(l, e)
	}
}

// Move puts e on list l (as most recently seen).
func (t *Table[V]) Move(e *Entry[V], l int) {
	t.unlink(e)
	e.moved = e.LastSeen
	t.pushBack(l, e)
}

// ListLen returns the number of flows on list l.
func (t *Table[V]) ListLen(l int) int { return t.lists[l].n }

// Head returns the least recently moved flow of list l, or nil.
func (t *Table[V]) Head(l int) *Entry[V] { return t.lists[l].head }

// Since returns a time no later than the last sighting of every flow on
// list l (ok is false for an empty list).
func (t *Table[V]) Since(l int) (ts int64, ok bool) {
	if h := t.lists[l].head; h != nil {
		return h.moved, true
	}
	return 0, false
}

// Oldest returns the least recently seen flow of all lists (to within
// the lists' grain), or nil.
func (t *Table[V]) Oldest() *Entry[V] {
	var o *Entry[V]
	for i := range t.lists {
		if h := t.lists[i].head; h != nil && (o == nil || h.moved < o.moved) {
			o = h
		}
	}
	return o
}

// Expire removes the flows idle for longer than their list's timeout at
// time now, calling fn with each before removal (fn must not touch the
// table). It returns how many it removed.
func (t *Table[V]) Expire(now int64, fn func(*Entry[V])) int {
	n := 0
	for l := range t.lists {
		to := t.timeout[l]
		if to <= 0 {
			continue
		}
		for e := t.lists[l].head; e != nil && e.moved+to <= now; e = t.lists[l].head {
			if e.LastSeen+to > now {
				// Seen since it last moved: put it where it belongs.
				t.unlink(e)
				e.moved = e.LastSeen
				t.pushBack(l, e)
				continue
			}
			if fn != nil {
				fn(e)
			}
			t.Remove(e)
			n++
		}
	}
	t.Expired += uint64(n)
	return n
}

// Each calls fn for every flow, list by list, least recently seen first
// (a stable order for the same input). fn must not touch the table.
func (t *Table[V]) Each(fn func(*Entry[V])) {
	for l := range t.lists {
		for e := t.lists[l].head; e != nil; e = e.next {
			fn(e)
		}
	}
}

// Clear removes every flow, calling fn with each first (in Each's order).
func (t *Table[V]) Clear(fn func(*Entry[V])) {
	for l := range t.lists {
		for e := t.lists[l].head; e != nil; e = t.lists[l].head {
			if fn != nil {
				fn(e)
			}
			t.Remove(e)
		}
	}
}
