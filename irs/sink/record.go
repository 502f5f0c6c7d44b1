package sink

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sdnli/sdnli/irs/event"
)

// Column limits, in characters, as declared in schema/migrations. Values
// are cut to fit so that strict SQL mode never rejects an event for a
// long string.
const (
	lenNode        = 64
	lenProtocol    = 32
	lenType        = 64
	lenTransport   = 16
	lenIP          = 45
	lenSubject     = 1024
	lenRawRef      = 1024
	lenAddress     = 320
	lenRole        = 16
	lenKind        = 16
	lenName        = 1024
	lenContentType = 255
	lenSHA256      = 64
	lenMD5         = 32
	lenPath        = 1024

	// maxSummary bounds one event's summary JSON; parsers keep theirs far
	// smaller, so a bigger one is replaced by a note (and an anomaly)
	// instead of failing the batch on max_allowed_packet.
	maxSummary = 1 << 20
	// maxChildren bounds addresses and artifacts per event.
	maxChildren = 10000
)

// DATETIME covers years 1000..9999.
var (
	minTime = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// record is an event made fit for the tables: sanitised strings, UTC
// times, encoded JSON.
type record struct {
	uid                  string
	node, protocol, typ  string
	start, end           time.Time
	transport            string
	clientIP, serverIP   string
	clientPort, serverPt int
	subject              string
	summary              any // string or nil (NULL)
	anomalies            any // string or nil
	rawRef               string
	addresses            []addrRow
	artifacts            []artifactRow
	size                 int // rough bytes on the wire, for statement sizing
}

type addrRow struct{ address, role string }

type artifactRow struct {
	kind, name, contentType string
	size                    int64
	sha256                  string
	md5, parent             any // string or nil
	path                    string
}

// fit returns s as valid UTF-8 of at most n characters.
func fit(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n { // bytes >= characters
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i]
}

// fitASCII returns s with non-ASCII bytes replaced, cut to n bytes, for
// the ASCII columns (digests, uids).
func fitASCII(s string, n int) string {
	b := []byte(s)
	if len(b) > n {
		b = b[:n]
	}
	for i, c := range b {
		if c >= 0x80 || c < 0x20 {
			b[i] = '?'
		}
	}
	return string(b)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// normUID returns the 32-hex-digit key stored in events.uid. A UID of
// another shape is hashed, so that the same event still maps to the
// same key on every retry.
func normUID(uid string) string {
	l := strings.ToLower(uid)
	if len(l) == 32 && isHex(l) {
		return l
	}
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:16])
}

// normTime returns t in UTC, cut to DATETIME(6)'s microseconds (MySQL
// would round, MariaDB truncate: cut here so both store the same), or
// ok=false when outside DATETIME's range.
func normTime(t time.Time) (time.Time, bool) {
	if t.IsZero() {
		return time.Time{}, false
	}
	t = t.UTC().Truncate(time.Microsecond)
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, false
	}
	return t, true
}

// jsonScratch is an encoder with its buffer, reused across events.
type jsonScratch struct {
	enc event.JSONEncoder
	buf []byte
}

var jsonScratchPool = sync.Pool{New: func() any {
	return &jsonScratch{enc: event.JSONEncoder{NoHTMLEscape: true}}
}}

// marshalJSON encodes v without HTML escaping (stored text stays
// readable): encoding/json's bytes and errors, made by event.JSONEncoder
// without reflection for events and summaries. The result is a copy of
// the exact size, as encoding/json returns.
func marshalJSON(v any) ([]byte, error) {
	s := jsonScratchPool.Get().(*jsonScratch)
	b, err := s.enc.Append(s.buf[:0], v)
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= 64<<10 { // a rare huge value does not stay pinned
		s.buf = b
		jsonScratchPool.Put(s)
	}
	return out, err
}

// sanitize returns a copy of ev that JSON can encode and the database
// accepts: times in range, a summary that encodes and is not huge. What
// had to change is noted in Anomalies. ev itself is not modified.
func sanitize(ev *event.Event, now time.Time) *event.Event {
	c, _ := sanitizeJSON(ev, now)
	return c
}

