package mail

import "strings"

// maxMediaTypes caps the distinct header values one mediaTypes remembers
// (a hostile message may give each of its parts another one).
const maxMediaTypes = 64

// mediaTypes remembers the media-type parses of one message. enmime
// parses the same Content-Type and Content-Disposition values several
// times over (reading a part's header, deciding whether it is multipart,
// whether it is a text body or an attachment), and the tolerant parser
// behind them, which repairs broken values before Go's mime parser sees
// them, is the costliest step of a header decode. A value is parsed once
// per message; parsing is a pure function of it.
//
// Callers share the returned map and slice: neither enmime nor this
// package modifies them.
type mediaTypes struct {
	parse func(string) (string, map[string]string, []string, error)
	seen  map[string]mediaTypeResult
}

type mediaTypeResult struct {
	mt      string
	params  map[string]string
	invalid []string
	err     error
}

func newMediaTypes(parse func(string) (string, map[string]string, []string, error)) *mediaTypes {
	return &mediaTypes{parse: parse}
}

// Parse has the signature of enmime.SetCustomParseMediaType's function.
func (c *mediaTypes) Parse(ctype string) (string, map[string]string, []string, error) {
	if r, ok := c.seen[ctype]; ok {
		return r.mt, r.params, r.invalid, r.err
	}
	mt, params, invalid, err := c.parse(ctype)
	if c.seen == nil {
		c.seen = make(map[string]mediaTypeResult, 4)
	}
	if len(c.seen) < maxMediaTypes {
		c.seen[ctype] = mediaTypeResult{mt, params, invalid, err}
	}
	return mt, params, invalid, err
}

// plainMediaType reports a media-type value that enmime's tolerant parser
// hands to Go's mime.ParseMediaType unchanged in meaning: "type/subtype"
// (or a disposition type) and parameters "; attribute=value", all ASCII, the type and attributes
// tokens, each value a token or a quoted string without quotes,
// backslashes or semicolons inside, no space around "=" or before ";",
// no attribute twice or written out earlier in the value (enmime drops
// such a parameter), no RFC 2231 "*", no encoded word, no angle bracket.
// Most Content-Type and Content-Disposition values are such; their
// parse then skips the repairs, which allocate at every step.
// TestPlainMediaType and FuzzPlainMediaType hold it to enmime's result.
func plainMediaType(v string) bool {
	if strings.Contains(v, "=?") {
		return false
	}
	// type/subtype, or a disposition type
	j := tokenEnd(v, 0)
	if j == 0 {
		return false
	}
	if j < len(v) && v[j] == '/' {
		k := tokenEnd(v, j+1)
		if k == j+1 {
			return false
		}
		j = k
	}
	var seen [8]string
	n := 0
	for j < len(v) {
		if v[j] != ';' {
			return false
		}
		j++
		for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
			j++
		}
		start := j
		j = tokenEnd(v, j)
		if j == start || j == len(v) || v[j] != '=' {
			return false
		}
		attr := v[start:j]
		if n == len(seen) || strings.Contains(v[:start], attr+"=") {
			return false
		}
		for _, a := range seen[:n] {
			if strings.EqualFold(a, attr) {
				return false
			}
		}
		seen[n] = attr
		n++
		j++ // "="
		if j < len(v) && v[j] == '"' {
			end := strings.IndexByte(v[j+1:], '"')
			if end < 0 {
				return false
			}
			for _, c := range []byte(v[j+1 : j+1+end]) {
				if c < ' ' || c > '~' || c == '\\' || c == ';' || c == '<' || c == '>' {
					return false
				}
			}
			j += end + 2
		} else {
			k := tokenEnd(v, j)
			if k == j {
				return false
			}
			j = k
		}
	}
	return true
}

// tokenEnd is where the RFC 2045 token starting at v[i] ends.
func tokenEnd(v string, i int) int {
	for i < len(v) && isTokenChar(v[i]) {
		i++
	}
	return i
}

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=*`, rune(c))
}
