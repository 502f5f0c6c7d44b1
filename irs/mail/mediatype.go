package mail

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
