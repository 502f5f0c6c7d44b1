package http

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sdnli/sdnli/irs/event"
)

// txn is one request with its response.
type txn struct {
	req, resp         *message
	reqDone, respDone bool
	interim           []int  // 1xx status codes seen before the final response
	tunnel            bool   // CONNECT accepted
	upgrade           string // protocol switched to by 101
	version           string // "HTTP/2" for streams of an HTTP/2 connection
	notes             []string
	emitted           bool
}

func (t *txn) note(s string) { t.notes = append(t.notes, s) }

// pairResponse returns the oldest request still waiting for a response.
func (k *conn) pairResponse() *txn {
	for _, t := range k.queue {
		if t.resp == nil && t.req != nil {
			return t
		}
	}
	return nil
}

// flush reports the requests at the head of the queue that are complete,
// keeping the report order equal to the request order.
func (k *conn) flush() {
	for len(k.queue) > 0 {
		t := k.queue[0]
		if !(t.req == nil || t.reqDone) || !t.respDone {
			return
		}
		k.popQueue()
		k.emitTxn(t)
	}
}

// popQueue removes the head of the queue, moving the rest down so that
// the array serves the connection's later requests (the queue is short:
// at most maxPending+1).
func (k *conn) popQueue() *txn {
	t := k.queue[0]
	k.queue = slices.Delete(k.queue, 0, 1) // clears the slot it frees
	return t
}

// emitTxn reports one transaction.
func (k *conn) emitTxn(t *txn) {
	if t.emitted {
		return
	}
	t.emitted = true
	ev := &event.Event{Type: TypeRequest, Summary: make(event.Fields, 0, 24)}
	s := &ev.Summary
	req, resp := t.req, t.resp
	if req != nil {
		ev.Start, ev.End = req.start, req.end
		host := req.get("host")
		s.Set("method", req.method)
		s.Set("uri", req.target)
		if host != "" {
			s.Set("host", host)
		}
		if req.version != "" {
			s.Set("version", req.version)
		}
		u := k.requestURL(req)
		s.Set("url", u)
		ev.Subject = u
		if req.method == "CONNECT" {
			ev.Subject = "CONNECT " + req.target
		}
		putStr(s, "user_agent", req.get("user-agent"))
		putStr(s, "referer", req.get("referer"))
		putStr(s, "origin", req.get("origin"))
		putStr(s, "x_forwarded_for", req.get("x-forwarded-for"))
		putStr(s, "request_content_type", req.get("content-type"))
		if n, ok := contentLength(req); ok {
			s.Set("request_content_length", n)
		}
		k.putBody(s, requestKeys, req)
		k.putAuth(ev, req)
		ev.Anomalies = append(ev.Anomalies, req.anomalies.Out()...)
		if !t.reqDone {
			ev.Anomalies = append(ev.Anomalies, "request incomplete")
		}
	}
	if t.version != "" {
		s.Set("version", t.version)
	}
	if resp != nil {
		if ev.Start.IsZero() {
			ev.Start = resp.start
			ev.Subject = strings.TrimSpace(fmt.Sprintf("%d %s (request not captured)", resp.status, resp.reason))
		}
		ev.End = resp.end
		s.Set("status", resp.status)
		putStr(s, "reason", resp.reason)
		if t.version == "" && resp.version != "" && (req == nil || resp.version != req.version) {
			s.Set("response_version", resp.version)
		}
		putStr(s, "content_type", resp.get("content-type"))
		if n, ok := contentLength(resp); ok {
			s.Set("content_length", n)
		}
		putStr(s, "content_encoding", resp.get("content-encoding"))
		putStr(s, "transfer_encoding", resp.get("transfer-encoding"))
		putStr(s, "location", resp.get("location"))
		putStr(s, "server_software", resp.get("server"))
		if fn := dispositionName(resp.get("content-disposition")); fn != "" {
			s.Set("filename", fn)
		}
		k.putBody(s, responseKeys, resp)
		ev.Anomalies = append(ev.Anomalies, resp.anomalies.Out()...)
	} else if req != nil {
		s.Set("no_response", true)
	}
	if len(t.interim) > 0 {
		s.Set("interim_status", t.interim)
	}
	if t.tunnel {
		s.Set("tunnel", true)
	}
	if t.upgrade != "" {
		s.Set("upgrade", t.upgrade)
	}
	ev.Anomalies = append(ev.Anomalies, t.notes...)
	for _, m := range []*message{req, resp} {
		if m == nil {
			continue
		}
		if m.artifact != nil {
			ev.Artifacts = append(ev.Artifacts, *m.artifact)
		}
		ev.Artifacts = append(ev.Artifacts, m.parts...)
	}
	k.emit(ev)
}

