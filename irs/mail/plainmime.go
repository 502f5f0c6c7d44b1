package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/sdnli/sdnli/internal/ascii"
)

// The plain decoder: most intercepted mail is plainly well formed, and
// for such a message enmime's result can be had for a fraction of its
// cost (it reads a message one byte at a time through layered readers).
// plainDecode takes a message apart only where nothing is left to
// judgement: a clean header, delimiter lines that are exactly that,
// transfer encodings whose every byte is valid, encoded words in the
// common charsets (wordCharsets). At the first thing that is not so (a
// header line enmime would repair, a delimiter inside a line, a stray
// byte in base64, a rare charset) it gives up and the message goes to
// enmime as before. What it returns is what enmime returns for the same
// message, field for field; the differential tests and the fuzz targets
// (FuzzRestore, FuzzPlainDecoder) hold it to that (referenceDecoding
// turns it off).

// Bounds past which a message is left to enmime.
const (
	// plainMaxBoundary: enmime peeks a boundary's length ahead through a
	// 4 KiB buffer; a boundary is at most 70 characters (RFC 2046).
	plainMaxBoundary = 200
	// plainMaxQPLine: enmime's quoted-printable cleaner breaks lines of
	// 1,024 bytes and more.
	plainMaxQPLine = 1000
	// plainMaxParts bounds the parts of one multipart.
	plainMaxParts = 256
)

// headerSource is what Message.headers reads: enmime's envelope or the
// plain decoder's header.
type headerSource interface {
	GetHeader(name string) string
	GetHeaderValues(name string) []string
	AddressList(name string) ([]*netmail.Address, error)
}

// decoded is a decoded message: its header, its MIME tree (nil when only
// the header was decoded) and enmime's findings.
type decoded struct {
	header headerSource
	root   *enmime.Part
	errs   []*enmime.Error
}

func fromEnvelope(e *enmime.Envelope) *decoded {
	return &decoded{header: e, root: e.Root, errs: e.Errors}
}

// headerField is one field of a header block, its value unfolded and
// trimmed as enmime leaves it (not RFC 2047-decoded).
type headerField struct {
	name, value string
	// decoded is value RFC 2047-decoded, for the fields Message.headers
	// reads (see summaryField).
	decoded string
}

// plainHeader is a message header as the plain decoder read it.
type plainHeader []headerField

// summaryField reports whether Message.headers reads the field name:
// those values must decode here, or the message goes to enmime.
func summaryField(name string) bool {
	for _, k := range [...]string{"Subject", "Date", "Message-Id", "In-Reply-To", "User-Agent", "X-Mailer",
		"From", "Sender", "To", "Cc", "Bcc", "Reply-To"} {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// readFields are the fields anything reads from a plainHeader: the
// summary fields and the MIME part fields, by length (a header is
// mostly Received, DKIM-Signature and the like, which nothing reads).
var readFields = func() (t [26][]string) {
	for _, k := range [...]string{"Subject", "Date", "Message-Id", "In-Reply-To", "User-Agent", "X-Mailer",
		"From", "Sender", "To", "Cc", "Bcc", "Reply-To",
		"Content-Type", "Content-Disposition", "Content-Transfer-Encoding"} {
		t[len(k)] = append(t[len(k)], k)
	}
	return t
}()

// readField reports whether name is one of readFields (without case).
func readField(name []byte) bool {
	if len(name) >= len(readFields) {
		return false
	}
	for _, k := range readFields[len(name)] {
		if ascii.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// get is the first raw value of the field name (field names compare
// without case, as enmime's canonical keys do for names of letters,
// digits and hyphens — the only names asked for).
func (h plainHeader) get(name string) (headerField, bool) {
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return headerField{}, false
}

// GetHeader is enmime.Envelope.GetHeader.
func (h plainHeader) GetHeader(name string) string {
	f, _ := h.get(name)
	return f.decoded
}

// GetHeaderValues is enmime.Envelope.GetHeaderValues.
func (h plainHeader) GetHeaderValues(name string) []string {
	out := []string{}
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			out = append(out, f.decoded)
		}
	}
	return out
}

// AddressList is enmime.Envelope.AddressList for the address fields
// Message.headers reads.
func (h plainHeader) AddressList(name string) ([]*netmail.Address, error) {
	f, _ := h.get(name)
	if list, ok := plainAddressList(f.value); ok {
		return list, nil
	}
	return enmime.ParseAddressList(f.value)
}

// errOtherCharset stops a plain decode at an encoded word in a charset
// the plain decoder does not know.
var errOtherCharset = errors.New("charset left to enmime")

// wordCharsets are the charsets besides UTF-8, ISO-8859-1 and US-ASCII
// (which Go's mime package decodes by itself) that the plain decoder
// decodes in encoded words: the common ones of mail in Chinese,
// Japanese, Korean, Russian and Central European languages, under the
// labels enmime maps to the same decoders (WHATWG encoding labels).
var wordCharsets = map[string]encoding.Encoding{
	"gb2312": simplifiedchinese.GBK, "gbk": simplifiedchinese.GBK, "x-gbk": simplifiedchinese.GBK,
	"cp936": simplifiedchinese.GBK, "big5": traditionalchinese.Big5,
	"shift_jis": japanese.ShiftJIS, "sjis": japanese.ShiftJIS, "cp932": japanese.ShiftJIS,
	"iso-2022-jp": japanese.ISO2022JP, "euc-kr": korean.EUCKR, "ks_c_5601-1987": korean.EUCKR,
	"koi8-r": charmap.KOI8R, "windows-1251": charmap.Windows1251, "cp1251": charmap.Windows1251,
	"iso-8859-2": charmap.ISO8859_2, "windows-1252": charmap.Windows1252, "cp1252": charmap.Windows1252,
}

// plainWordDecoder decodes encoded words as enmime's does for the
// charsets Go decodes by itself and those of wordCharsets (with the same
// decoders, so to the same text); any other charset is an error.
var plainWordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
	e, ok := wordCharsets[charset]
	if !ok {
		return nil, errOtherCharset
	}
	// A word is converted whole: the decoder copies what this returns
	// with io.Copy, which allocates 32 KiB per word unless the reader is
	// an io.WriterTo, as a *bytes.Reader is.
	raw, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	out, err := e.NewDecoder().Bytes(raw)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(out), nil
}}

