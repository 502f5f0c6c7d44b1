package mail

import (
	"mime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2/mediatype"
	"golang.org/x/text/encoding/htmlindex"
)

// maxSections caps the RFC 2231 continuation sections joined for one
// parameter.
const maxSections = 100

// parseMediaType is enmime's tolerant media-type parser, plus RFC 2231
// extended parameters (filename*=charset'language'percent-encoded, and
// continuations filename*0*, filename*1...)
// in any charset: Go's mime package, under enmime, decodes only UTF-8 and
// US-ASCII ones and mangles or drops the rest.
func parseMediaType(ctype string) (string, map[string]string, []string, error) {
	if !referenceDecoding && plainMediaType(ctype) {
		// Nothing for enmime's repairs to change: Go's parser alone.
		mt, params, err := mime.ParseMediaType(ctype)
		if err == nil {
			return mt, params, nil, nil
		}
	}
	mt, params, invalid, err := mediatype.Parse(ctype)
	if err != nil || !strings.Contains(ctype, "*") {
		return mt, params, invalid, err
	}
	for name, v := range extendedParams(ctype) {
		old, ok := params[name]
		if !ok || old == "" || !utf8.ValidString(old) || strings.ContainsRune(old, utf8.RuneError) {
			if params == nil {
				params = map[string]string{}
			}
			params[name] = v
		}
	}
	return mt, params, invalid, err
}

type section struct {
	val string
	enc bool
}

// extendedParams decodes the RFC 2231 parameters of a header value into
// UTF-8, keyed by lower-case parameter name. Parameters it cannot decode
// are left out.
func extendedParams(s string) map[string]string {
	groups := map[string]map[int]section{}
	for i, p := range splitUnquoted(s, ';') {
		if i == 0 {
			continue // the media type itself
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = unquote(strings.TrimSpace(v))
		star := strings.IndexByte(k, '*')
		if star <= 0 {
			continue
		}
		name, rest := k[:star], k[star+1:]
		sec := section{val: v}
		n := 0
		switch {
		case rest == "":
			sec.enc = true
		case strings.HasSuffix(rest, "*"):
			sec.enc = true
			rest = rest[:len(rest)-1]
			fallthrough
		default:
			var err error
			if n, err = strconv.Atoi(rest); err != nil || n < 0 || n >= maxSections {
				continue
			}
		}
		if groups[name] == nil {
			groups[name] = map[int]section{}
		}
		groups[name][n] = sec
	}
	out := map[string]string{}
	for name, secs := range groups {
		keys := make([]int, 0, len(secs))
		for k := range secs {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		var raw []byte
		charset := ""
		for i, k := range keys {
			if k != i {
				break // a missing section ends the value
			}
			sec := secs[k]
			v := sec.val
			if sec.enc {
				if i == 0 {
					// charset'language'value
					parts := strings.SplitN(v, "'", 3)
					if len(parts) == 3 {
						charset, v = parts[0], parts[2]
					}
				}
				raw = append(raw, percentDecode(v)...)
			} else {
				raw = append(raw, v...)
			}
		}
		if v, ok := toUTF8(raw, charset); ok {
			out[name] = v
		}
	}
	return out
}

// toUTF8 converts b from the named charset; empty, US-ASCII and UTF-8 are
// taken as UTF-8.
func toUTF8(b []byte, charset string) (string, bool) {
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return string(b), utf8.Valid(b)
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return "", false
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// splitUnquoted splits s at sep outside double quotes.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	inQuote, esc := false, false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
