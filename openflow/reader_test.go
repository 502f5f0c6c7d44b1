package openflow

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
	"testing/iotest"
)

// chunkReader returns the stream in random pieces, as TCP may.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(1+r.rng.IntN(40), len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func sampleStream(t *testing.T) ([]byte, []sample) {
	var stream []byte
	samples := allSamples(t)
	for i, s := range samples {
		var err error
		if stream, err = AppendMessage(stream, uint32(i+1), s.msg); err != nil {
			t.Fatalf("AppendMessage %s: %v", s.name, err)
		}
	}
	return stream, samples
}

func TestReaderSplitsStream(t *testing.T) {
	stream, samples := sampleStream(t)
	readers := map[string]func() io.Reader{
		"whole":         func() io.Reader { return bytes.NewReader(stream) },
		"one byte":      func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"random chunks": func() io.Reader { return &chunkReader{data: stream, rng: rand.New(rand.NewPCG(1, 2))} },
		"eof with data": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			r := NewReader(mk())
			for i, s := range samples {
				h, m, err := r.ReadMessage()
				if err != nil {
					t.Fatalf("message %d (%s): %v", i, s.name, err)
				}
				if h.XID != uint32(i+1) || !reflect.DeepEqual(m, s.msg) {
					t.Fatalf("message %d: got xid %d %#v, want xid %d %#v", i, h.XID, m, i+1, s.msg)
				}
			}
			if _, _, err := r.ReadMessage(); err != io.EOF {
				t.Errorf("after the last message: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	echo := mustBytes(t, 1, &EchoRequest{Data: []byte("abcd")})
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"cut header", echo[:5], io.ErrUnexpectedEOF},
		{"cut body", echo[:10], io.ErrUnexpectedEOF},
		{"length below header", []byte{4, 2, 0, 4, 0, 0, 0, 1}, ErrBadLength},
		{"length zero", []byte{4, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, ErrBadLength},
		{"huge length, little data", []byte{4, 2, 0xff, 0xff, 0, 0, 0, 1, 1, 2, 3}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in)).ReadRaw()
			if !errors.Is(err, tt.want) {
				t.Errorf("ReadRaw error = %v, want %v", err, tt.want)
			}
		})
	}
	// A message that decodes badly leaves the stream in step.
	bad := []byte{4, 99, 0, 8, 0, 0, 0, 7}
	r := NewReader(bytes.NewReader(append(bad, echo...)))
	if h, _, err := r.ReadMessage(); !errors.Is(err, ErrUnknownType) || h.XID != 7 {
		t.Errorf("unknown type: header %+v, error %v; want xid 7 and ErrUnknownType", h, err)
	}
	if _, m, err := r.ReadMessage(); err != nil || m.Type() != TypeEchoRequest {
		t.Errorf("message after a bad one: %v, %v", m, err)
	}
}

func TestScanMessages(t *testing.T) {
	stream, samples := sampleStream(t)
	sc := bufio.NewScanner(iotest.HalfReader(bytes.NewReader(stream)))
	sc.Split(ScanMessages)
	n := 0
	for sc.Scan() {
		if _, _, err := Decode(sc.Bytes()); err != nil {
			t.Errorf("message %d: %v", n, err)
		}
		n++
	}
	if err := sc.Err(); err != nil || n != len(samples) {
		t.Errorf("scanned %d messages (err %v), want %d", n, err, len(samples))
	}
	sc = bufio.NewScanner(bytes.NewReader(stream[:len(stream)-3]))
	sc.Split(ScanMessages)
	for sc.Scan() {
	}
	if !errors.Is(sc.Err(), io.ErrUnexpectedEOF) {
		t.Errorf("cut stream: %v, want io.ErrUnexpectedEOF", sc.Err())
	}
}
