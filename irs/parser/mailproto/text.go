package mailproto

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Clean makes traffic bytes safe to record: valid UTF-8, control
// characters replaced, at most max bytes.
func Clean(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	if isClean(b) {
		return string(b)
	}
	return string(appendCleaned(nil, b))
}

// AppendClean appends Clean(b, max) to dst: for text kept in a buffer
// of the caller's rather than a string of its own.
func AppendClean(dst, b []byte, max int) []byte {
	if len(b) > max {
		b = b[:max]
	}
	if isClean(b) {
		return append(dst, b...)
	}
	return appendCleaned(dst, b)
}

// isClean reports whether b is valid UTF-8 without control characters
// (tabs aside): what Clean keeps as it is.
func isClean(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// appendCleaned appends b with '?' for each byte that is not UTF-8 and
// '.' for each control character (tabs aside).
func appendCleaned(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == utf8.RuneError && n <= 1:
			dst = append(dst, '?')
		case r < 0x20 && r != '\t' || r == 0x7f:
			dst = append(dst, '.')
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// CleanString is Clean for a string.
func CleanString(s string, max int) string { return Clean([]byte(s), max) }

// Quote renders traffic bytes for an anomaly text, at most max of them.
func Quote(b []byte, max int) string {
	cut := len(b) > max
	if cut {
		b = b[:max]
	}
	s := fmt.Sprintf("%q", b)
	if cut {
		s += "..."
	}
	return s
}

// IsDigit reports an ASCII digit.
func IsDigit(c byte) bool { return c >= '0' && c <= '9' }

// Atoi parses a small decimal number (at most 9 digits, no sign); ok is
// false for anything else.
func Atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !IsDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// TLSRecordStart reports whether data begins like a TLS record
// (handshake, alert, change cipher spec, application data) or an SSLv2
// hello: what a client sends after STARTTLS/STLS.
func TLSRecordStart(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	if data[0] == 0x80 {
		return true
	}
	return data[0] >= 0x14 && data[0] <= 0x17 && (len(data) < 2 || data[1] == 0x03)
}

// GapSize renders the size of a gap in a stream for an anomaly: "n", or
// "an unknown number of" when the reassembly could not tell (n < 0).
func GapSize(n int) string {
	if n < 0 {
		return "an unknown number of"
	}
	return strconv.Itoa(n)
}

// asciiSpace marks the bytes bytes.Fields splits ASCII text at.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// AppendFields appends the fields of b, as bytes.Fields splits it, to
// dst: with dst a small array on the caller's stack, a command or
// response line is split without an allocation.
func AppendFields(dst [][]byte, b []byte) [][]byte {
	for _, c := range b {
		if c >= 0x80 {
			// Unicode spaces count too: bytes.Fields knows them.
			return append(dst, bytes.Fields(b)...)
		}
	}
	for i := 0; i < len(b); {
		for i < len(b) && asciiSpace[b[i]] {
			i++
		}
		start := i
		for i < len(b) && !asciiSpace[b[i]] {
			i++
		}
		if i > start {
			dst = append(dst, b[start:i:i])
		}
	}
	return dst
}