// bodyKeys are the summary keys of a body's facts, for requests and
// responses, spelled once rather than joined for every event.
type bodyKeys struct {
	bytes, decodedBytes, truncated, incomplete, sha256, name, files, formFields string
}

func newBodyKeys(prefix string) *bodyKeys {
	return &bodyKeys{prefix + "_body_bytes", prefix + "_body_decoded_bytes", prefix + "_body_truncated",
		prefix + "_body_incomplete", prefix + "_body_sha256", prefix + "_body_name", prefix + "_files",
		prefix + "_form_fields"}
}

var requestKeys, responseKeys = newBodyKeys("request"), newBodyKeys("response")

// putBody adds body facts under the keys of a request or a response.
func (k *conn) putBody(s *event.Fields, keys *bodyKeys, m *message) {
	if m.bodyLen == 0 && !m.incomplete {
		return
	}
	s.Set(keys.bytes, m.bodyLen)
	if m.decodedLen != m.bodyLen && m.artifact != nil {
		s.Set(keys.decodedBytes, m.decodedLen)
	}
	if m.truncated {
		s.Set(keys.truncated, true)
	}
	if m.incomplete {
		s.Set(keys.incomplete, true)
	}
	if m.artifact != nil {
		s.Set(keys.sha256, m.artifact.SHA256)
		s.Set(keys.name, m.artifact.Name)
	}
	if len(m.partNames) > 0 {
		s.Set(keys.files, m.partNames)
	}
	if len(m.formFields) > 0 {
		s.Set(keys.formFields, m.formFields)
	}
}

// putAuth records the user of Basic (or Digest) credentials; the Basic
// password only when the operator allows it.
func (k *conn) putAuth(ev *event.Event, req *message) {
	for _, hdr := range []string{"authorization", "proxy-authorization"} {
		v := req.get(hdr)
		if v == "" {
			continue
		}
		scheme, cred, _ := strings.Cut(v, " ")
		ev.Summary.Set("auth_scheme", scheme)
		var user string
		switch strings.ToLower(scheme) {
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
			if err != nil {
				ev.Anomalies = append(ev.Anomalies, "undecodable Basic credentials")
				continue
			}
			u, pw, _ := strings.Cut(string(raw), ":")
			user = u
			if k.env.Options().RecordPasswords {
				ev.Summary.Set("password", pw)
			}
		case "digest":
			user = digestParam(cred, "username")
		}
		if user != "" {
			ev.Summary.Set("user", user)
			ev.Addresses = append(ev.Addresses, event.Address{Address: user, Role: event.RoleUser})
		}
		return
	}
}

// digestParam finds name="value" in Digest credentials.
func digestParam(cred, name string) string {
	for _, part := range strings.Split(cred, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// requestURL rebuilds the URL a request asked for.
func (k *conn) requestURL(req *message) string {
	t := req.target
	if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") || req.method == "CONNECT" || t == "*" {
		return t
	}
	host := req.get("host")
	if host == "" {
		host = k.c.Server.String()
	}
	scheme := req.get(":scheme")
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + host + t
}

// lastSegment returns the unescaped last path segment of a request target.
func lastSegment(target string) string {
	if u, err := url.Parse(target); err == nil && u.Path != "" {
		target = u.Path
	} else {
		target, _, _ = strings.Cut(target, "?")
	}
	if i := strings.LastIndexByte(target, '/'); i >= 0 {
		target = target[i+1:]
	}
	return target
}

func putStr(s *event.Fields, k, v string) {
	if v != "" {
		s.Set(k, v)
	}
}
