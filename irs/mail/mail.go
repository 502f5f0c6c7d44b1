// Package mail restores intercepted email messages for the mail protocol
// parsers (SMTP now, POP3 and IMAP alike): it keeps the raw message
// byte-exact as an eml artifact, decodes its headers, text and
// attachments, and normalises the addresses it names for the event index.
//
// MIME decoding (RFC 2045-2049, RFC 2047 encoded words, RFC 2231
// parameters, charsets such as gb2312) is github.com/jhillyerd/enmime/v2's,
// which tolerates broken messages and collects what it found wrong; those
// findings become anomalies, never a failed restore. A plainly
// well-formed message (most mail) is taken apart by plainmime.go instead,
// at a fraction of enmime's cost and with enmime's result, which the
// differential tests and fuzz targets hold it to. What this package also
// writes by hand is what no library does for traffic: address
// normalisation for an index (address.go), and the streaming
// dot-unstuffing with SMTP smuggling checks that SMTP DATA and POP3 share
// (dot.go).
//
// Use by protocol: SMTP feeds DATA content to a DotDecoder and BDAT
// chunks as they are; POP3 feeds a RETR/TOP response body (after "+OK")
// to a DotDecoder; IMAP hands a FETCH or APPEND literal ({n} octets) over
// as it is. Each then calls Restore with a whole message (or DecodeHeader
// with a part that is not one: a TOP answer, a BODY[HEADER]) and builds
// its event from the Message: PutSummary for the summary fields the
// three share, Addresses (or an AddressSet) for the index.
package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/inbucket/html2text"
	"github.com/jhillyerd/enmime/v2"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Limits that keep a hostile message from costing more than it is worth.
const (
	// MaxText caps the decoded text body kept in a Message.
	MaxText = 64 << 10
	// maxParts: a message with more MIME delimiter lines than this is
	// not decoded part by part (enmime keeps every part in memory).
	maxParts = 2000
	// maxNesting: more boundary parameters than this and the MIME tree is
	// not decoded (enmime recurses once per nested multipart).
	maxNesting = 100
	// maxAttachments caps the attachments saved from one message.
	maxAttachments = 256
	// maxAnomalies caps the anomalies reported for one message.
	maxAnomalies = 32
	// maxURLs and urlScan bound the link extraction.
	maxURLs = 32
	urlScan = 1 << 20
	// maxHeaderValue caps one decoded header value kept in a Message.
	maxHeaderValue = 2048
	// maxAddresses caps each address list kept in a Message.
	maxAddresses = 500
)

// EMLName and EMLType are the name and content type given to the raw
// message artifact.
const (
	EMLName = "message.eml"
	EMLType = "message/rfc822"
)

// Address is a decoded address from a message header, as written (not
// normalised; see NormalizeAddress).
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// String renders the address as `Name <addr>` or `addr`.
func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

// Message is a restored message: where its raw bytes were stored and what
// its headers and body say.
type Message struct {
	// EML is the raw message as saved (kind eml). Its SHA256 is the
	// Parent of every attachment.
	EML event.Artifact
	// Size is the length of the raw message given to Restore; Truncated
	// says whether Restore had to cut it to Options().MaxArtifactBytes.
	Size      int
	Truncated bool

	From, Sender, To, Cc, Bcc, ReplyTo []Address
	// Header values, RFC 2047-decoded to UTF-8.
	Subject   string
	Date      string    // the Date header as written
	Time      time.Time // Date parsed; zero if it could not be
	MessageID string    // without angle brackets
	InReplyTo string
	UserAgent string // User-Agent or X-Mailer

	// Text is the plain text body (or the HTML body converted to text),
	// at most MaxText bytes; TextTruncated says whether it was cut.
	Text          string
	TextTruncated bool
	// URLs are the distinct http(s) links in the text and HTML bodies
	// (at most maxURLs, from the first urlScan bytes of each).
	URLs []string
	// Attachments are the saved parts that carry a file name or an
	// attachment disposition, in message order.
	Attachments []event.Artifact
	// Anomalies lists what was wrong with the message (broken MIME, bad
	// encodings), in words an analyst can act on.
	Anomalies []string
	// HeaderOnly: only the header was decoded (DecodeHeader).
	HeaderOnly bool
}