// sanitizeJSON is sanitize, also returning the summary's JSON when it
// encoded the summary and kept it (nil otherwise): toRecord stores it
// without encoding it again.
func sanitizeJSON(ev *event.Event, now time.Time) (*event.Event, []byte) {
	var summary []byte
	c := *ev
	var notes []string
	start, okS := normTime(c.Start)
	end, okE := normTime(c.End)
	switch {
	case okS && okE:
	case okS:
		end = start
	case okE:
		start = end
	default:
		start, end = now.UTC(), now.UTC()
	}
	if !c.Start.IsZero() && !okS {
		notes = append(notes, fmt.Sprintf("sink: start time %s out of range, replaced", c.Start.Format(time.RFC3339Nano)))
	}
	if !c.End.IsZero() && !okE {
		notes = append(notes, fmt.Sprintf("sink: end time %s out of range, replaced", c.End.Format(time.RFC3339Nano)))
	}
	c.Start, c.End = start, end
	if len(c.Summary) > 0 {
		b, err := marshalJSON(c.Summary)
		switch {
		case err != nil:
			c.Summary = event.Fields{{Key: "sink_unencodable", Value: true}}
			notes = append(notes, "sink: summary not JSON-encodable, dropped: "+err.Error())
		case len(b) > maxSummary:
			c.Summary = event.Fields{{Key: "sink_oversize_bytes", Value: len(b)}}
			notes = append(notes, fmt.Sprintf("sink: summary of %d bytes exceeds %d, dropped", len(b), maxSummary))
		default:
			summary = b
		}
	}
	if len(c.Addresses) > maxChildren {
		notes = append(notes, fmt.Sprintf("sink: %d addresses, kept the first %d", len(c.Addresses), maxChildren))
		c.Addresses = c.Addresses[:maxChildren]
	}
	if len(c.Artifacts) > maxChildren {
		notes = append(notes, fmt.Sprintf("sink: %d artifacts, kept the first %d", len(c.Artifacts), maxChildren))
		c.Artifacts = c.Artifacts[:maxChildren]
	}
	if len(notes) > 0 {
		c.Anomalies = append(append([]string(nil), c.Anomalies...), notes...)
	}
	return &c, summary
}

// encodeEvent returns ev as one spool line (JSON without newline).
func encodeEvent(ev *event.Event, now time.Time) ([]byte, error) {
	b, err := marshalJSON(ev)
	if err == nil && len(b) <= maxLine {
		return b, nil
	}
	s := sanitize(ev, now)
	b, err = marshalJSON(s)
	if err != nil {
		return nil, fmt.Errorf("sink: encode event %s: %w", ev.UID, err)
	}
	if len(b) > maxLine {
		// Only an absurd subject or name list can get here: keep the
		// identity and the time, say what was dropped.
		small := &event.Event{UID: s.UID, Node: s.Node, Protocol: s.Protocol, Type: s.Type,
			Start: s.Start, End: s.End, Transport: s.Transport, Client: s.Client, Server: s.Server,
			RawRef: s.RawRef, Anomalies: []string{fmt.Sprintf("sink: event of %d bytes too large to spool, details dropped", len(b))}}
		return marshalJSON(small)
	}
	return b, nil
}

// toRecord turns an event into table rows.
func toRecord(ev *event.Event, now time.Time) *record {
	s, summary := sanitizeJSON(ev, now)
	r := &record{
		uid:       normUID(s.UID),
		node:      fit(s.Node, lenNode),
		protocol:  fit(s.Protocol, lenProtocol),
		typ:       fit(s.Type, lenType),
		start:     s.Start,
		end:       s.End,
		transport: fit(s.Transport, lenTransport),
		subject:   fit(s.Subject, lenSubject),
		rawRef:    fit(s.RawRef, lenRawRef),
	}
	if s.Client.IsValid() {
		r.clientIP, r.clientPort = fitASCII(s.Client.Addr().String(), lenIP), int(s.Client.Port())
	}
	if s.Server.IsValid() {
		r.serverIP, r.serverPt = fitASCII(s.Server.Addr().String(), lenIP), int(s.Server.Port())
	}
	r.size = 200 + len(r.subject) + len(r.rawRef)
	if len(s.Summary) > 0 {
		if summary == nil { // replaced by sanitize: encode the note
			summary, _ = marshalJSON(s.Summary)
		}
		if summary != nil {
			r.summary = string(summary)
			r.size += len(summary)
		}
	}
	if len(s.Anomalies) > 0 {
		if b, err := marshalJSON(s.Anomalies); err == nil {
			r.anomalies = string(b)
			r.size += len(b)
		}
	}
	seen := make(map[addrRow]bool, len(s.Addresses))
	for _, a := range s.Addresses {
		row := addrRow{address: fit(strings.TrimSpace(a.Address), lenAddress), role: fit(a.Role, lenRole)}
		key := addrRow{strings.ToLower(row.address), row.role}
		if row.address == "" || seen[key] {
			continue
		}
		seen[key] = true
		r.addresses = append(r.addresses, row)
		r.size += len(row.address) + 40
	}
	for _, a := range s.Artifacts {
		row := artifactRow{
			kind:        fit(a.Kind, lenKind),
			name:        fit(a.Name, lenName),
			contentType: fit(a.ContentType, lenContentType),
			size:        max(a.Size, 0),
			sha256:      fitASCII(strings.ToLower(a.SHA256), lenSHA256),
			path:        fit(a.Path, lenPath),
		}
		if a.MD5 != "" {
			row.md5 = fitASCII(strings.ToLower(a.MD5), lenMD5)
		}
		if a.Parent != "" {
			row.parent = fitASCII(strings.ToLower(a.Parent), lenSHA256)
		}
		r.artifacts = append(r.artifacts, row)
		r.size += len(row.name) + len(row.path) + 200
	}
	return r
}