// plainWord decodes the encoded words of a header value as enmime does,
// or reports false for a charset left to enmime.
func plainWord(s string) (string, bool) {
	if !strings.Contains(s, "=?") {
		return s, true
	}
	out, err := plainWordDecoder.DecodeHeader(s)
	return out, err == nil
}

// isSpaceTab reports a space or a tab.
func isSpaceTab(c byte) bool { return c == ' ' || c == '\t' }

func trimSpaceTab(b []byte) []byte {
	for len(b) > 0 && isSpaceTab(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpaceTab(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// plainHeaderBlock reads the header block at the start of b and returns
// it with the body after its blank line (none if the data ends first).
// ok is false for anything enmime would repair or report: a continuation
// line first, a line without a field name and colon, a name with a space or a
// control or 8-bit byte, a carriage return that does not end a line, or
// a summary field with an encoded word in another charset.
//
// Every line is checked, but only the fields something reads
// (readFields) are kept: their names and values, folded lines joined, go
// into one buffer and then one string, of which they are substrings.
func plainHeaderBlock(b []byte) (h plainHeader, body []byte, ok bool) {
	// A kept field is first read as offsets in kept.
	type span struct{ name0, name1, val0, val1 int }
	var (
		spanBuf [16]span
		spans   = spanBuf[:0]
		keptBuf [1024]byte
		kept    = keptBuf[:0]
		inKept  bool // the field read last is kept: a continuation extends it
		seen    bool // a field was read: a continuation may follow
	)
	for len(b) > 0 {
		// The block ends at a blank line, or where the data ends (a part
		// with an empty body, a header fetched alone).
		line := b
		if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
			line, b = b[:nl], b[nl+1:]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		} else {
			b = b[len(b):] // a last line keeps a carriage return
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			return nil, nil, false
		}
		if len(line) == 0 {
			break
		}
		if isSpaceTab(line[0]) {
			// A continuation: enmime joins it with one space, trimmed.
			if !seen {
				return nil, nil, false
			}
			if inKept {
				kept = append(kept, ' ')
				kept = append(kept, trimSpaceTab(line)...)
				spans[len(spans)-1].val1 = len(kept)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, nil, false
		}
		for _, c := range line[:colon] {
			if c <= ' ' || c >= 0x7f {
				return nil, nil, false
			}
		}
		seen = true
		name := line[:colon]
		if inKept = readField(name); !inKept {
			continue
		}
		sp := span{name0: len(kept)}
		kept = append(kept, name...)
		sp.name1 = len(kept)
		sp.val0 = len(kept)
		kept = append(kept, trimSpaceTab(line[colon+1:])...)
		sp.val1 = len(kept)
		spans = append(spans, sp)
	}
	str := string(kept)
	h = make(plainHeader, len(spans))
	for i, sp := range spans {
		f := &h[i]
		f.name = str[sp.name0:sp.name1]
		// A folded value may begin or end with the space that joined
		// an empty piece.
		f.value = strings.Trim(str[sp.val0:sp.val1], " \t")
		f.decoded = f.value
		if summaryField(f.name) {
			if f.decoded, ok = plainWord(f.value); !ok {
				return nil, nil, false
			}
		}
	}
	return h, b, true
}

// plainDecode decodes raw as enmime would, configured as decode
// configures it (text parts kept as bytes under keepTextBytes' private
// type), or reports ok false and leaves the message to enmime.
func plainDecode(raw []byte) (d *decoded, ok bool) {
	h, body, ok := plainHeaderBlock(raw)
	if !ok {
		return nil, false
	}
	root := &enmime.Part{PartID: "0"}
	if !plainPartHeader(root, h, `text/plain; charset="us-ascii"`) {
		return nil, false
	}
	// enmime looks for parts by the header's own Content-Type, not the
	// default (a text type), and needs a boundary.
	if root.Boundary != "" && strings.HasPrefix(root.ContentType, "multipart/") {
		if !plainMultipart(root, body, true) {
			return nil, false
		}
	} else if !plainContent(root, h, body) {
		return nil, false
	}
	return &decoded{header: h, root: root}, true
}

// plainHeaderOnly is headerOnly's decoding for a clean header block.
func plainHeaderOnly(raw []byte) (*decoded, bool) {
	h, body, ok := plainHeaderBlock(raw)
	if !ok || len(body) > 0 {
		// headerOnly's cut can keep more than the header (a CRLF blank
		// line found after an LF one): enmime decodes that as a body.
		return nil, false
	}
	if ctype, ok := h.get("Content-Type"); ok && ctype.value != "" {
		// enmime fails on a Content-Type it cannot parse, and reports
		// invalid parameters.
		if _, _, invalid, err := parseMediaType(ctype.value); err != nil || len(invalid) > 0 {
			return nil, false
		}
	}
	return &decoded{header: h}, true
}

// plainPartHeader sets up p from its header as enmime's setupHeaders
// does: media type, boundary, disposition, file name, charset. A part
// without a Content-Type (and no default), a media type that does not
// parse or has invalid parameters, and an encoded file name in another
// charset end the plain decode.
func plainPartHeader(p *enmime.Part, h plainHeader, defaultType string) bool {
	ctype, _ := h.get("Content-Type")
	v := ctype.value
	if v == "" {
		if defaultType == "" {
			return false
		}
		v = defaultType
	}
	mt, params, invalid, err := keepTextBytes(v)
	if err != nil || len(invalid) > 0 || mt == "" {
		return false // enmime reports each
	}
	p.ContentType = mt
	p.Boundary = params["boundary"]
	if len(p.Boundary) > plainMaxBoundary {
		return false
	}
	cd, ok := h.get("Content-Disposition")
	if ok {
		// Only what Message.attachments reads of a part's header.
		p.Header = textproto.MIMEHeader{"Content-Disposition": {cd.value}}
	}
	if disp, dparams, _, err := keepTextBytes(cd.value); err == nil {
		p.Disposition = disp
		if p.FileName, ok = plainWord(dparams["filename"]); !ok {
			return false
		}
	}
	for _, key := range [...]string{"name", "file"} {
		if p.FileName == "" && params[key] != "" {
			if p.FileName, ok = plainWord(params[key]); !ok {
				return false
			}
		}
	}
	p.Charset = params["charset"]
	return true
}

// plainContent sets p.Content to body with its transfer encoding undone.
// Only the encodings enmime knows, and only when every byte is valid:
// base64 of its alphabet and white space, quoted-printable of printable
// ASCII with well-formed escapes and short lines (enmime's cleaners
// would otherwise rewrite the input first).
func plainContent(p *enmime.Part, h plainHeader, body []byte) bool {
	cte, _ := h.get("Content-Transfer-Encoding")
	switch strings.ToLower(cte.value) {
	case "", "7bit", "8bit", "binary":
		p.Content = append(make([]byte, 0, len(body)), body...)
		return true
	case "base64":
		return plainBase64(p, body)
	case "quoted-printable":
		return plainQuotedPrintable(p, body)
	}
	return false
}

func plainBase64(p *enmime.Part, body []byte) bool {
	clean := make([]byte, 0, len(body))
	for len(body) > 0 {
		// Lines are plain base64 between line breaks: copy them whole.
		i := 0
		for i < len(body) && isBase64Char(body[i]) {
			i++
		}
		clean = append(clean, body[:i]...)
		body = body[i:]
		if len(body) == 0 {
			break
		}
		switch body[0] {
		case '\r', '\n', '\t', ' ', '=': // enmime drops these
		default:
			return false
		}
		body = body[1:]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		return false
	}
	p.Content = out[:n]
	return true
}

// base64Chars marks the base64 alphabet.
var base64Chars = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

func isBase64Char(c byte) bool { return base64Chars[c] }

func plainQuotedPrintable(p *enmime.Part, body []byte) bool {
	line := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\r' || c == '\n':
			line = 0
			continue
		case c == '=':
			switch {
			case i+1 < len(body) && body[i+1] == '\n':
			case i+2 < len(body) && (body[i+1] == '\r' && body[i+2] == '\n' || isHex(body[i+1]) && isHex(body[i+2])):
			default:
				return false
			}
		case c != '\t' && (c < ' ' || c > '~'):
			return false
		}
		if line++; line >= plainMaxQPLine {
			return false
		}
	}
	p.Content = decodeQuotedPrintable(body)
	return true
}

// decodeQuotedPrintable decodes body, checked by plainQuotedPrintable, as
// Go's quotedprintable.Reader does (line by line: white space before a
// line break dropped, "=" and a line break a soft break, a line break
// kept as CRLF or LF as written).
func decodeQuotedPrintable(body []byte) []byte {
	out := make([]byte, 0, len(body))
	for len(body) > 0 {
		line := body
		if nl := bytes.IndexByte(body, '\n'); nl >= 0 {
			line = body[:nl+1]
		}
		body = body[len(line):]
		text := bytes.TrimRight(line, " \t\r\n")
		brk := ""
		switch {
		case len(text) > 0 && text[len(text)-1] == '=':
			text = text[:len(text)-1] // a soft line break
		case bytes.HasSuffix(line, []byte("\r\n")):
			brk = "\r\n"
		case bytes.HasSuffix(line, []byte("\n")):
			brk = "\n"
		}
		for len(text) > 0 {
			i := bytes.IndexByte(text, '=')
			if i < 0 {
				out = append(out, text...)
				break
			}
			out = append(out, text[:i]...)
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			text = text[i+3:]
		}
		out = append(out, brk...)
	}
	return out
}

// plainMultipart decodes the parts of parent's body (enmime's parseParts).
func plainMultipart(parent *enmime.Part, body []byte, top bool) bool {
	parts, ok := plainSplit(body, parent.Boundary)
	if !ok {
		return false
	}
	var last *enmime.Part
	for i, raw := range parts {
		h, content, ok := plainHeaderBlock(raw)
		if !ok {
			return false
		}
		p := &enmime.Part{Parent: parent, PartID: strconv.Itoa(i + 1)}
		if !top {
			p.PartID = parent.PartID + "." + p.PartID
		}
		if !plainPartHeader(p, h, "") {
			return false
		}
		if last == nil {
			parent.FirstChild = p
		} else {
			last.NextSibling = p
		}
		last = p
		// enmime reads any part with a boundary parameter as a
		// multipart, whatever its media type.
		if p.Boundary != "" {
			if !plainMultipart(p, content, false) {
				return false
			}
		} else if !plainContent(p, h, content) {
			return false
		}
	}
	if !top {
		parent.PartID += ".0"
	}
	return true
}

// plainSplit cuts a multipart body into its parts (each a header and a
// body, without the line break before the next delimiter). ok is false
// unless every "--boundary" up to the final delimiter starts a line and
// is a whole delimiter line ("--boundary" and its line break, or
// "--boundary--"), there are between one and plainMaxParts parts and the final
// delimiter is there. Where enmime would end or split a part elsewhere
// (a delimiter inside a line or followed by more on its line, a bare
// carriage return before one), the message is left to it.
func plainSplit(body []byte, boundary string) (parts [][]byte, ok bool) {
	delim := "--" + boundary
	start := -1 // where the current part began; -1 in the preamble
	for at := 0; ; {
		i := bytes.Index(body[at:], []byte(delim))
		if i < 0 {
			return nil, false // no final delimiter
		}
		i += at
		if i > 0 && body[i-1] != '\n' || i >= 3 && body[i-3] == '\r' && body[i-2] != '\n' {
			return nil, false
		}
		rest := body[i+len(delim):]
		final := bytes.HasPrefix(rest, []byte("--"))
		if final {
			rest = rest[2:]
		}
		eol := 0
		switch {
		case final:
			// enmime, like most readers, ends the parts at "--boundary--"
			// whatever follows it on its line.
		case bytes.HasPrefix(rest, []byte("\r\n")):
			eol = 2
		case bytes.HasPrefix(rest, []byte("\n")):
			eol = 1
		default:
			return nil, false
		}
		if start >= 0 {
			end := i - 1 // the line break before the delimiter is not content
			if end > start && body[end-1] == '\r' {
				end--
			}
			if end <= start || len(parts) == plainMaxParts {
				return nil, false
			}
			parts = append(parts, body[start:end])
		}
		if final {
			return parts, len(parts) > 0
		}
		at = i + len(delim) + eol
		start = at
	}
}
