package pptp

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/engine"
	"github.com/sdnli/sdnli/irs/parser"
)

// TestWorkers runs the full PPTP capture with several engine workers:
// however the control connection and the GRE flow are spread, the call
// table joins them into one event with both channels.
func TestWorkers(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(NewDetector())
			var col engine.Collector
			eng, err := engine.New(engine.Config{Workers: workers, Registry: reg, Sink: &col})
			if err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFile(filepath.Join(golden.SharedPcaps(t, "pptp"), "tcpdump__pptp.pcap"))
			if err != nil {
				t.Fatal(err)
			}
			if err := eng.Run(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			src.Close()
			if err := eng.Close(); err != nil {
				t.Fatal(err)
			}
			evs := col.Events()
			if len(evs) != 1 || fmt.Sprint(evs[0].Summary.Get("channels")) != "[control gre]" || evs[0].Summary.Get("gre_packets_to_server") != 1 {
				t.Fatalf("events: %d, first %v", len(evs), evs)
			}
		})
	}
}
