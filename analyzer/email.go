package analyzer

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
)

// Email is a restored email as the event view shows it. Every string is
// intercepted content: clients must display it as text.
type Email struct {
	EventID   uint64         `json:"event_id"`
	EML       EmailPart      `json:"eml"`
	Subject   string         `json:"subject"`
	Date      string         `json:"date"`
	MessageID string         `json:"message_id"`
	From      []mail.Address `json:"from"`
	To        []mail.Address `json:"to"`
	Cc        []mail.Address `json:"cc"`
	ReplyTo   []mail.Address `json:"reply_to"`
	UserAgent string         `json:"user_agent"`
	Headers   []Header       `json:"headers"`
	Text      string         `json:"text"`
	Truncated bool           `json:"text_truncated"`
	URLs      []string       `json:"urls"`
	Parts     []EmailPart    `json:"attachments"`
	Anomalies []string       `json:"anomalies"`
}

// EmailPart is the .eml or an attachment, with the artifact to download
// it by (0 when the IRS did not record it).
type EmailPart struct {
	ArtifactID  uint64 `json:"artifact_id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	MD5         string `json:"md5,omitempty"`
}

// Header is one header field, decoded (RFC 2047) to UTF-8.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Limits of the header list.
const (
	maxHeaders     = 500
	maxHeaderValue = 8 << 10
)

func (s *Server) getEmail(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	target := fmt.Sprintf("events/%d/email", ev.ID)
	var eml *EmailPart
	byHash := map[string]uint64{}
	for _, a := range ev.Artifacts {
		if a.Kind == event.KindEML && eml == nil {
			eml = &EmailPart{ArtifactID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, MD5: a.MD5}
		}
		if a.Kind == event.KindAttachment {
			if _, dup := byHash[a.SHA256]; !dup {
				byHash[a.SHA256] = a.ID
			}
		}
	}
	if eml == nil {
		writeError(w, http.StatusNotFound, "this event has no restored email")
		return
	}
	var path string
	for _, a := range ev.Artifacts {
		if a.ID == eml.ArtifactID {
			path = a.Path
		}
	}
	raw, code, err := s.fetchVerified(r.Context(), rawRequest{node: ev.Node, rel: path, wantSHA: eml.SHA256}, s.cfg.MaxEmailBytes)
	e := audit.Entry{Action: audit.ActionView, Target: target}
	if err != nil {
		e.Outcome = audit.OutcomeFailure
		s.record(r, e, map[string]string{"sha256": eml.SHA256, "error": err.Error()})
		s.log.Warn("analyzer: email", "event", ev.ID, "err", err)
		writeError(w, code, err.Error())
		return
	}
	out := parseEmail(raw)
	out.EventID, out.EML = ev.ID, *eml
	for i := range out.Parts {
		out.Parts[i].ArtifactID = byHash[out.Parts[i].SHA256]
	}
	e.Outcome = audit.OutcomeOK
	s.record(r, e, map[string]string{"sha256": eml.SHA256})
	writeJSON(w, http.StatusOK, out)
}

// parseEmail decodes a raw message with the IRS's own restorer (so the
// attachments hash as the IRS stored them) and lists its header fields.
func parseEmail(raw []byte) *Email {
	env := &hashEnv{}
	m, _ := mail.Restore(env, raw)
	out := &Email{
		Subject: m.Subject, Date: m.Date, MessageID: m.MessageID, UserAgent: m.UserAgent,
		From: nonNil(m.From), To: nonNil(m.To), Cc: nonNil(m.Cc), ReplyTo: nonNil(m.ReplyTo),
		Text: m.Text, Truncated: m.TextTruncated, URLs: m.URLs, Anomalies: m.Anomalies,
		Headers: headerList(raw), Parts: []EmailPart{},
	}
	if out.URLs == nil {
		out.URLs = []string{}
	}
	if out.Anomalies == nil {
		out.Anomalies = []string{}
	}
	for _, a := range m.Attachments {
		out.Parts = append(out.Parts, EmailPart{Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, MD5: a.MD5})
	}
	return out
}

func nonNil(a []mail.Address) []mail.Address {
	if a == nil {
		return []mail.Address{}
	}
	return a
}

// headerList returns the message's header fields in order, unfolded and
// decoded, bounded in number and length.
func headerList(raw []byte) []Header {
	out := []Header{}
	tp := textproto.NewReader(bufio.NewReader(io.LimitReader(bytes.NewReader(raw), 1<<20)))
	for len(out) < maxHeaders {
		line, err := tp.ReadContinuedLine()
		if line == "" || (err != nil && line == "") {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			if err != nil {
				break
			}
			continue
		}
		value = enmime.DecodeRFC2047(strings.TrimSpace(value))
		out = append(out, Header{Name: clipText(strings.TrimSpace(name), 256), Value: clipText(value, maxHeaderValue)})
		if err != nil {
			break
		}
	}
	return out
}

// clipText makes s valid UTF-8 of at most n bytes.
func clipText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hashEnv is a parser.Env that stores nothing: it describes each
// artifact (size, hashes) so that the view can match it to the one the
// IRS recorded.
type hashEnv struct{}

func (*hashEnv) Emit(*event.Event) {}

func (*hashEnv) SaveArtifact(kind, name, contentType string, data []byte) (event.Artifact, error) {
	s := sha256.Sum256(data)
	m := md5.Sum(data)
	return event.Artifact{Kind: kind, Name: name, ContentType: contentType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:])}, nil
}

func (*hashEnv) Options() parser.Options {
	o := parser.DefaultOptions()
	o.MaxArtifactBytes = 0 // the message was cut, if at all, by the IRS
	return o
}

func (*hashEnv) RequestMirror(parser.MirrorRequest) {}
