package event

import "slices"

// Summary keys are sorted for every event, most summaries holding 5 to 30 of
// them. For so few, a fixed sorting network (Batcher's odd-even merge
// sort) of branch-free compare-exchanges beats insertion sort and
// pdqsort, whose comparisons the processor cannot predict.
var (
	network16 = oddEvenMergeSort(16)
	network32 = oddEvenMergeSort(32)
)

// sortSmall sorts o in increasing order.
func sortSmall(o []uint64) {
	switch n := len(o); {
	case n < 8:
		for i := 1; i < n; i++ { // too few for the network to pay
			for j := i; j > 0 && o[j] < o[j-1]; j-- {
				o[j], o[j-1] = o[j-1], o[j]
			}
		}
	case n <= 16:
		var a [16]uint64
		sortPadded(a[:], o, network16)
	case n <= 32:
		var a [32]uint64
		sortPadded(a[:], o, network32)
	default:
		slices.Sort(o)
	}
}

// sortPadded sorts o through a, a network's width, padded with the
// largest value, which the sort leaves after o's values.
func sortPadded(a, o []uint64, net [][2]uint8) {
	n := copy(a, o)
	for i := n; i < len(a); i++ {
		a[i] = ^uint64(0)
	}
	for _, c := range net {
		i, j := c[0]&uint8(len(a)-1), c[1]&uint8(len(a)-1) // masks: no bounds checks
		x, y := a[i], a[j]
		a[i], a[j] = min(x, y), max(x, y)
	}
	copy(o, a[:n])
}

// oddEvenMergeSort returns the compare-exchanges of Batcher's odd-even
// merge sort for n inputs, n a power of two, each as (lower, upper):
// after them, in order, any n values are sorted.
func oddEvenMergeSort(n int) [][2]uint8 {
	var net [][2]uint8
	for p := 1; p < n; p *= 2 {
		for k := p; k >= 1; k /= 2 {
			for j := k % p; j+k < n; j += 2 * k {
				for i := 0; i < k && i+j+k < n; i++ {
					if (i+j)/(2*p) == (i+j+k)/(2*p) {
						net = append(net, [2]uint8{uint8(i + j), uint8(i + j + k)})
					}
				}
			}
		}
	}
	return net
}
