// Package golden runs the whole IRS pipeline over a capture inside a test
// and compares the events with a checked-in baseline: the "golden" tests
// every parser has over the public captures in ../shared/pcaps.
//
// Baselines live in the calling package's testdata/golden/NAME.json. They
// are normalised (random UIDs cleared, one worker so connection IDs and
// session file names are stable) and regenerated with
//
//	go test ./irs/parser/smtp -run Golden -update
//
// after which the diff is reviewed like any other change.
package golden

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/engine"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
	"github.com/sdnli/sdnli/irs/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// RepoRoot returns the directory holding go.mod, above the test's
// working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("golden: getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("golden: go.mod not found above the test directory")
		}
		dir = parent
	}
}

// SharedPcaps returns ../shared/pcaps/SUB next to the repository, failing
// the test when it is missing.
func SharedPcaps(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "pcaps", sub)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("golden: public captures not found at %s (../shared/pcaps next to the repository): %v", p, err)
	}
	return p
}

// Result is what a pipeline run produced.
type Result struct {
	Events []*event.Event
	Store  *store.Store // the data directory (a t.TempDir)
	Stats  engine.Stats
	Err    error // the engine's error for the file (damaged capture), if any
}

// Run runs the IRS pipeline with the registry reg (nil: every parser
// linked into the test binary) and options opts over the capture files,
// one worker, and returns the events in SortEvents order.
func Run(t testing.TB, reg *parser.Registry, opts parser.Options, files ...string) Result {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	var col engine.Collector
	if opts == (parser.Options{}) {
		opts = parser.DefaultOptions()
	}
	eng, err := engine.New(engine.Config{Node: "irs-test", Workers: 1, Registry: reg, Sink: &col, Store: st, Options: opts})
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	var runErr error
	for _, f := range files {
		src, err := capture.OpenFile(f)
		if err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := eng.Run(context.Background(), src); err != nil && runErr == nil {
			runErr = err
		}
		src.Close()
	}
	if err := eng.Close(); err != nil {
		t.Fatalf("golden: close: %v", err)
	}
	return Result{Events: col.Events(), Store: st, Stats: eng.Stats(), Err: runErr}
}

// Check compares the normalised events with testdata/golden/NAME.json,
// or rewrites that file when the test runs with -update.
func Check(t testing.TB, name string, evs []*event.Event) {
	t.Helper()
	got := parsertest.Normalize(evs) + "\n"
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("golden: events differ from %s (rerun with -update and review the diff):\n%s", path, diff(string(want), got))
	}
}

// CheckCovered fails t for every capture (.pcap, .pcapng) in dir whose
// name known lacks: a capture added to the shared set must get a golden
// case.
func CheckCovered(t testing.TB, dir string, known map[string]bool) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	for _, e := range ents {
		if n := e.Name(); (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")) && !known[n] {
			t.Errorf("capture %s has no golden case: add one", n)
		}
	}
}

// File reads a restored artifact back from the run's data directory.
func (r Result) File(t testing.TB, a *event.Artifact) []byte {
	t.Helper()
	if a == nil {
		t.Fatal("golden: no artifact")
	}
	p, err := r.Store.Resolve(a.Path)
	if err != nil {
		t.Fatalf("golden: artifact %s: %v", a.Path, err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("golden: artifact %s: %v", a.Path, err)
	}
	return b
}

// CheckArtifacts requires every artifact the run's events name to be in
// its data directory with the size, SHA-256 and MD5 the event gives.
func (r Result) CheckArtifacts(t testing.TB) {
	t.Helper()
	for _, ev := range r.Events {
		for i := range ev.Artifacts {
			a := &ev.Artifacts[i]
			b := r.File(t, a)
			sum, m := sha256.Sum256(b), md5.Sum(b)
			if int64(len(b)) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 || hex.EncodeToString(m[:]) != a.MD5 {
				t.Errorf("%s artifact %s %q: stored file has %d bytes, sha256 %x, md5 %x; event says %d, %s, %s",
					ev.Type, a.Kind, a.Name, len(b), sum, m, a.Size, a.SHA256, a.MD5)
			}
		}
	}
}