// Restore saves raw byte-exact as an eml artifact through env, decodes it
// and saves every named or attached part as an attachment artifact whose
// Parent is the eml's SHA-256. It always returns a Message describing
// what it could decode; the error, if any, reports artifacts that could
// not be saved. Broken MIME is never an error: it is listed in Anomalies.
func Restore(env parser.Env, raw []byte) (*Message, error) {
	m := &Message{Size: len(raw)}
	if max := env.Options().MaxArtifactBytes; max > 0 && len(raw) > max {
		raw = raw[:max]
		m.Truncated = true
		m.anomaly(fmt.Sprintf("message of %d bytes cut to the %d-byte artifact limit", m.Size, max))
	}
	var errs []error
	eml, err := env.SaveArtifact(event.KindEML, EMLName, EMLType, raw)
	if err != nil {
		errs = append(errs, fmt.Errorf("mail: save eml (%d bytes): %w", len(raw), err))
	} else {
		m.EML = eml
	}

	func() {
		// The decoder runs third-party code over hostile input: a panic
		// costs the decoded view, never the restore.
		defer func() {
			if r := recover(); r != nil {
				m.anomaly(fmt.Sprintf("mime: decoding failed: %v", r))
			}
		}()
		d := m.decode(raw)
		if d != nil {
			m.headers(d.header)
			m.body(d.root)
			if d.root != nil {
				errs = append(errs, m.attachments(env, d.root)...)
				m.midLineDelimiters(raw, d.root)
			}
			m.mimeErrors(d.errs)
		}
	}()
	return m, errors.Join(errs...)
}

// decode decodes the message (with the plain decoder when it can, with
// enmime otherwise), or its header alone when the MIME structure is too
// large to decode safely. It never panics.
func (m *Message) decode(raw []byte) (d *decoded) {
	defer func() {
		if r := recover(); r != nil {
			m.anomaly(fmt.Sprintf("mime: decoder failed: %v", r))
			d = m.headerOnly(raw, false)
		}
	}()
	if parts, nest := mimeComplexity(raw); parts > maxParts || nest > maxNesting {
		m.anomaly(fmt.Sprintf("mime: %d part delimiters and %d multipart boundaries exceed the decoding limits (%d, %d): body not decoded",
			parts, nest, maxParts, maxNesting))
		return m.headerOnly(raw, false)
	}
	if !startsWithHeader(raw) {
		// A body without a header (or a capture that began inside the
		// body): decode it as a body under an empty header.
		m.anomaly("message without a header")
		raw = append([]byte("\r\n"), raw...)
	}
	if !referenceDecoding {
		if d, ok := plainDecode(raw); ok {
			return d
		}
	}
	p := enmime.NewParser(
		enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.SetReadPartErrorPolicy(enmime.AllowCorruptTextPartErrorPolicy),
		enmime.MaxStoredPartErrors(maxAnomalies),
		// Text parts are presented to enmime under a private media type
		// (see keepTextBytes): it then undoes the transfer encoding but
		// converts no charset, so an attachment keeps the bytes of the
		// original file — a latin-1 text/plain attachment hashes like
		// the file that was attached — and enmime's statistical charset
		// detector, the most expensive step of a restore, never runs.
		// The body shown to analysts is converted by bodyText.
		enmime.SetCustomParseMediaType(mediaTypeParser(keepTextBytes)),
		enmime.DisableTextConversion(true),
	)
	e, err := readEnvelope(p, raw)
	if err != nil {
		m.anomaly(fmt.Sprintf("mime: %v", err))
		return m.headerOnly(raw, false)
	}
	return fromEnvelope(e)
}

// referenceDecoding turns off the shortcuts this package takes around
// enmime's own way (remembered media-type parses, a reused input reader,
// the common Date layout tried first), so that tests can check that they
// change no result.
var referenceDecoding = false

// mediaTypeParser is parse, remembering its results for one message
// (see mediaTypes).
func mediaTypeParser(parse func(string) (string, map[string]string, []string, error)) func(string) (string, map[string]string, []string, error) {
	if referenceDecoding {
		return parse
	}
	return newMediaTypes(parse).Parse
}

// envelopeInput is the reader enmime reads a message through.
type envelopeInput struct {
	raw bytes.Reader
	buf *bufio.Reader
}

// envelopeInputs are reused: enmime wraps its input in a bufio.Reader of
// the default size unless it already is one, and copies out of it all it
// keeps, so one reused reader saves a 4 KB buffer (allocated and zeroed)
// per message: the largest allocation of a header decode.
var envelopeInputs = sync.Pool{New: func() any {
	in := &envelopeInput{}
	in.buf = bufio.NewReader(&in.raw)
	return in
}}

