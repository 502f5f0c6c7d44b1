package mail

import (
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/text/encoding/charmap"
)

// rawTextPrefix is the private media type text parts are given while
// enmime decodes a message (text/plain → application/x-sdnli-raw-text-plain).
const rawTextPrefix = "application/x-sdnli-raw-text-"

// keepTextBytes is parseMediaType with text/* renamed to a private type,
// so that enmime treats text parts as opaque bytes: no charset
// conversion, no charset detection.
func keepTextBytes(ctype string) (string, map[string]string, []string, error) {
	mt, params, invalid, err := parseMediaType(ctype)
	if strings.HasPrefix(mt, "text/") {
		mt = rawTextPrefix + mt[len("text/"):]
	}
	return mt, params, invalid, err
}

// partType is a part's real media type (text parts renamed back).
func partType(p *enmime.Part) string {
	if rest, ok := strings.CutPrefix(p.ContentType, rawTextPrefix); ok {
		return "text/" + rest
	}
	return p.ContentType
}

// bodyText returns the message's text body (every inline text/plain part,
// joined as enmime joins them) and its HTML body (the first inline
// text/html part), both converted to UTF-8 from their declared charsets.
func bodyText(root *enmime.Part) (text, html string) {
	if root == nil {
		return "", ""
	}
	if root.FirstChild == nil {
		// A single-part message: its body is the root's content.
		switch ct := partType(root); {
		case ct == "text/html":
			return "", textToUTF8(root.Content, root.Charset)
		case ct == "" || strings.HasPrefix(ct, "text/"):
			return textToUTF8(root.Content, root.Charset), ""
		}
		return "", ""
	}
	var parts []string
	htmlDone := false
	root.DepthMatchAll(func(p *enmime.Part) bool {
		if p.FirstChild != nil || strings.EqualFold(p.Disposition, "attachment") {
			return false
		}
		switch partType(p) {
		case "text/plain":
			parts = append(parts, textToUTF8(p.Content, p.Charset))
		case "text/html":
			if !htmlDone {
				html, htmlDone = textToUTF8(p.Content, p.Charset), true
			}
		}
		return false
	})
	return strings.Join(parts, "\n--\n"), html
}

// textToUTF8 converts a body part from its declared charset. Without a
// usable charset, valid UTF-8 (and so ASCII) is kept as it is and
// anything else is read as windows-1252, the usual undeclared 8-bit
// charset of mail. It never fails: the original bytes stay in the
// restored .eml.
func textToUTF8(b []byte, charset string) string {
	if s, ok := toUTF8(b, charset); ok {
		return s
	}
	if out, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
		return string(out)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
