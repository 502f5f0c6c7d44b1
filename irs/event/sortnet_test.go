package event

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The networks sort every input of 0s and 1s, which by the 0-1 principle
// means they sort every input; sortSmall sorts any length like slices.Sort.
func TestSortNetworks(t *testing.T) {
	for _, c := range []struct {
		n   int
		net [][2]uint8
	}{{16, network16}, {32, network32}} {
		a := make([]uint64, c.n)
		tries := 1 << c.n
		if c.n > 20 {
			tries = 1 << 20 // a sample of the 2^32 inputs
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for v := range tries {
			bitsOf := uint64(v)
			if c.n > 20 {
				bitsOf = rng.Uint64()
			}
			for i := range a {
				a[i] = bitsOf >> i & 1
			}
			for _, x := range c.net {
				if a[x[0]] > a[x[1]] {
					a[x[0]], a[x[1]] = a[x[1]], a[x[0]]
				}
			}
			if !slices.IsSorted(a) {
				t.Fatalf("network %d leaves %v unsorted (input %b)", c.n, a, bitsOf)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 70 {
		for range 200 {
			o := make([]uint64, n)
			for i := range o {
				o[i] = rng.Uint64N(40) << 8 // equal values too
				if rng.IntN(9) == 0 {
					o[i] = ^uint64(0) // the padding value itself
				}
			}
			want := slices.Sorted(slices.Values(o))
			sortSmall(o)
			if !slices.Equal(o, want) {
				t.Fatalf("n=%d: %v, want %v", n, o, want)
			}
		}
	}
}
