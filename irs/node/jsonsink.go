package node

import (
	"fmt"
	"io"
	"sync"

	"github.com/sdnli/sdnli/irs/event"
)

// jsonSink writes each event as one JSON line, buffered: one write per
// 64 KiB of events rather than one per event. The lines are those
// encoding/json's Encoder writes; event.JSONEncoder makes them without
// reflection, straight into the buffer.
type jsonSink struct {
	mu  sync.Mutex
	w   io.Writer
	enc event.JSONEncoder
	buf []byte // lines not yet written
	err error  // the first error; after a write error nothing more is written
	bad bool   // the writer failed
}

// jsonSinkBuffer is how much is buffered before a write.
const jsonSinkBuffer = 64 << 10

func newJSONSink(w io.Writer) *jsonSink {
	return &jsonSink{w: w, buf: make([]byte, 0, jsonSinkBuffer+4<<10)}
}

func (j *jsonSink) flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.write()
	return j.err
}

// write writes out the buffer; it is kept for reuse unless one huge event
// grew it.
func (j *jsonSink) write() {
	if len(j.buf) > 0 && !j.bad {
		if _, err := j.w.Write(j.buf); err != nil {
			j.bad = true
			j.keep(err)
		}
	}
	j.buf = j.buf[:0]
	if cap(j.buf) > 1<<20 {
		j.buf = make([]byte, 0, jsonSinkBuffer+4<<10)
	}
}

func (j *jsonSink) keep(err error) {
	if j.err == nil {
		j.err = fmt.Errorf("irs: writing events: %w", err)
	}
}

// Put writes ev. An event JSON cannot encode (a NaN in its summary) is
// left out, as the Encoder did; the first error is kept for flush.
func (j *jsonSink) Put(ev *event.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := len(j.buf)
	b, err := j.enc.Append(j.buf, ev)
	if err != nil {
		j.buf = b[:n] // what was appended of it goes
		j.keep(err)
		return
	}
	j.buf = append(b, '\n')
	if len(j.buf) >= jsonSinkBuffer {
		j.write()
	}
}
