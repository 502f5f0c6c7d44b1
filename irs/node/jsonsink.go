package node

import (
	"bufio"
	"fmt"
	"io"
	"sync"

	"github.com/sdnli/sdnli/irs/event"
)

// jsonSink writes each event as one JSON line, buffered: one write per
// 64 KiB of events rather than one per event. The lines are those
// encoding/json's Encoder writes; event.JSONEncoder makes them without
// reflection, into a reused buffer.
type jsonSink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	enc  event.JSONEncoder
	line []byte
	err  error
}

func newJSONSink(w io.Writer) *jsonSink {
	return &jsonSink{w: bufio.NewWriterSize(w, 64<<10)}
}

func (j *jsonSink) flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.w.Flush(); err != nil && j.err == nil {
		j.err = fmt.Errorf("irs: writing events: %w", err)
	}
	return j.err
}

// Put writes ev. An event JSON cannot encode (a NaN in its summary) is
// left out, as the Encoder did; the first error is kept for flush.
func (j *jsonSink) Put(ev *event.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	line, err := j.enc.Append(j.line[:0], ev)
	if err == nil {
		line = append(line, '\n')
		_, err = j.w.Write(line)
	}
	if cap(line) <= 1<<20 { // one huge event does not pin its buffer
		j.line = line
	}
	if err != nil && j.err == nil {
		j.err = fmt.Errorf("irs: writing events: %w", err)
	}
}
