package http

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/bufpool"
)

// maxParts caps the files taken from one multipart body.
const maxParts = 64

var zeros [4096]byte

// bodyBuffers holds the buffers of bodies saved, and of their decoded
// forms, up to 256 KiB each.
var bodyBuffers = bufpool.New(256 << 10)

// takeBody returns an empty buffer of capacity at least n (0: any) for a
// body or a decoded body.
func takeBody(n int) []byte { return bodyBuffers.Take(n) }

// releaseBody hands buf over for reuse by takeBody. The caller must not
// touch buf (or anything sliced from it) again.
func releaseBody(buf []byte) { bodyBuffers.Release(buf) }

// sameArray reports whether a and b start at the same byte of memory.
func sameArray(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0]
}

// appendBody adds transfer-decoded body bytes, keeping at most maxBody.
func (k *conn) appendBody(m *message, p []byte) {
	if m == nil || len(p) == 0 {
		return
	}
	if m.body == nil {
		m.body = takeBody(0) // a body of unannounced length
	}
	m.bodyLen += int64(len(p))
	room := k.maxBody - len(m.body)
	if room <= 0 {
		m.truncated = true
		return
	}
	if len(p) > room {
		p = p[:room]
		m.truncated = true
	}
	m.body = append(m.body, p...)
}

// fillBody stands in n zero bytes for body bytes lost in a gap, so that
// the restored file keeps its offsets.
func (k *conn) fillBody(m *message, n int64) {
	m.holes += n
	for n > 0 {
		c := min(n, int64(len(zeros)))
		k.appendBody(m, zeros[:c])
		n -= c
		if m.truncated {
			m.bodyLen += n
			return
		}
	}
}

// saveBody stores a finished body as a file (after content decoding) and,
// for multipart/form-data, each uploaded file inside it.
func (k *conn) saveBody(m *message, t *txn) {
	if len(m.body) == 0 {
		m.decodedLen = m.bodyLen
		return
	}
	data := m.body
	if enc := m.values("content-encoding"); len(enc) > 0 {
		out, err := decodeContent(enc, data, k.maxBody)
		switch {
		case errors.Is(err, errOverCap):
			m.truncated = true
		case err != nil && !(m.truncated || m.incomplete):
			m.anomalies.Addf("http: decoding %s body: %v", strings.Join(enc, ", "), err)
		}
		if len(out) > 0 || err == nil {
			data = out
		}
	}
	m.decodedLen = int64(len(data))
	ctype, params, _ := mime.ParseMediaType(m.get("content-type"))
	name := k.bodyName(m, t)
	art, err := k.env.SaveArtifact(event.KindFile, name, ctype, data)
	if err != nil {
		m.anomalies.Addf("http: saving %s body %q: %v", kindOf(m), name, err)
		return
	}
	m.artifact = &art
	if strings.HasPrefix(ctype, "multipart/") && params["boundary"] != "" {
		k.saveParts(m, data, params["boundary"], art.SHA256)
	}
	// the bytes live in the artifact store now; saveParts copied the
	// parts it kept
	if !sameArray(data, m.body) {
		releaseBody(data)
	}
	releaseBody(m.body)
	m.body = nil
}

func kindOf(m *message) string {
	if m.isReq {
		return "request"
	}
	return "response"
}