// readEnvelope runs p over b.
func readEnvelope(p *enmime.Parser, b []byte) (*enmime.Envelope, error) {
	if referenceDecoding {
		return p.ReadEnvelope(bytes.NewReader(b))
	}
	in := envelopeInputs.Get().(*envelopeInput)
	in.raw.Reset(b)
	in.buf.Reset(&in.raw)
	// After a panic (recovered by the caller) the reader is not put
	// back: it is simply dropped.
	e, err := p.ReadEnvelope(in.buf)
	in.raw.Reset(nil)
	in.buf.Reset(&in.raw)
	envelopeInputs.Put(in)
	return e, err
}

// headerOnly decodes only the header block of raw. With plain, the plain
// decoder may read it: only where enmime's findings are not wanted (it
// reports on the empty body too).
func (m *Message) headerOnly(raw []byte, plain bool) (d *decoded) {
	defer func() {
		if r := recover(); r != nil {
			m.anomaly(fmt.Sprintf("mime: header decoder failed: %v", r))
			d = nil
		}
	}()
	h := raw
	if i := bytes.Index(h, []byte("\r\n\r\n")); i >= 0 {
		h = h[:i+4]
	} else if i := bytes.Index(h, []byte("\n\n")); i >= 0 {
		h = h[:i+2]
	}
	if plain && !referenceDecoding {
		if d, ok := plainHeaderOnly(h); ok {
			return d
		}
	}
	// No body is decoded: charset detection would only cost time (it is
	// most of a header decode otherwise).
	p := enmime.NewParser(enmime.DisableTextConversion(true), enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.SetCustomParseMediaType(mediaTypeParser(parseMediaType)), enmime.DisableCharacterDetection(true))
	// A text/plain content type keeps enmime from looking for parts.
	e, err := readEnvelope(p, h)
	if err != nil {
		m.anomaly(fmt.Sprintf("mime: header: %v", err))
		return nil
	}
	return &decoded{header: e, errs: e.Errors}
}

// startsWithHeader reports whether raw begins with a header field
// ("Name: value", RFC 5322 2.2) or is empty.
func startsWithHeader(raw []byte) bool {
	if len(raw) == 0 || raw[0] == '\r' || raw[0] == '\n' {
		return true // empty, or an empty header
	}
	for i, c := range raw {
		switch {
		case c == ':':
			return i > 0
		case c <= ' ' || c >= 0x7f:
			return false
		}
	}
	return false
}

// mimeComplexity counts lines that may be part delimiters ("--" at the
// start of a line) and boundary parameters, stopping past the limits.
func mimeComplexity(raw []byte) (parts, nest int) {
	// Searched as "--" then checked for the line start before it: a
	// search for "\n--" stops at every line, "-" is rare in most mail
	// (and absent from base64).
	for at := 0; parts <= maxParts; {
		i := bytes.Index(raw[at:], []byte("--"))
		if i < 0 {
			break
		}
		at += i
		if at == 0 || raw[at-1] == '\n' {
			parts++
		}
		at += 2
	}
	// "oundary", "OUNDARY" and "oUNDARY": the upper-case two in one
	// search (an upper-case U is rare, a lower-case o is not).
	for _, pat := range []string{"oundary", "UNDARY"} {
		for off := 0; nest <= maxNesting; {
			j := bytes.Index(raw[off:], []byte(pat))
			if j < 0 {
				break
			}
			at := off + j
			if pat == "oundary" || at > 0 && (raw[at-1] == 'o' || raw[at-1] == 'O') {
				nest++
			}
			off = at + len(pat)
		}
	}
	return parts, nest
}

func (m *Message) headers(e headerSource) {
	m.Subject = clip(e.GetHeader("Subject"))
	m.Date = clip(strings.TrimSpace(e.GetHeader("Date")))
	if m.Date != "" {
		if t, err := parseDate(m.Date); err == nil {
			m.Time = t.UTC()
		} else {
			m.anomaly("unparsable Date header")
		}
	}
	m.MessageID = clip(trimAngles(e.GetHeader("Message-Id")))
	m.InReplyTo = clip(trimAngles(e.GetHeader("In-Reply-To")))
	m.UserAgent = clip(e.GetHeader("User-Agent"))
	if m.UserAgent == "" {
		m.UserAgent = clip(e.GetHeader("X-Mailer"))
	}
	m.From = m.addressList(e, "From")
	m.Sender = m.addressList(e, "Sender")
	m.To = m.addressList(e, "To")
	m.Cc = m.addressList(e, "Cc")
	m.Bcc = m.addressList(e, "Bcc")
	m.ReplyTo = m.addressList(e, "Reply-To")
}

