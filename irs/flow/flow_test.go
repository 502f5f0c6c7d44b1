package flow

import (
	"encoding/binary"
	"math/rand"
	"testing"
)

func v4(a, b, c, d byte) *[16]byte { return &[16]byte{a, b, c, d} }

func TestMakeKeySymmetric(t *testing.T) {
	tests := []struct {
		name         string
		src, dst     *[16]byte
		sport, dport uint16
		wantSrcIsA   bool
	}{
		{"lower address first", v4(10, 0, 0, 1), v4(10, 0, 0, 2), 40000, 25, true},
		{"higher address first", v4(10, 0, 0, 2), v4(10, 0, 0, 1), 25, 40000, false},
		{"same address, ports decide", v4(10, 0, 0, 1), v4(10, 0, 0, 1), 80, 8080, true},
		{"same address, ports reversed", v4(10, 0, 0, 1), v4(10, 0, 0, 1), 8080, 80, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k1, a1 := MakeKey(4, 6, tt.src, tt.dst, tt.sport, tt.dport)
			k2, a2 := MakeKey(4, 6, tt.dst, tt.src, tt.dport, tt.sport)
			if k1 != k2 {
				t.Errorf("keys differ by direction: %+v vs %+v", k1, k2)
			}
			if k1.Hash(1) != k2.Hash(1) {
				t.Error("hashes differ by direction")
			}
			if a1 != tt.wantSrcIsA || a2 == a1 {
				t.Errorf("srcIsA = %v/%v, want %v/%v", a1, a2, tt.wantSrcIsA, !tt.wantSrcIsA)
			}
		})
	}
	k1, _ := MakeKey(4, 6, v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1, 2)
	k2, _ := MakeKey(4, 17, v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1, 2)
	if k1 == k2 {
		t.Error("TCP and UDP keys are equal")
	}
	if k1.Hash(1) == k1.Hash(2) {
		t.Error("the seed does not change the hash")
	}
}

func TestPairHash(t *testing.T) {
	ctrl, _ := MakeKey(4, 6, v4(10, 0, 0, 1), v4(10, 0, 0, 2), 40000, 21)
	data, _ := MakeKey(4, 6, v4(10, 0, 0, 2), v4(10, 0, 0, 1), 20, 40001) // active mode: server connects
	gre, _ := MakeKey(4, 47, v4(10, 0, 0, 1), v4(10, 0, 0, 2), 0, 0)
	other, _ := MakeKey(4, 6, v4(10, 0, 0, 1), v4(10, 0, 0, 3), 40000, 21)
	if ctrl.PairHash(7) != data.PairHash(7) || ctrl.PairHash(7) != gre.PairHash(7) {
		t.Error("flows of one host pair hash differently: related flows would land on different workers")
	}
	if ctrl.PairHash(7) == other.PairHash(7) {
		t.Error("different host pairs hash alike")
	}
	v6a, _ := MakeKey(6, 6, v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1, 2)
	if v6a.PairHash(7) == ctrl.PairHash(7) {
		t.Error("the family does not change the pair hash")
	}
}

func key(i int) Key {
	var a, b [16]byte
	binary.BigEndian.PutUint32(a[:], uint32(i))
	binary.BigEndian.PutUint32(b[:], 0xc0000201)
	k, _ := MakeKey(4, 6, &a, &b, uint16(i), 80)
	return k
}

const (
	lA = iota
	lB
)

func TestInsertLookupRemove(t *testing.T) {
	tb := New[int](Config{MaxFlows: 100000, Timeouts: []int64{0, 0}, Seed: 7})
	const n = 5000
	for i := 0; i < n; i++ {
		k := key(i)
		e := tb.Insert(&k, tb.Hash(&k), i%2, int64(i), nil)
		e.V = i
	}
	if tb.Len() != n {
		t.Fatalf("Len = %d, want %d", tb.Len(), n)
	}
	// Remove every third flow; the rest must still be found (the
	// backward shift must not lose probe chains).
	for i := 0; i < n; i += 3 {
		k := key(i)
		tb.Remove(tb.Lookup(&k, tb.Hash(&k)))
	}
	for i := 0; i < n; i++ {
		k := key(i)
		e := tb.Lookup(&k, tb.Hash(&k))
		switch {
		case i%3 == 0 && e != nil:
			t.Fatalf("flow %d found after Remove", i)
		case i%3 != 0 && (e == nil || e.V != i):
			t.Fatalf("flow %d: got %v, want V=%d", i, e, i)
		}
	}
	if want := n - (n+2)/3; tb.Len() != want || tb.ListLen(lA)+tb.ListLen(lB) != want {
		t.Errorf("Len = %d, lists %d+%d, want %d", tb.Len(), tb.ListLen(lA), tb.ListLen(lB), want)
	}
}

// TestAgainstMap applies a random sequence of operations to the table
// and to a map and compares.
func TestAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	tb := New[int](Config{MaxFlows: 1 << 20, Timeouts: []int64{0}})
	ref := map[Key]int{}
	for op := 0; op < 200000; op++ {
		i := rng.Intn(3000)
		k := key(i)
		h := tb.Hash(&k)
		e := tb.Lookup(&k, h)
		_, inRef := ref[k]
		if (e != nil) != inRef {
			t.Fatalf("op %d: flow %d present in table %v, in map %v", op, i, e != nil, inRef)
		}
		if e == nil {
			e = tb.Insert(&k, h, 0, int64(op), nil)
			e.V = i
			ref[k] = i
		} else if rng.Intn(2) == 0 {
			tb.Remove(e)
			delete(ref, k)
		} else if e.V != i {
			t.Fatalf("op %d: V = %d, want %d", op, e.V, i)
		}
	}
	if tb.Len() != len(ref) {
		t.Errorf("Len = %d, map %d", tb.Len(), len(ref))
	}
}

