package openflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the codec. Errors from decoding and encoding wrap one
// of these (behind an "openflow: ..." context), so callers can test with
// errors.Is.
var (
	// ErrShort: the bytes end before the structure they should hold.
	ErrShort = errors.New("truncated")
	// ErrBadLength: a length field is impossible (too small, not aligned,
	// or larger than what contains it).
	ErrBadLength = errors.New("bad length")
	// ErrBadVersion: a message other than HELLO/ERROR is not OpenFlow 1.3.
	ErrBadVersion = errors.New("unsupported version")
	// ErrUnknownType: a message, multipart, action, instruction or element
	// type this package does not know.
	ErrUnknownType = errors.New("unknown type")
	// ErrTooLong: an encoded message would exceed 65535 bytes.
	ErrTooLong = errors.New("message too long")
	// ErrInvalid: a value cannot be encoded (bad field length, value out
	// of range, missing prerequisite, ...).
	ErrInvalid = errors.New("invalid value")
)

var be = binary.BigEndian

// wrapped adds context to an error that may already start with
// "openflow: ", without repeating the prefix; errors.Is and errors.As
// still see the cause.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

func wrap(err error, format string, args ...any) error {
	return &wrapped{msg: "openflow: " + fmt.Sprintf(format, args...) + ": " + strings.TrimPrefix(err.Error(), "openflow: "), err: err}
}

// pad8 rounds n up to a multiple of 8, the alignment of most OpenFlow
// structures.
func pad8(n int) int { return (n + 7) &^ 7 }

func appendZeros(b []byte, n int) []byte {
	for range n {
		b = append(b, 0)
	}
	return b
}

// cloneBytes copies b so decoded messages never alias a reader's buffer.
// Empty input gives nil, so decoded and hand-built values compare equal.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func short(what string, need, have int) error {
	return fmt.Errorf("%w: %s needs %d bytes, have %d", ErrShort, what, need, have)
}

// cString reads a NUL-padded fixed-size string field.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// appendCString writes s into a fixed field of n bytes; the spec wants the
// field NUL-terminated, so s may hold at most n-1 bytes.
func appendCString(b []byte, s string, n int, what string) ([]byte, error) {
	if len(s) >= n {
		return b, fmt.Errorf("%w: %s %q longer than %d bytes", ErrInvalid, what, s, n-1)
	}
	b = append(b, s...)
	return appendZeros(b, n-len(s)), nil
}

// putLen16 patches a 16-bit length at b[at:] with the bytes written since
// start, failing when they do not fit.
func putLen16(b []byte, at, start int, what string) error {
	n := len(b) - start
	if n > 0xffff {
		return fmt.Errorf("%w: %s is %d bytes", ErrTooLong, what, n)
	}
	be.PutUint16(b[at:], uint16(n))
	return nil
}
