package golden

import (
	"path/filepath"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// AllCaptures lists every capture under ../shared/pcaps, of every
// protocol (the files bench/mkmixed mixes).
func AllCaptures(t testing.TB) []string {
	t.Helper()
	root := SharedPcaps(t, "")
	var files []string
	for _, pat := range []string{"*/*.pcap", "*/*.pcapng"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatalf("golden: %v", err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("golden: no capture under %s", root)
	}
	return files
}

// Record runs every shared capture through the pipeline once with det as
// the only parser and returns what det and its parsers were given, for a
// benchmark to replay; it fails when det was given no connection.
func Record(t testing.TB, det parser.Detector) *parsertest.Recorder {
	t.Helper()
	rec := parsertest.Record(det)
	reg := parser.NewRegistry()
	reg.Add(rec)
	Run(t, reg, parser.Options{}, AllCaptures(t)...)
	if rec.Conns() == 0 {
		t.Fatalf("golden: no %s connection in the shared captures", det.Name())
	}
	return rec
}

// BenchCaptures benchmarks the parsers newDet makes on their share of every
// shared capture (the mix bench/mkmixed repeats): recorded once through
// the pipeline, then replayed b.N times through a fresh detector, events
// dropped.
func BenchCaptures(b *testing.B, newDet func() parser.Detector) {
	rec := Record(b, newDet())
	env := parsertest.NewDiscard()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.Replay(newDet(), env)
	}
}

// BenchProbes benchmarks the detector newDet makes on every IsRelative
// question the pipeline asked it over the shared captures.
func BenchProbes(b *testing.B, newDet func() parser.Detector) {
	rec := Record(b, newDet())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.ReplayProbes(newDet())
	}
}
