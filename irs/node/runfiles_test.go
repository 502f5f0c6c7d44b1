package node

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/capture"
)

// TestRunFiles runs a plain capture (read through a mapping), a missing
// file, the capture truncated and the capture gzip-compressed (read): the
// files give their events, progress is reported for each file that opens
// and never goes back or past its size, and the errors name the bad files
// while the files after them are still read.
func TestRunFiles(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(golden.SharedPcaps(t, "smtp"), "zeek__smtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	plain := write("plain.pcap", raw)
	packed := write("packed.pcap.gz", gz.Bytes())
	missing := filepath.Join(dir, "missing.pcap")
	cut := write("cut.pcap", raw[:len(raw)-10])
	files := []string{plain, missing, cut, packed}

	var out bytes.Buffer
	n, err := Open(context.Background(), Config{Name: "irs-test", DataDir: t.TempDir(), Events: &out,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	last := map[string]int64{}
	back := map[string]bool{}
	sizes := map[string]int64{}
	progress := func(file string, i, count int, read, size int64) {
		mu.Lock()
		defer mu.Unlock()
		if count != len(files) || files[i] != file {
			t.Errorf("progress for %s as file %d of %d", file, i, count)
		}
		if read < last[file] || read > size {
			back[file] = true
		}
		last[file], sizes[file] = read, size
	}
	runErr := n.RunFiles(context.Background(), files, progress)
	if err := n.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if runErr == nil || !strings.Contains(runErr.Error(), missing) || !strings.Contains(runErr.Error(), cut) ||
		!errors.Is(runErr, os.ErrNotExist) || !errors.Is(runErr, capture.ErrTruncated) {
		t.Errorf("RunFiles error = %v, want the missing and the truncated file named", runErr)
	}
	for _, f := range []string{plain, cut, packed} {
		if sizes[f] == 0 || last[f] != sizes[f] || back[f] {
			t.Errorf("%s: progress ended at %d of %d (went back or past the end: %v)", filepath.Base(f), last[f], sizes[f], back[f])
		}
	}
	if _, ok := sizes[missing]; ok {
		t.Errorf("progress reported for the missing file")
	}
	// The same conversation three times (whole, cut by 10 bytes,
	// compressed): the SMTP transaction of each is there.
	if got := strings.Count(out.String(), `"protocol":"smtp"`); got < 3 {
		t.Errorf("%d SMTP events, want those of three readings of the capture:\n%.1000s", got, out.String())
	}
}
