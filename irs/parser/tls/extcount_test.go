package tls

import "testing"

// TestCountExtensions: the count is the number of types the
// ClientHello's extension loop records, whole, cut and over the limit.
func TestCountExtensions(t *testing.T) {
	ext := func(typ, n int) []byte {
		return append([]byte{byte(typ >> 8), byte(typ), byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	var three []byte
	for _, e := range [][]byte{ext(0, 5), ext(10, 0), ext(43, 3)} {
		three = append(three, e...)
	}
	var many []byte
	for i := 0; i < 300; i++ {
		many = append(many, ext(i, 0)...)
	}
	for _, tc := range []struct {
		name  string
		b     []byte
		limit int
		want  int
	}{
		{"none", nil, 256, 0},
		{"three", three, 256, 3},
		{"last cut in its data", three[:len(three)-1], 256, 3},
		{"last cut in its header", three[:len(three)-5], 256, 2},
		{"header of three bytes left", append(append([]byte{}, three...), 0, 1, 0), 256, 3},
		{"over the limit", many, 256, 256},
		{"length beyond the block", ext(1, 0)[:2:2], 256, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := countExtensions(tc.b, tc.limit); got != tc.want {
				t.Errorf("countExtensions = %d; want %d", got, tc.want)
			}
		})
	}
}
