package node

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/sdnli/sdnli/irs/event"
)

// jsonSink writes each event as one JSON line, buffered: one write per
// 64 KiB of events rather than one per event.
type jsonSink struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

func newJSONSink(w io.Writer) *jsonSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &jsonSink{w: bw, enc: json.NewEncoder(bw)}
}

func (j *jsonSink) flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.w.Flush(); err != nil && j.err == nil {
		j.err = fmt.Errorf("irs: writing events: %w", err)
	}
	return j.err
}

func (j *jsonSink) Put(ev *event.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.enc.Encode(ev); err != nil && j.err == nil {
		j.err = fmt.Errorf("irs: writing events: %w", err)
	}
}
