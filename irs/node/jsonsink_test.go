package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/mixed"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// captureEvents runs the whole pipeline, every parser, over each shared
// capture and returns all the events, in file order.
func captureEvents(tb testing.TB) []*event.Event {
	tb.Helper()
	files, err := mixed.Files(golden.SharedPcaps(tb, ""))
	if err != nil {
		tb.Fatal(err)
	}
	var evs []*event.Event
	for _, f := range files {
		evs = append(evs, golden.Run(tb, nil, parser.Options{}, f).Events...)
	}
	return evs
}

// encodeStd writes evs as encoding/json's Encoder does, one per line.
func encodeStd(tb testing.TB, evs []*event.Event, escapeHTML bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			tb.Fatalf("encoding/json: event %s: %v", ev.UID, err)
		}
	}
	return buf.Bytes()
}

// firstDiff describes the first line where two JSON-lines outputs differ.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, wl, gl)
		}
	}
	return "no difference"
}

// TestJSONSinkMatchesEncodingJSONOnCaptures: for every event the shared
// captures produce, the JSON lines `sdnli inspect` prints are exactly
// encoding/json's, and so is the encoding without HTML escaping the
// MySQL sink stores (whole events and summaries).
func TestJSONSinkMatchesEncodingJSONOnCaptures(t *testing.T) {
	evs := captureEvents(t)
	if len(evs) < 1000 {
		t.Fatalf("want at least 1000 events from the shared captures, got %d", len(evs))
	}
	var withSummary int
	for _, ev := range evs {
		if len(ev.Summary) > 0 {
			withSummary++
		}
	}
	if withSummary < len(evs)/2 {
		t.Fatalf("want most events with a summary, got %d of %d", withSummary, len(evs))
	}

	t.Run("jsonSink", func(t *testing.T) {
		var got bytes.Buffer
		j := newJSONSink(&got)
		for _, ev := range evs {
			j.Put(ev)
		}
		if err := j.flush(); err != nil {
			t.Fatalf("flush: %v", err)
		}
		want := encodeStd(t, evs, true)
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("jsonSink output differs from encoding/json (%d events) at %s", len(evs), firstDiff(want, got.Bytes()))
		}
	})
	t.Run("no HTML escaping", func(t *testing.T) {
		e := event.JSONEncoder{NoHTMLEscape: true}
		var got []byte
		for _, ev := range evs {
			var err error
			if got, err = e.Append(got, ev); err != nil {
				t.Fatalf("event %s: %v", ev.UID, err)
			}
			got = append(got, '\n')
		}
		want := encodeStd(t, evs, false)
		if !bytes.Equal(got, want) {
			t.Fatalf("events differ from encoding/json at %s", firstDiff(want, got))
		}
	})
	t.Run("summaries", func(t *testing.T) {
		for _, escape := range []bool{true, false} {
			e := event.JSONEncoder{NoHTMLEscape: !escape}
			for _, ev := range evs {
				var want bytes.Buffer
				enc := json.NewEncoder(&want)
				enc.SetEscapeHTML(escape)
				if err := enc.Encode(ev.Summary); err != nil {
					t.Fatalf("encoding/json: %v", err)
				}
				got, err := e.Append(nil, ev.Summary)
				if err != nil {
					t.Fatalf("summary of %s %s: %v", ev.Protocol, ev.Type, err)
				}
				if w := bytes.TrimSuffix(want.Bytes(), []byte{'\n'}); !bytes.Equal(got, w) {
					t.Fatalf("summary of %s %s, escapeHTML=%v:\nwant %s\ngot  %s", ev.Protocol, ev.Type, escape, w, got)
				}
			}
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestJSONSinkErrors: an event JSON cannot encode is left out and its
// error is the one flush reports (the first one), the events around it
// are written; a failing writer's error is reported too.
func TestJSONSinkErrors(t *testing.T) {
	ok1 := &event.Event{UID: "1", Protocol: "dns", Summary: event.FieldsOf(map[string]any{"q": "a<b>"})}
	nan := &event.Event{UID: "2", Summary: event.FieldsOf(map[string]any{"ratio": math.NaN()})}
	inf := &event.Event{UID: "3", Summary: event.FieldsOf(map[string]any{"ratio": math.Inf(1)})}
	ok2 := &event.Event{UID: "4", Subject: "x"}
	cases := []struct {
		name    string
		w       io.Writer
		evs     []*event.Event
		want    []*event.Event // the events written
		wantErr string
	}{
		{"all fine", &bytes.Buffer{}, []*event.Event{ok1, ok2}, []*event.Event{ok1, ok2}, ""},
		{"NaN and Inf dropped, first error kept", &bytes.Buffer{}, []*event.Event{ok1, nan, inf, ok2}, []*event.Event{ok1, ok2},
			"irs: writing events: json: error calling MarshalJSON for type event.Fields: json: unsupported value: NaN"},
		{"writer fails", failingWriter{}, []*event.Event{ok1}, nil, "irs: writing events: disk full"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJSONSink(tc.w)
			for _, ev := range tc.evs {
				j.Put(ev)
			}
			err := j.flush()
			if got := fmt.Sprint(err); (err != nil || tc.wantErr != "") && got != tc.wantErr {
				t.Errorf("flush error: want %q, got %q", tc.wantErr, got)
			}
			if buf, ok := tc.w.(*bytes.Buffer); ok {
				if want := encodeStd(t, tc.want, true); !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("output:\nwant %s\ngot  %s", want, buf.Bytes())
				}
			}
		})
	}
}

// BenchmarkJSONSink writes 1,000 events from the shared captures as
// `sdnli inspect` does (JSON lines into a 64 KiB buffer), picked evenly
// over all of them so that every protocol is represented.
// "encoding/json" is the same with json.Encoder, for comparison.
func BenchmarkJSONSink(b *testing.B) {
	all := captureEvents(b)
	evs := make([]*event.Event, 1000)
	for i := range evs {
		evs[i] = all[i*len(all)/len(evs)]
	}
	b.Run("jsonSink", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			j := newJSONSink(io.Discard)
			for _, ev := range evs {
				j.Put(ev)
			}
			if err := j.flush(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			enc := json.NewEncoder(w)
			for _, ev := range evs {
				if err := enc.Encode(ev); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU reports the CPU time per op since start: on a shared machine
// it says more than the wall clock.
func reportCPU(b *testing.B, start time.Duration) {
	if cpu := cpuTime() - start; cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