func TestEvictionAndExpiry(t *testing.T) {
	const sec = int64(1e9)
	tb := New[string](Config{MaxFlows: 3, Timeouts: []int64{100 * sec, 1000 * sec}})
	ins := func(i, list int, now int64) *Entry[string] {
		k := key(i)
		var evicted []string
		e := tb.Insert(&k, tb.Hash(&k), list, now*sec, func(v *Entry[string]) { evicted = append(evicted, v.V) })
		if len(evicted) > 0 {
			e.V = "evicted:" + evicted[0]
		}
		return e
	}
	a := ins(1, lA, 10)
	a.V = "a"
	b := ins(2, lB, 20)
	b.V = "b"
	c := ins(3, lA, 30)
	c.V = "c"
	tb.Touch(a, 40*sec) // a is now the most recently seen
	d := ins(4, lA, 50)
	if d.V != "evicted:b" || tb.Evicted != 1 || tb.Len() != 3 {
		t.Fatalf("eviction took %q (evicted %d, len %d), want b, the least recently seen", d.V, tb.Evicted, tb.Len())
	}
	d.V = "d"
	if o := tb.Oldest(); o != c {
		t.Errorf("Oldest = %q, want c", o.V)
	}
	if ts, ok := tb.Since(lA); !ok || ts != 30*sec {
		t.Errorf("Since(A) = %d, %v; want 30 s", ts, ok)
	}
	// A touch within the grain does not reorder, but still counts for
	// expiry: d seen at 50 s, then again at 50.1 s.
	tb.Touch(d, 50*sec+sec/10)
	// List A times out after 100 s: c (seen 30) and a (seen 40) expire
	// at 145, d stays.
	var expired []string
	n := tb.Expire(145*sec, func(e *Entry[string]) { expired = append(expired, e.V) })
	if n != 2 || len(expired) != 2 || expired[0] != "c" || expired[1] != "a" {
		t.Errorf("Expire(145) = %d %v, want [c a]", n, expired)
	}
	if n := tb.Expire(150*sec+sec/20, nil); n != 0 {
		t.Errorf("d expired at 150.05 s although seen at 50.1 s")
	}
	if n := tb.Expire(150*sec+sec/5, nil); n != 1 {
		t.Errorf("d not expired at 150.2 s")
	}
	e := ins(5, lA, 200)
	tb.Move(e, lB)
	if tb.Expire(1000*sec, nil) != 0 || tb.Len() != 1 {
		t.Errorf("flow on list B (timeout 1000 s) expired early")
	}
	var order []*Entry[string]
	tb.Each(func(x *Entry[string]) { order = append(order, x) })
	if len(order) != 1 || order[0] != e {
		t.Errorf("Each = %v, want the one flow", order)
	}
	tb.Clear(nil)
	if tb.Len() != 0 || tb.Oldest() != nil {
		t.Errorf("after Clear: Len %d", tb.Len())
	}
}

func BenchmarkLookup(b *testing.B) {
	b.Run("100k flows", func(b *testing.B) { benchLookup(b, 100000) })
	b.Run("1k flows", func(b *testing.B) { benchLookup(b, 1000) })
}

func benchLookup(b *testing.B, benchFlows int) {
	n := benchFlows
	tb := New[int](Config{MaxFlows: 1 << 20, Timeouts: []int64{0}, Seed: 3})
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = key(i)
		tb.Insert(&keys[i], tb.Hash(&keys[i]), 0, 0, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := &keys[(i*7919)%n]
		e := tb.Lookup(k, tb.Hash(k))
		tb.Touch(e, int64(i))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

func BenchmarkInsertEvict(b *testing.B) {
	tb := New[int](Config{MaxFlows: 50000, Timeouts: []int64{0}})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := key(i)
		tb.Insert(&k, tb.Hash(&k), 0, int64(i), nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}

// TestKeyEqual: equal agrees with == for keys that differ in any one field
// or not at all.
func TestKeyEqual(t *testing.T) {
	base := Key{PortA: 1025, PortB: 25, Proto: 6, Family: 4}
	copy(base.A[:], []byte{192, 0, 2, 1})
	copy(base.B[:], []byte{192, 0, 2, 2})
	tests := []struct {
		name   string
		change func(*Key)
	}{
		{"same", func(*Key) {}},
		{"A first half", func(k *Key) { k.A[3] = 9 }},
		{"A second half", func(k *Key) { k.A[15] = 1 }},
		{"B first half", func(k *Key) { k.B[0] = 10 }},
		{"B second half", func(k *Key) { k.B[8] = 1 }},
		{"PortA", func(k *Key) { k.PortA++ }},
		{"PortB", func(k *Key) { k.PortB++ }},
		{"Proto", func(k *Key) { k.Proto = 17 }},
		{"Family", func(k *Key) { k.Family = 6 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			if got, want := base.equal(&o), base == o; got != want {
				t.Errorf("equal = %v, want %v (==)", got, want)
			}
			if got, want := o.equal(&base), base == o; got != want {
				t.Errorf("reversed: equal = %v, want %v", got, want)
			}
		})
	}
}
