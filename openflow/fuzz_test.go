package openflow

import (
	"reflect"
	"runtime/metrics"
	"testing"
)

// heapAllocated returns the bytes allocated on the heap so far.
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzDecode feeds arbitrary bytes to the decoder. It must never panic or
// hang, must allocate no more than a small multiple of the input (counts
// are bounded by the bytes that carry them), and whatever it decodes must
// survive an encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range allSamples(f) {
		f.Add(mustBytes(f, 1, s.msg))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= HeaderLen {
			be.PutUint16(data[2:], uint16(min(len(data), MaxMessageLen))) // reach the body decoders
			data = data[:min(len(data), MaxMessageLen)]
		}
		h, m, err := Decode(data)
		// The heap counter is process-wide and the fuzzing engine allocates
		// too, so take the least of three measurements of the same decode.
		limit := uint64(64*len(data) + 32<<10)
		allocated := ^uint64(0)
		for range 3 {
			before := heapAllocated()
			Decode(data)
			allocated = min(allocated, heapAllocated()-before)
			if allocated <= limit {
				break
			}
		}
		if allocated > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes (limit %d)", len(data), allocated, limit)
		}
		if err != nil {
			return
		}
		if h.Version != Version && h.Type != TypeHello && h.Type != TypeError {
			t.Fatalf("accepted %s in version %d", h.Type, h.Version)
		}
		b, err := Marshal(h.XID, m)
		if err != nil {
			return // some decodable values are not encodable (e.g. a 16-byte port name)
		}
		_, again, err := Decode(b)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v\n% x", h.Type, err, b)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed %s\nfirst:  %#v\nsecond: %#v", h.Type, m, again)
		}
	})
}
