package http

import (
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// field is one header field; name is lower case.
type field struct{ name, value string }

// message is one request or response.
type message struct {
	isReq      bool
	start, end time.Time

	method, target, version string // request line (version also on responses)
	status                  int
	reason                  string

	fields      []field
	fields0     [12]field // fields' first array: most headers fit
	headerBytes int
	headerTrunc bool

	body       []byte // transfer-decoded body, capped
	bodyLen    int64  // transfer-decoded bytes seen, including past the cap
	truncated  bool   // body longer than the cap
	incomplete bool   // body cut short (gap, connection end, bad framing)
	holes      int64  // bytes lost in gaps, filled with zeros in body
	chunked    bool

	decodedLen int64 // body size after content decoding
	artifact   *event.Artifact
	parts      []event.Artifact // files found inside a multipart body
	partNames  []string
	formFields []string // names of the multipart parts that are not files
	anomalies  parser.Anomalies
}

// get returns the first value of a header field.
func (m *message) get(name string) string {
	for _, f := range m.fields {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// has reports whether a header field is present.
func (m *message) has(name string) bool {
	for _, f := range m.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

// values returns every value of a header field, split at commas.
func (m *message) values(name string) []string {
	var out []string
	for _, f := range m.fields {
		if f.name != name {
			continue
		}
		for v := range strings.SplitSeq(f.value, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, strings.ToLower(v))
			}
		}
	}
	return out
}

// parseHeader parses a header block (start line, fields, blank line).
// A block cut at the size cap lacks its end; its last, partial line is
// dropped. The start line was checked by matchRequestLine or
// matchStatusLine before this is called.
func parseHeader(block []byte, isReq, truncated bool) *message {
	m := &message{isReq: isReq, headerBytes: len(block), headerTrunc: truncated}
	// one string for the whole block: lines and fields are slices of it
	text := string(block)
	if truncated {
		if i := strings.LastIndexByte(text, '\n'); i >= 0 {
			text = text[:i+1]
		}
	}
	first, rest, _ := strings.Cut(text, "\n")
	first = strings.TrimRight(first, "\r")
	if isReq {
		sp1 := strings.IndexByte(first, ' ')
		sp2 := strings.LastIndexByte(first, ' ')
		if sp1 > 0 && sp2 > sp1 {
			m.method = first[:sp1]
			m.target = strings.TrimSpace(first[sp1+1 : sp2])
			m.version = first[sp2+1:]
		}
	} else {
		m.version, _, _ = strings.Cut(first, " ")
		r := strings.TrimPrefix(first, m.version+" ")
		code, reason, _ := strings.Cut(r, " ")
		m.status, _ = strconv.Atoi(code)
		m.reason = strings.TrimSpace(reason)
	}
	m.fields = m.fields0[:0]
	bad := 0
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obsolete line folding continues the previous field
			if n := len(m.fields); n > 0 {
				m.fields[n-1].value += " " + strings.TrimSpace(line)
				continue
			}
			bad++
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			bad++
			continue
		}
		if len(m.fields) >= maxHeaderFields {
			m.anomalies.Addf("more than %d header fields; the rest ignored", maxHeaderFields)
			break
		}
		m.fields = append(m.fields, field{lowerName(name), strings.TrimSpace(value)})
	}
	if bad > 0 {
		m.anomalies.Addf("%d malformed header lines", bad)
	}
	if truncated {
		m.anomalies.Addf("header block over %d bytes; the rest was skipped", maxHeaderBytes)
	}
	return m
}

// commonNames maps the usual spellings of frequent header names to lower
// case without allocating.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection",
		"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Cookie", "Set-Cookie", "Referer",
		"Date", "Server", "Cache-Control", "Last-Modified", "ETag", "Expires", "Location", "Authorization",
		"Keep-Alive", "Vary", "Upgrade", "Origin", "Content-Disposition", "If-Modified-Since", "Pragma"} {
		m[n] = strings.ToLower(n)
		m[strings.ToLower(n)] = strings.ToLower(n)
	}
	return m
}()

func lowerName(s string) string {
	if l, ok := commonNames[s]; ok {
		return l
	}
	return strings.ToLower(s)
}

// framing says how a message body is delimited.
type framing uint8

const (
	frameNone framing = iota
	frameLength
	frameChunked
	frameClose
	frameTunnel // CONNECT accepted: the rest is not HTTP
	frameUpgrade
)

// requestFraming applies RFC 9112 section 6 to a request.
func requestFraming(m *message) (framing, int64) {
	te := m.values("transfer-encoding")
	if len(te) > 0 {
		if m.has("content-length") {
			m.anomalies.Add("both Transfer-Encoding and Content-Length present (request smuggling pattern)")
		}
		if te[len(te)-1] == "chunked" {
			return frameChunked, 0
		}
		m.anomalies.Addf("request Transfer-Encoding %q does not end in chunked; body length unknown", strings.Join(te, ", "))
		return frameNone, 0
	}
	if n, ok := contentLength(m); ok && n > 0 {
		return frameLength, n
	}
	return frameNone, 0
}

// responseFraming applies RFC 9112 section 6.3 to a response, given the
// request it answers (nil when that was not seen).
func responseFraming(m *message, req *message) (framing, int64) {
	switch {
	case m.status == 101:
		return frameUpgrade, 0
	case req != nil && req.method == "CONNECT" && m.status >= 200 && m.status < 300:
		return frameTunnel, 0
	case req != nil && req.method == "HEAD", m.status < 200, m.status == 204, m.status == 304:
		return frameNone, 0
	}
	te := m.values("transfer-encoding")
	if len(te) > 0 {
		if m.has("content-length") {
			m.anomalies.Add("both Transfer-Encoding and Content-Length present")
		}
		if te[len(te)-1] == "chunked" {
			return frameChunked, 0
		}
		return frameClose, 0
	}
	if n, ok := contentLength(m); ok {
		if n == 0 {
			return frameNone, 0
		}
		return frameLength, n
	}
	return frameClose, 0
}

// contentLength parses Content-Length; repeated equal values are allowed.
func contentLength(m *message) (int64, bool) {
	var n int64 = -1
	for _, f := range m.fields {
		if f.name != "content-length" {
			continue
		}
		for v := range strings.SplitSeq(f.value, ",") {
			x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || x < 0 {
				m.anomalies.Addf("invalid Content-Length %q", f.value)
				return 0, false
			}
			if n >= 0 && x != n {
				m.anomalies.Addf("conflicting Content-Length values %q", f.value)
				return n, true
			}
			n = x
		}
	}
	return n, n >= 0
}