// commonDate is the Date layout nearly every mailer writes (RFC 5322
// 3.3 with the day of the week and seconds, a numeric zone).
const commonDate = "Mon, 2 Jan 2006 15:04:05 -0700"

// parseDate is netmail.ParseDate with commonDate tried first: ParseDate
// tries its layouts in turn, and the twelve without a day of the week,
// which fail before commonDate matches, cost an error each. Whatever
// commonDate accepts, ParseDate hands on unchanged (no comment, CR or
// leading space; its only sign is the zone's) to those same layouts,
// which reject it up to commonDate itself: the result is the same.
//
// commonDate followed by a zone name in parentheses ("-0800 (PST)") is
// as common: ParseDate cuts the date after its numeric zone (the first
// sign in it) and skips the comment, then parses what it cut, the same
// date as before.
func parseDate(s string) (time.Time, error) {
	if !referenceDecoding {
		if t, err := time.Parse(commonDate, s); err == nil {
			return t, nil
		}
		if i := strings.LastIndex(s, " ("); i > 0 && zoneComment(s[i+2:]) {
			if t, err := time.Parse(commonDate, s[:i]); err == nil {
				return t, nil
			}
		}
	}
	return netmail.ParseDate(s)
}

// zoneComment reports a zone name and the closing parenthesis: "PST)".
func zoneComment(s string) bool {
	if len(s) < 2 || len(s) > 17 || s[len(s)-1] != ')' {
		return false
	}
	for i := range len(s) - 1 {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// addressList decodes an address header; when the header does not parse,
// it falls back to picking the address-shaped words out of it.
func (m *Message) addressList(e headerSource, key string) []Address {
	if h, ok := e.(plainHeader); ok {
		// The plain decoder's header and a plain list: the addresses
		// straight from its value (what AddressList gives, without a
		// netmail.Address each).
		f, ok := h.get(key)
		if !ok {
			return nil
		}
		if out, ok := plainAddresses(f.value); ok {
			return out
		}
	}
	values := e.GetHeaderValues(key)
	if len(values) == 0 {
		return nil
	}
	var out []Address
	list, err := e.AddressList(key)
	if err == nil {
		for _, a := range list {
			if a == nil || len(out) >= maxAddresses {
				continue
			}
			out = append(out, Address{Name: clip(a.Name), Address: clip(a.Address)})
		}
		return out
	}
	if !errors.Is(err, netmail.ErrHeaderNotPresent) {
		m.anomaly(fmt.Sprintf("unparsable %s header", key))
	}
	for _, v := range values {
		for _, w := range strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')'
		}) {
			if strings.IndexByte(w, '@') > 0 && len(out) < maxAddresses {
				out = append(out, Address{Address: clip(w)})
			}
		}
	}
	return out
}

func (m *Message) body(root *enmime.Part) {
	seen := map[string]bool{}
	add := func(u string) {
		u = strings.TrimRight(u, ".,;:!?")
		if len(u) > maxHeaderValue || seen[u] || len(m.URLs) >= maxURLs {
			return
		}
		seen[u] = true
		m.URLs = append(m.URLs, clip(u))
	}
	text, html := bodyText(root)
	t := text
	if t == "" && html != "" {
		if conv, err := html2text.FromString(html); err == nil {
			t = conv
		} else {
			m.anomaly(fmt.Sprintf("mime: HTML body not convertible to text: %v", err))
		}
	}
	// Links come from the text shown (converted from HTML when there is
	// no text part) and from the HTML's attribute values.
	text = t
	if len(text) > urlScan {
		text = text[:urlScan]
	}
	if len(html) > urlScan {
		html = html[:urlScan]
	}
	// In HTML only attribute values count: HTML is full of namespace
	// URLs that nobody follows.
	links(text, false, 4*maxURLs, add)
	links(html, true, 4*maxURLs, add)
	if len(t) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut]
		m.TextTruncated = true
	}
	m.Text = t
}

