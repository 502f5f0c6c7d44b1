package vpn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// TestNoPanics runs every parser over every public capture (all
// protocol folders, not only the VPN ones): the VPN and tunnel
// detectors see all kinds of traffic first-hand, and none may panic.
func TestNoPanics(t *testing.T) {
	root := golden.SharedPcaps(t, "")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "refs" {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			name := e.Name()
			if strings.Contains(name, ".expected.") || !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng")) {
				continue
			}
			n++
			res := golden.Run(t, parser.Default, parser.Options{}, filepath.Join(root, d.Name(), name))
			if p := res.Stats.ParserPanics; p != 0 {
				t.Errorf("%s/%s: %d parser panics", d.Name(), name, p)
				for _, ev := range res.Events {
					if ev.Type == "anomaly" {
						t.Errorf("%s/%s: %s", d.Name(), name, ev.Anomalies)
					}
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d captures found", n)
	}
}
