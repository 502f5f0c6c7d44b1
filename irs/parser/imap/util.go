package imap

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// clean makes traffic bytes safe to record: valid UTF-8, control
// characters replaced, at most max bytes.
func clean(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	ok := utf8.Valid(b)
	if ok {
		for _, c := range b {
			if c < 0x20 && c != '\t' || c == 0x7f {
				ok = false
				break
			}
		}
	}
	if ok {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == utf8.RuneError && n <= 1:
			s.WriteByte('?')
		case r < 0x20 && r != '\t' || r == 0x7f:
			s.WriteByte('.')
		default:
			s.WriteRune(r)
		}
	}
	return s.String()
}

// quote renders traffic bytes for an anomaly text.
func quote(b []byte, max int) string {
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

// anomalies is a bounded, de-duplicated list of findings.
type anomalies struct {
	list    []string
	dropped int
}

func (a *anomalies) add(s string) {
	for _, x := range a.list {
		if x == s {
			return
		}
	}
	if len(a.list) >= maxAnomalies {
		a.dropped++
		return
	}
	a.list = append(a.list, s)
}

func (a *anomalies) addf(format string, args ...any) { a.add(fmt.Sprintf(format, args...)) }

// out returns the list for an event, noting how many were left out.
func (a *anomalies) out() []string {
	if len(a.list) == 0 && a.dropped == 0 {
		return nil
	}
	l := append([]string(nil), a.list...)
	if a.dropped > 0 {
		l = append(l, fmt.Sprintf("%d more anomalies not listed", a.dropped))
	}
	return l
}

// appendBounded appends b to buf, growing geometrically but never to more
// than limit bytes of capacity; what does not fit is dropped.
func appendBounded(buf, b []byte, limit int) []byte {
	room := limit - len(buf)
	if room <= 0 {
		return buf
	}
	if len(b) > room {
		b = b[:room]
	}
	need := len(buf) + len(b)
	if need > cap(buf) {
		nc := 2*cap(buf) + len(b)
		if nc < 512 {
			nc = 512
		}
		if nc > limit {
			nc = limit
		}
		if nc < need {
			nc = need
		}
		nb := make([]byte, len(buf), nc)
		copy(nb, buf)
		buf = nb
	}
	return append(buf, b...)
}

// b64decode decodes a SASL response, with or without padding.
func b64decode(line []byte) ([]byte, bool) {
	if len(line) > maxSASL {
		line = line[:maxSASL]
	}
	// Sized for the raw (unpadded) reading: the padded DecodedLen is too
	// small for a short invalid response ("ab"), which base64 then writes
	// past.
	dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(line))+3)
	k, err := base64.StdEncoding.Decode(dec, line)
	if err != nil {
		k, err = base64.RawStdEncoding.Decode(dec, bytes.TrimRight(line, "="))
	}
	if err != nil {
		return nil, false
	}
	return dec[:k], true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if upper(b[i]) != upper(p[i]) {
			return false
		}
	}
	return true
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if hasPrefixFold(b[i:], s) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi parses a small decimal number; ok is false for anything else.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// tlsRecordStart reports whether data begins like a TLS record (handshake,
// alert, change cipher spec, application data) or an SSLv2 hello.
func tlsRecordStart(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	if data[0] == 0x80 {
		return true
	}
	return data[0] >= 0x14 && data[0] <= 0x17 && (len(data) < 2 || data[1] == 0x03)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// equalFold reports whether b is s, ignoring ASCII case.
func equalFold(b []byte, s string) bool { return len(b) == len(s) && hasPrefixFold(b, s) }
