package ipsec

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// TestESPStats: ESP packets of many SPIs, interleaved, are counted per
// SPI in order of first sight, up to maxSPIs (the rest are unrecognised),
// as a map and a list of SPIs count them.
func TestESPStats(t *testing.T) {
	for _, tc := range []struct {
		name string
		spis int
	}{{"one", 1}, {"two ways", 2}, {"rekeyed", 5}, {"at the limit", maxSPIs}, {"over the limit", maxSPIs + 9}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.spis), 7))
			f := NewDetector().New(&parser.Conn{Transport: parser.ESP}, parsertest.NewEnv()).(*flow)
			type want struct {
				dir            parser.Direction
				packets, bytes int
				seqMin, seqMax uint32
			}
			wants := map[uint32]*want{}
			var order []uint32
			other := 0
			for i := 0; i < 40*tc.spis; i++ {
				spi := uint32(0x1000 + rng.IntN(tc.spis)*7)
				seq := uint32(rng.IntN(1000))
				dir := parser.Direction(rng.IntN(2))
				pkt := make([]byte, 8+rng.IntN(64))
				binary.BigEndian.PutUint32(pkt, spi)
				binary.BigEndian.PutUint32(pkt[4:], seq)
				f.ProcessPacket(dir, pkt, f.start)
				w := wants[spi]
				if w == nil {
					if len(wants) >= maxSPIs {
						other++
						continue
					}
					w = &want{dir: dir, seqMin: seq, seqMax: seq}
					wants[spi] = w
					order = append(order, spi)
				}
				w.packets++
				w.bytes += len(pkt)
				w.seqMin, w.seqMax = min(w.seqMin, seq), max(w.seqMax, seq)
			}
			if len(f.esp) != len(order) || f.other != other {
				t.Fatalf("%d SPIs, %d unrecognised; want %d, %d", len(f.esp), f.other, len(order), other)
			}
			for i, spi := range order {
				got, w := f.esp[i], wants[spi]
				if got.spi != spi || got.dir != w.dir || got.packets != w.packets || got.bytes != w.bytes ||
					got.seqMin != w.seqMin || got.seqMax != w.seqMax {
					t.Errorf("SPI %d: got %+v; want %x %+v", i, got, spi, *w)
				}
			}
		})
	}
}
