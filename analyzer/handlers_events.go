package analyzer

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/events"
)

// searchParams are the query parameters of GET /api/v1/events.
var searchParams = []string{"email", "ip", "protocol", "type", "node", "subject", "from", "to", "sort", "limit", "offset", "cursor"}

// parseSearch turns query parameters into a search, or an error naming
// the parameter at fault.
func parseSearch(v url.Values) (events.Query, error) {
	var q events.Query
	for k, vals := range v {
		known := false
		for _, p := range searchParams {
			known = known || k == p
		}
		if !known {
			return q, fmt.Errorf("unknown parameter %q", k)
		}
		if len(vals) > 1 {
			return q, fmt.Errorf("parameter %q given %d times", k, len(vals))
		}
		if len(vals[0]) > 1024 || !utf8.ValidString(vals[0]) {
			return q, fmt.Errorf("parameter %q too long or not UTF-8", k)
		}
	}
	q.Email = strings.TrimSpace(v.Get("email"))
	q.Protocol = strings.TrimSpace(v.Get("protocol"))
	q.Type = strings.TrimSpace(v.Get("type"))
	q.Node = strings.TrimSpace(v.Get("node"))
	q.Subject = v.Get("subject")
	q.Cursor = v.Get("cursor")
	if s := strings.TrimSpace(v.Get("ip")); s != "" {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return q, fmt.Errorf("ip %q: not an IPv4 or IPv6 address", s)
		}
		q.IP = ip
	}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(tf.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, fmt.Errorf("%s %q: want RFC 3339, e.g. 2024-05-01T10:00:00Z", tf.name, s)
			}
			*tf.dst = t
		}
	}
	switch v.Get("sort") {
	case "", "desc":
	case "asc":
		q.Asc = true
	default:
		return q, fmt.Errorf("sort %q: want asc or desc", v.Get("sort"))
	}
	for _, nf := range []struct {
		name string
		dst  *int
	}{{"limit", &q.Limit}, {"offset", &q.Offset}} {
		if s := v.Get(nf.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, fmt.Errorf("%s %q: want a non-negative number", nf.name, s)
			}
			*nf.dst = n
		}
	}
	if q.Limit > events.MaxLimit {
		return q, fmt.Errorf("limit %d: at most %d", q.Limit, events.MaxLimit)
	}
	if q.Cursor != "" && q.Offset > 0 {
		return q, errors.New("give either offset or cursor, not both")
	}
	return q, q.Normalize()
}

func (s *Server) searchEvents(w http.ResponseWriter, r *http.Request) {
	q, err := parseSearch(r.URL.Query())
	detail := map[string]string{}
	for k := range r.URL.Query() {
		detail[k] = r.URL.Query().Get(k)
	}
	e := audit.Entry{Action: audit.ActionSearch, Target: "events"}
	if err != nil {
		e.Outcome = audit.OutcomeFailure
		detail["error"] = err.Error()
		s.record(r, e, detail)
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// The audit row and the search go to the database side by side: the
	// answer waits for both, so it costs the slower of the two, not the
	// sum. No result leaves without its audit row.
	e.Outcome = audit.OutcomeOK
	recorded := make(chan error, 1)
	go func() { recorded <- s.mustRecord(r, e, map[string]any{"query": detail}) }()
	res, err := s.events.Search(r.Context(), q)
	if aerr := <-recorded; aerr != nil {
		s.log.Error("analyzer: audit append failed", "action", e.Action, "err", aerr)
		writeError(w, http.StatusServiceUnavailable, "audit log unavailable")
		return
	}
	if err != nil {
		s.log.Error("analyzer: search", "err", err)
		e.Outcome = audit.OutcomeFailure
		s.record(r, e, map[string]any{"query": detail, "error": "search failed"})
		writeError(w, http.StatusInternalServerError, "search failed")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// eventID reads the {id} path parameter.
func eventID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, "id must be a positive number")
		return 0, false
	}
	return id, true
}

func (s *Server) loadEvent(w http.ResponseWriter, r *http.Request) (*events.Event, bool) {
	id, ok := eventID(w, r)
	if !ok {
		return nil, false
	}
	ev, err := s.events.Get(r.Context(), id)
	if errors.Is(err, events.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such event")
		return nil, false
	}
	if err != nil {
		s.log.Error("analyzer: get event", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read the event")
		return nil, false
	}
	return ev, true
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	s.record(r, audit.Entry{Action: audit.ActionView, Target: fmt.Sprintf("events/%d", ev.ID), Outcome: audit.OutcomeOK}, nil)
	writeJSON(w, http.StatusOK, ev)
}

func (s *Server) downloadArtifact(w http.ResponseWriter, r *http.Request) {
	id, ok := eventID(w, r)
	if !ok {
		return
	}
	a, err := s.events.Artifact(r.Context(), id)
	if errors.Is(err, events.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such artifact")
		return
	}
	if err != nil {
		s.log.Error("analyzer: artifact", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read the artifact")
		return
	}
	name := a.Name
	switch {
	case a.Kind == "eml":
		name = fmt.Sprintf("event-%d.eml", a.EventID)
	case name == "":
		name = fmt.Sprintf("event-%d-%s-%d.bin", a.EventID, a.Kind, a.ID)
	}
	s.serveRaw(w, r, rawRequest{
		node: a.Node, rel: a.Path, wantSHA: a.SHA256, filename: name,
		target: fmt.Sprintf("artifacts/%d", a.ID), eventID: a.EventID, kind: a.Kind,
	})
}

func (s *Server) downloadPcap(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	if ev.RawRef == "" {
		writeError(w, http.StatusNotFound, "this event has no session pcap")
		return
	}
	s.serveRaw(w, r, rawRequest{
		node: ev.Node, rel: ev.RawRef, filename: fmt.Sprintf("event-%d.pcap", ev.ID),
		target: fmt.Sprintf("events/%d/pcap", ev.ID), eventID: ev.ID, kind: "pcap",
	})
}