// saveParts restores the files of a multipart body (form uploads).
func (k *conn) saveParts(m *message, data []byte, boundary, parent string) {
	r := multipart.NewReader(bytes.NewReader(data), boundary)
	for n := 0; n < maxParts; n++ {
		p, err := r.NextRawPart()
		if err != nil {
			if err != io.EOF && !m.truncated && !m.incomplete {
				m.anomalies.Addf("http: multipart %s body: %v", kindOf(m), err)
			}
			return
		}
		fn := p.FileName()
		if fn == "" {
			if f := p.FormName(); f != "" && len(m.formFields) < maxParts {
				m.formFields = append(m.formFields, clipName(f))
			}
			continue
		}
		content, err := io.ReadAll(io.LimitReader(p, int64(k.maxBody)))
		if err != nil && !m.truncated && !m.incomplete {
			m.anomalies.Addf("http: multipart part %q: %v", fn, err)
		}
		name := sanitize(fn)
		if name == "" {
			name = "upload"
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		art, err := k.env.SaveArtifact(event.KindFile, name, ct, content)
		if err != nil {
			m.anomalies.Addf("http: saving multipart part %q: %v", name, err)
			continue
		}
		art.Parent = parent
		m.parts = append(m.parts, art)
		m.partNames = append(m.partNames, name)
	}
}

var errOverCap = errors.New("decoded body over the size cap")

// decodeContent undoes content codings (listed in the order applied).
// The output is capped at limit bytes.
func decodeContent(codings []string, data []byte, limit int) ([]byte, error) {
	for i := len(codings) - 1; i >= 0; i-- {
		c := codings[i]
		if c == "identity" {
			continue
		}
		if !knownCoding(c) {
			return data, fmt.Errorf("unknown content coding %q; body kept encoded", c)
		}
		out, err := decode1(c, data, limit)
		if out == nil && err != nil {
			return data, err
		}
		if len(out) > limit {
			return out[:limit], errOverCap
		}
		if err != nil {
			return out, err
		}
		data = out
	}
	return data, nil
}

func knownCoding(c string) bool {
	switch c {
	case "gzip", "x-gzip", "deflate", "br":
		return true
	}
	return false
}

// The decompressors are reused: each holds a 32 KiB window that would
// otherwise be allocated for every compressed body.
var (
	gzipReaders  sync.Pool // *gzip.Reader
	zlibReaders  sync.Pool // io.ReadCloser, a zlib.Resetter
	flateReaders sync.Pool // io.ReadCloser, a flate.Resetter
)

// decode1 undoes one known coding, reading at most limit+1 bytes. A nil
// output with an error means the stream did not even start.
func decode1(c string, data []byte, limit int) ([]byte, error) {
	src := bytes.NewReader(data)
	var r io.Reader
	switch c {
	case "gzip", "x-gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(src)
		} else {
			err = zr.Reset(src)
		}
		if err != nil {
			if zr != nil {
				gzipReaders.Put(zr)
			}
			return nil, err
		}
		defer gzipReaders.Put(zr)
		r = zr
	case "deflate":
		// RFC 9110 deflate is zlib-wrapped; some servers send raw deflate
		if len(data) >= 2 && data[0]&0x0f == 8 && (uint16(data[0])<<8|uint16(data[1]))%31 == 0 {
			zr, _ := zlibReaders.Get().(io.ReadCloser)
			var err error
			if zr == nil {
				zr, err = zlib.NewReader(src)
			} else {
				err = zr.(zlib.Resetter).Reset(src, nil)
			}
			if err != nil {
				if zr != nil {
					zlibReaders.Put(zr)
				}
				return nil, err
			}
			defer zlibReaders.Put(zr)
			r = zr
		} else {
			fr, _ := flateReaders.Get().(io.ReadCloser)
			if fr == nil {
				fr = flate.NewReader(src)
			} else {
				fr.(flate.Resetter).Reset(src, nil)
			}
			defer flateReaders.Put(fr)
			r = fr
		}
	case "br":
		r = brotli.NewReader(src)
	}
	out, err := appendAll(takeBody(0), io.LimitReader(r, int64(limit)+1))
	if out == nil {
		out = []byte{}
	}
	return out, err
}

// appendAll is io.ReadAll appending to dst (a released buffer).
func appendAll(dst []byte, r io.Reader) ([]byte, error) {
	if cap(dst) == 0 {
		dst = make([]byte, 0, 512)
	}
	for {
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return dst, err
		}
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)] // let append pick the growth
		}
	}
}

// bodyName names a restored body: the Content-Disposition file name, else
// the last segment of the request path.
func (k *conn) bodyName(m *message, t *txn) string {
	if fn := dispositionName(m.get("content-disposition")); fn != "" {
		return fn
	}
	if t.req != nil {
		if s := sanitize(lastSegment(t.req.target)); s != "" {
			return s
		}
	}
	if m.isReq {
		return "request-body"
	}
	return "index"
}

// dispositionName returns the sanitised file name of a Content-Disposition
// value, reading sloppy values that mime.ParseMediaType rejects too.
func dispositionName(v string) string {
	if v == "" {
		return ""
	}
	if _, params, err := mime.ParseMediaType(v); err == nil {
		return sanitize(params["filename"])
	}
	// Search with ASCII-only folding: strings.ToLower may change the
	// length of non-ASCII runes (İ grows, invalid bytes become U+FFFD),
	// and an index into the lowered copy would not fit v.
	i := ascii.IndexFold(v, "filename=")
	if i < 0 {
		return ""
	}
	fn := strings.TrimSpace(v[i+len("filename="):])
	if q := fn[:min(1, len(fn))]; q == `"` || q == "'" {
		// A quoted name runs to its closing quote, ';' included.
		if j := strings.Index(fn[1:], q); j >= 0 {
			return sanitize(fn[1 : 1+j])
		}
	}
	if j := strings.IndexByte(fn, ';'); j >= 0 {
		fn = fn[:j]
	}
	return sanitize(strings.Trim(strings.TrimSpace(fn), `"'`))
}

// sanitize is parser.SafeFileName of a name percent-decoded first, as
// URL segments and some Content-Disposition values are.
func sanitize(name string) string {
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	return parser.SafeFileName(name)
}

// clipName bounds a form field name kept in a summary.
func clipName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
