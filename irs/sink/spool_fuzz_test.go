package sink

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzSpoolFile feeds arbitrary bytes as a spool file: reading must not
// panic, must account for every byte, and any event it decodes must
// encode back to a line that decodes to the same uid.
func FuzzSpoolFile(f *testing.F) {
	f.Add([]byte(`{"uid":"0123456789abcdef0123456789abcdef","protocol":"smtp","start":"2024-01-01T00:00:00Z"}` + "\n"))
	f.Add([]byte("garbage\n{\"uid\":\n{}\n\n"))
	f.Add([]byte(`{"summary":{"n":1e400},"client":"1.2.3.4:5"}`))
	f.Add([]byte(`{"start":"0000-01-01T00:00:00Z","anomalies":["\u0000"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lr := newLineReader(bytes.NewReader(data), 0, 0, 1024)
		var end int64
		lines := 0
		for {
			l, err := lr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			lines++
			if l.no != lines || l.end < end {
				t.Fatalf("line %d: no %d, end %d after %d", lines, l.no, l.end, end)
			}
			end = l.end
			ev, err := decodeSpoolLine(l)
			if err != nil {
				continue
			}
			b, err := encodeEvent(ev, time.Now())
			if err != nil {
				t.Fatalf("decoded event does not encode: %v", err)
			}
			back, err := decodeLine(b)
			if err != nil || back.UID != ev.UID {
				t.Fatalf("re-decoded uid %v (%v); want %q", back, err, ev.UID)
			}
			_ = toRecord(ev, time.Now())
		}
		if end != int64(len(data)) {
			t.Fatalf("lines cover %d bytes of %d", end, len(data))
		}
	})
}
