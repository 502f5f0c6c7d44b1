package openflow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns wraps one of these (or
// an *Error from the switch), so callers can test with errors.Is.
var (
	// ErrShort: the bytes end before the structure they should hold.
	ErrShort = errors.New("openflow: truncated")
	// ErrBadLength: a length field is impossible (too small, not aligned,
	// or larger than what contains it).
	ErrBadLength = errors.New("openflow: bad length")
	// ErrBadVersion: a message other than HELLO/ERROR is not OpenFlow 1.3.
	ErrBadVersion = errors.New("openflow: unsupported version")
	// ErrUnknownType: a message, multipart, action, instruction or element
	// type this package does not know.
	ErrUnknownType = errors.New("openflow: unknown type")
	// ErrTooLong: an encoded message would exceed 65535 bytes.
	ErrTooLong = errors.New("openflow: message too long")
	// ErrInvalid: a value cannot be encoded (bad field length, value out
	// of range, missing prerequisite, ...).
	ErrInvalid = errors.New("openflow: invalid value")
)

var be = binary.BigEndian

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