// attachments saves every leaf part that has a file name or an attachment
// disposition, depth first (message order).
func (m *Message) attachments(env parser.Env, root *enmime.Part) []error {
	var errs []error
	n := 0
	root.DepthMatchAll(func(p *enmime.Part) bool {
		if p.FirstChild != nil {
			return false
		}
		name, disp := p.FileName, p.Disposition
		if name == "" && disp == "" {
			// enmime skips the disposition of a part without a
			// content type; read it here.
			if d, params, _, err := parseMediaType(p.Header.Get("Content-Disposition")); err == nil {
				disp, name = d, params["filename"]
			}
		}
		if name == "" && !strings.EqualFold(disp, "attachment") {
			return false
		}
		n++
		if n > maxAttachments {
			if n == maxAttachments+1 {
				m.anomaly(fmt.Sprintf("more than %d attachments: the rest not saved", maxAttachments))
			}
			return false
		}
		name = cleanName(enmime.DecodeRFC2047(name))
		a, err := env.SaveArtifact(event.KindAttachment, name, partType(p), p.Content)
		if err != nil {
			errs = append(errs, fmt.Errorf("mail: save attachment %q (part %s): %w", name, p.PartID, err))
			return false
		}
		a.Parent = m.EML.SHA256
		m.Attachments = append(m.Attachments, a)
		return false
	})
	return errs
}

// links calls f for the http(s) URLs in s, at most max of them; with
// attrOnly, only for URLs that are the value of an href, src or action
// attribute. A scan for "://" keeps it linear and fast.
func links(s string, attrOnly bool, max int, f func(string)) {
	for off, n := 0, 0; n < max; {
		i := strings.Index(s[off:], "://")
		if i < 0 {
			return
		}
		i += off
		off = i + 3
		start := -1
		switch {
		case i >= 5 && strings.EqualFold(s[i-5:i], "https"):
			start = i - 5
		case i >= 4 && strings.EqualFold(s[i-4:i], "http"):
			start = i - 4
		}
		if start < 0 || start > 0 && isWordByte(s[start-1]) {
			continue
		}
		if attrOnly && !afterAttr(s[:start]) {
			continue
		}
		end := off
		for end < len(s) && !urlStop(s[end]) {
			end++
		}
		if end == off {
			continue
		}
		f(s[start:end])
		n++
		off = end
	}
}

func urlStop(c byte) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte(`<>"'()[]{}`, c) >= 0
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// afterAttr reports whether s ends with an href, src or action attribute
// and its "=" (and an opening quote).
func afterAttr(s string) bool {
	if n := len(s); n > 0 && (s[n-1] == '"' || s[n-1] == '\'') {
		s = s[:n-1]
	}
	s = strings.TrimRight(s, " \t\r\n")
	if !strings.HasSuffix(s, "=") {
		return false
	}
	s = strings.TrimRight(s[:len(s)-1], " \t\r\n")
	for _, a := range []string{"href", "src", "action"} {
		if len(s) >= len(a) && strings.EqualFold(s[len(s)-len(a):], a) &&
			(len(s) == len(a) || !isWordByte(s[len(s)-len(a)-1])) {
			return true
		}
	}
	return false
}

// midLineDelimiters reports a multipart delimiter ("--" and a boundary)
// that appears inside a line. RFC 2046 only counts one at the start of a
// line, but decoders differ: enmime ends a part at one found in its first
// 4 KiB, and a sender can use that to keep text or an attachment out of
// the decoded view. The .eml keeps every byte; the analyst is told.
func (m *Message) midLineDelimiters(raw []byte, root *enmime.Part) {
	root.DepthMatchAll(func(p *enmime.Part) bool {
		if p.Boundary == "" {
			return false
		}
		delim := "--" + p.Boundary
		n := 0
		for rest, off := raw, 0; ; {
			i := bytes.Index(rest, []byte(delim))
			if i < 0 {
				break
			}
			if at := off + i; at > 0 && raw[at-1] != '\n' {
				n++
			}
			rest, off = rest[i+len(delim):], off+i+len(delim)
		}
		if n > 0 {
			times := "times"
			if n == 1 {
				times = "time"
			}
			m.anomaly(clip(fmt.Sprintf("mime: the delimiter %q appears inside a line (%d %s): decoders disagree on where its parts end, so the decoded text and attachments may be incomplete (the .eml is whole)", delim, n, times)))
		}
		return false
	})
}

