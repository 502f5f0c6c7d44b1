package openflow

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Reader splits a byte stream into OpenFlow messages. It copes with
// partial reads and with several messages per read; its buffer never
// exceeds the largest message the 16-bit length allows (64 KiB), whatever
// the peer sends.
type Reader struct {
	br  *bufio.Reader
	buf []byte
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 32<<10), buf: make([]byte, 0, 1024)}
}

// ReadRaw returns the bytes of the next message, header included. The
// slice is valid until the next call. At a clean end of stream the error
// is io.EOF; a stream cut inside a message gives io.ErrUnexpectedEOF. An
// impossible length gives an error wrapping ErrBadLength, after which the
// stream cannot be resynchronised.
func (r *Reader) ReadRaw() ([]byte, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, err
	}
	h, err := ParseHeader(hdr[:])
	if err != nil {
		return nil, err
	}
	n := int(h.Length)
	if cap(r.buf) < n {
		r.buf = make([]byte, 0, n) // at most MaxMessageLen
	}
	b := append(r.buf[:0], hdr[:]...)[:n]
	if _, err := io.ReadFull(r.br, b[HeaderLen:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("openflow: reading %s body of %d bytes: %w", h.Type, n-HeaderLen, err)
	}
	return b, nil
}

// ReadMessage reads and decodes the next message. A decode error leaves
// the stream in step (the next call reads the next message); the header
// is returned with it when it could be read.
func (r *Reader) ReadMessage() (Header, Message, error) {
	b, err := r.ReadRaw()
	if err != nil {
		return Header{}, nil, err
	}
	return Decode(b)
}

// ScanMessages is a bufio.SplitFunc that yields whole OpenFlow messages.
func ScanMessages(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if len(data) < HeaderLen {
		if atEOF && len(data) > 0 {
			return 0, nil, fmt.Errorf("openflow: %d trailing bytes: %w", len(data), io.ErrUnexpectedEOF)
		}
		return 0, nil, nil
	}
	h, err := ParseHeader(data)
	if err != nil {
		return 0, nil, err
	}
	if len(data) < int(h.Length) {
		if atEOF {
			return 0, nil, fmt.Errorf("openflow: %s cut at %d of %d bytes: %w", h.Type, len(data), h.Length, io.ErrUnexpectedEOF)
		}
		return 0, nil, nil
	}
	return int(h.Length), data[:h.Length], nil
}
