package analyzer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/events"
	irsapi "github.com/sdnli/sdnli/irs/api"
)

// HeaderSHA256 carries a download's SHA-256 (hex).
const HeaderSHA256 = "X-Sdnli-Sha256"

// errIntegrity marks raw data whose hash is not the recorded one.
var errIntegrity = errors.New("SHA-256 mismatch")

// rawRequest names raw data on an IRS node to hand to the user.
type rawRequest struct {
	node     string // IRS node that keeps it
	rel      string // path relative to its data directory
	wantSHA  string // recorded hash; "" for session pcaps (no hash recorded)
	filename string // suggested download name, sanitised before use
	target   string // audit target
	eventID  uint64
	kind     string
}

// openRaw finds the node and opens the file there. It checks the hash the
// node computed over the file as stored against the recorded one before
// a byte is sent: a file damaged on the node's disk is refused here.
func (s *Server) openRaw(ctx context.Context, rr *rawRequest) (*irsapi.RawFile, int, error) {
	node, err := s.events.NodeByName(ctx, rr.node)
	if errors.Is(err, events.ErrNotFound) {
		return nil, http.StatusBadGateway, fmt.Errorf("IRS node %q is unknown (no heartbeat)", rr.node)
	}
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	if node.APIURL == "" {
		return nil, http.StatusBadGateway, fmt.Errorf("IRS node %q has no API URL (start it with --api)", rr.node)
	}
	rf, err := s.irs.Raw(ctx, node.APIURL, rr.rel)
	if errors.Is(err, irsapi.ErrNotFound) {
		return nil, http.StatusNotFound, fmt.Errorf("IRS node %q no longer has the file", rr.node)
	}
	if err != nil {
		return nil, http.StatusBadGateway, err
	}
	if rr.wantSHA == "" {
		rr.wantSHA = rf.SHA256
	}
	if !isHex64(rr.wantSHA) {
		rf.Body.Close()
		return nil, http.StatusBadGateway, fmt.Errorf("IRS node %q sent no SHA-256 for %s", rr.node, rr.rel)
	}
	if rf.SHA256 != rr.wantSHA {
		rf.Body.Close()
		return nil, http.StatusBadGateway, fmt.Errorf("%w: IRS node %q holds %s with SHA-256 %s, recorded %s", errIntegrity, rr.node, rr.rel, rf.SHA256, rr.wantSHA)
	}
	return rf, 0, nil
}

// serveRaw streams raw data from its IRS node to the user, hashing it on
// the way. The last block is held back until the hash is known: if the
// bytes received do not hash to the recorded SHA-256, the connection is
// cut before the end, so that the user's download fails rather than
// silently holding altered evidence. Every outcome is audited.
func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request, rr rawRequest) {
	detail := map[string]any{"event_id": rr.eventID, "kind": rr.kind, "node": rr.node}
	e := audit.Entry{Action: audit.ActionDownload, Target: rr.target}
	rf, code, err := s.openRaw(r.Context(), &rr)
	if err != nil {
		e.Outcome = audit.OutcomeFailure
		detail["error"] = err.Error()
		if rr.wantSHA != "" {
			detail["sha256"] = rr.wantSHA
		}
		s.record(r, e, detail)
		s.log.Warn("analyzer: download refused", "target", rr.target, "err", err)
		msg := err.Error()
		if code == http.StatusInternalServerError {
			msg = "cannot read the event database"
		}
		writeError(w, code, msg)
		return
	}
	defer rf.Body.Close()
	detail["sha256"] = rr.wantSHA

	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", contentDisposition(rr.filename))
	h.Set(HeaderSHA256, rr.wantSHA)
	if rf.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(rf.Size, 10))
	}
	w.WriteHeader(http.StatusOK)

	sum := sha256.New()
	held := make([]byte, 0, 64<<10)
	buf := make([]byte, 64<<10)
	var sent int64
	var copyErr error
	for {
		n, rerr := rf.Body.Read(buf)
		if n > 0 {
			sum.Write(buf[:n])
			// Send what was held, hold the new block.
			if len(held) > 0 {
				if _, err := w.Write(held); err != nil {
					copyErr = fmt.Errorf("client: %w", err)
					break
				}
				sent += int64(len(held))
			}
			held = append(held[:0], buf[:n]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			copyErr = fmt.Errorf("IRS node: %w", rerr)
			break
		}
	}
	got := hex.EncodeToString(sum.Sum(nil))
	if copyErr == nil && got != rr.wantSHA {
		copyErr = fmt.Errorf("%w in transit: received %s, recorded %s", errIntegrity, got, rr.wantSHA)
	}
	if copyErr != nil {
		e.Outcome = audit.OutcomeFailure
		detail["error"] = copyErr.Error()
		detail["bytes_sent"] = sent
		s.record(r, e, detail)
		s.log.Warn("analyzer: download cut", "target", rr.target, "err", copyErr)
		// Abort: the client sees a broken transfer, not a short file.
		panic(http.ErrAbortHandler)
	}
	if _, err := w.Write(held); err != nil {
		e.Outcome = audit.OutcomeFailure
		detail["error"] = "client: " + err.Error()
		s.record(r, e, detail)
		return
	}
	sent += int64(len(held))
	e.Outcome = audit.OutcomeOK
	detail["bytes"] = sent
	s.record(r, e, detail)
}

// fetchVerified reads raw data whole (at most max bytes) and checks its
// hash; for showing an email.
func (s *Server) fetchVerified(ctx context.Context, rr rawRequest, max int64) ([]byte, int, error) {
	rf, code, err := s.openRaw(ctx, &rr)
	if err != nil {
		return nil, code, err
	}
	defer rf.Body.Close()
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(rf.Body, max+1))
	if err != nil {
		return nil, http.StatusBadGateway, fmt.Errorf("reading from IRS node %q: %w", rr.node, err)
	}
	if n > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("larger than %d bytes: download it instead", max)
	}
	got := sha256.Sum256(b.Bytes())
	if hex.EncodeToString(got[:]) != rr.wantSHA {
		return nil, http.StatusBadGateway, fmt.Errorf("%w in transit from IRS node %q", errIntegrity, rr.node)
	}
	return b.Bytes(), 0, nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// SafeFilename turns a name from the traffic into a download name: no
// path, no control or quoting characters, no leading dot, at most 120
// characters; an empty result becomes "download.bin".
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	n := 0
	for _, c := range strings.ToValidUTF8(name, "_") {
		if n >= 120 {
			break
		}
		switch {
		case c == utf8.RuneError, unicode.IsControl(c), unicode.Is(unicode.Cf, c), strings.ContainsRune(`"'<>:|?*;%`, c):
			c = '_'
		case unicode.IsSpace(c):
			c = ' '
		}
		b.WriteRune(c)
		n++
	}
	out := strings.TrimLeft(strings.TrimSpace(b.String()), ".")
	if out == "" {
		return "download.bin"
	}
	return out
}

// asciiFilename is the fallback filename= for old clients.
func asciiFilename(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._- ()[]+,=@", c)) {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// contentDisposition makes the download an attachment (never displayed
// inline) with a sanitised name, in ASCII and as RFC 5987 UTF-8.
func contentDisposition(name string) string {
	name = SafeFilename(name)
	v := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if v == "" || !utf8.ValidString(v) {
		return `attachment; filename="` + asciiFilename(name) + `"`
	}
	// FormatMediaType writes filename*=utf-8''... for non-ASCII names;
	// add a plain filename= for clients that do not read it.
	if strings.Contains(v, "filename*=") {
		v += `; filename="` + asciiFilename(name) + `"`
	}
	return v
}