// mimeErrors turns enmime's findings into anomalies, leaving out the
// notes that describe normal decoding.
func (m *Message) mimeErrors(errs []*enmime.Error) {
	for _, e := range errs {
		if e == nil {
			continue
		}
		switch e.Name {
		case enmime.ErrorPlainTextFromHTML, enmime.ErrorMissingRecipient:
			continue
		}
		s := "mime: " + e.Name
		if e.Detail != "" {
			s += ": " + e.Detail
		}
		m.anomaly(clip(s))
	}
}

func (m *Message) anomaly(s string) {
	for _, a := range m.Anomalies {
		if a == s {
			return
		}
	}
	if len(m.Anomalies) < maxAnomalies {
		m.Anomalies = append(m.Anomalies, s)
	}
}

func trimAngles(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return strings.TrimSpace(s)
}

// clip bounds a decoded header value and makes it valid UTF-8 without
// control characters (other than tab), so that it is safe to index and
// display.
func clip(s string) string {
	if len(s) > maxHeaderValue {
		s = s[:maxHeaderValue]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r < 0x20 && r != '\t' || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanName makes a file name from the traffic safe to store and show:
// valid UTF-8, no control characters, bounded. Path separators are kept
// (the name is evidence); the store never uses it as a path.
func cleanName(s string) string {
	s = clip(strings.TrimSpace(s))
	if len(s) > 255 {
		s = s[:255]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

// DecodeHeader decodes only the header block of raw, storing nothing:
// for partial downloads (POP3 TOP, an IMAP BODY[HEADER] or a byte range)
// whose body, if any, is cut and would only give false MIME findings.
// The Message has no EML, no text and no attachments; HeaderOnly is set.
func DecodeHeader(raw []byte) *Message {
	m := &Message{Size: len(raw), HeaderOnly: true}
	func() {
		defer func() {
			if r := recover(); r != nil {
				m.anomaly(fmt.Sprintf("mime: header decoder failed: %v", r))
			}
		}()
		if !startsWithHeader(raw) {
			m.anomaly("data does not begin with a header")
			return
		}
		if d := m.headerOnly(raw, true); d != nil {
			m.headers(d.header)
		}
	}()
	return m
}

// ExcerptRunes is the length of the body excerpt PutSummary writes.
const ExcerptRunes = 200

// PutSummary copies what an analyst reads in a result list into an event
// summary: the decoded address headers (from, to, cc, bcc, reply_to as
// "Name <addr>"), message_id, in_reply_to, date, user_agent and, for a
// decoded body, the number of attachments, a body_excerpt and the urls.
// The mail parsers (SMTP, POP3, IMAP) share these names.
func (m *Message) PutSummary(s *event.Fields) {
	if m == nil || s == nil {
		return
	}
	list := func(key string, l []Address) {
		if len(l) == 0 {
			return
		}
		out := make([]string, len(l))
		for i, a := range l {
			out[i] = a.String()
		}
		s.Set(key, out)
	}
	list("from", m.From)
	list("to", m.To)
	list("cc", m.Cc)
	list("bcc", m.Bcc)
	list("reply_to", m.ReplyTo)
	for _, kv := range [...]struct{ k, v string }{
		{"message_id", m.MessageID}, {"in_reply_to", m.InReplyTo}, {"date", m.Date}, {"user_agent", m.UserAgent},
	} {
		if kv.v != "" {
			s.Set(kv.k, kv.v)
		}
	}
	if m.HeaderOnly {
		return
	}
	s.Set("attachments", len(m.Attachments))
	if m.Text != "" {
		s.Set("body_excerpt", Excerpt(m.Text, ExcerptRunes))
	}
	if len(m.URLs) > 0 {
		s.Set("urls", append([]string(nil), m.URLs...))
	}
}

// PutEvent fills an event from a restored message: its subject, the
// summary fields of PutSummary and its artifacts (the eml when it was
// saved, with its sha256 in the summary, then the attachments). The
// caller adds the message's Anomalies to its own bounded list.
func (m *Message) PutEvent(ev *event.Event) {
	if m == nil || ev == nil {
		return
	}
	ev.Subject = m.Subject
	m.PutSummary(&ev.Summary)
	if m.EML.SHA256 != "" {
		ev.Artifacts = append(ev.Artifacts, m.EML)
		ev.Summary.Set("sha256", m.EML.SHA256)
	}
	ev.Artifacts = append(ev.Artifacts, m.Attachments...)
}

// Excerpt is the start of a text body, whitespace collapsed and control
// characters blanked, at most runes characters (then "…").
func Excerpt(s string, runes int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if n >= runes {
			b.WriteString("…")
			break
		}
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
