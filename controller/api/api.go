// Package api serves the controller's HTTP API (documents in package
// apiv1, endpoints listed there and in the controller's README) with
// github.com/go-chi/chi/v5. It knows nothing of switches: it calls a
// Backend and maps its errors to status codes.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sdnli/sdnli/controller/apiv1"
)

// Errors a Backend returns (wrapped) to choose the status code.
var (
	ErrBadRequest = errors.New("bad request")         // 400
	ErrNotFound   = errors.New("not found")           // 404
	ErrSlave      = errors.New("controller is slave") // 409
	ErrTooMany    = errors.New("too many")            // 429
)

// SwitchesError reports switches that did not confirm a change (502).
type SwitchesError struct {
	Results []apiv1.SwitchResult
}

func (e *SwitchesError) Error() string {
	var bad []string
	for _, r := range e.Results {
		if !r.OK {
			bad = append(bad, fmt.Sprintf("switch %s: %s", r.DPID, r.Error))
		}
	}
	return "not confirmed by " + strings.Join(bad, "; ")
}

// Backend is what the API serves.
type Backend interface {
	Health() apiv1.Health
	Switches(ctx context.Context) apiv1.SwitchList
	Mirror() apiv1.MirrorList
	SetMirror(ctx context.Context, protocol string, enabled bool, by string) (apiv1.MirrorUpdateResult, error)
	Flows(ctx context.Context) apiv1.FlowList
	AddDynamic(ctx context.Context, req apiv1.DynamicRequest, by string) (flow apiv1.DynamicFlow, created bool, err error)
	Dynamic() apiv1.DynamicList
	Topology() apiv1.Topology
}

// Options configure the handler.
type Options struct {
	// Token, when set, is required as "Authorization: Bearer TOKEN" on
	// every /api/v1 request (not on /healthz).
	Token string
	// Timeout bounds each request. Default 60s.
	Timeout time.Duration
	Logger  *slog.Logger
}

// maxBody bounds request bodies: they are small JSON documents.
const maxBody = 64 << 10

// New returns the API handler.
func New(b Backend, opt Options) http.Handler {
	if opt.Timeout <= 0 {
		opt.Timeout = 60 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{b: b, opt: opt}
	r := chi.NewRouter()
	r.Use(s.recoverer, s.timeout)
	r.Get("/healthz", s.health)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.auth)
		r.Get("/switches", s.switches)
		r.Get("/mirror", s.mirror)
		r.Get("/mirror/dynamic", s.dynamicList)
		r.Post("/mirror/dynamic", s.dynamicAdd)
		r.Put("/mirror/{protocol}", s.setMirror)
		r.Get("/flows", s.flows)
		r.Get("/topology", s.topology)
	})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, apiv1.Error{Error: "no such endpoint"})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, apiv1.Error{Error: "method not allowed"})
	})
	return r
}

type server struct {
	b   Backend
	opt Options
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	body := apiv1.Error{Error: err.Error()}
	var se *SwitchesError
	switch {
	case errors.As(err, &se):
		status, body.Switches = http.StatusBadGateway, se.Results
	case errors.Is(err, ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrSlave):
		status = http.StatusConflict
	case errors.Is(err, ErrTooMany):
		status = http.StatusTooManyRequests
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	}
	s.opt.Logger.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, body)
}

func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.opt.Logger.Error("api handler panicked", "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, apiv1.Error{Error: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *server) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opt.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.opt.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="sdnli controller"`)
				writeJSON(w, http.StatusUnauthorized, apiv1.Error{Error: "missing or wrong bearer token"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// decode reads a bounded JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	return nil
}

// who names the client of a change, for the policy's updated_by.
func who(r *http.Request) string { return "api " + r.RemoteAddr }

func (s *server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Health())
}

func (s *server) switches(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Switches(r.Context()))
}

func (s *server) mirror(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Mirror())
}

func (s *server) setMirror(w http.ResponseWriter, r *http.Request) {
	var body apiv1.MirrorUpdate
	if err := decode(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Enabled == nil {
		s.fail(w, r, fmt.Errorf("%w: body needs \"enabled\": true or false", ErrBadRequest))
		return
	}
	res, err := s.b.SetMirror(r.Context(), chi.URLParam(r, "protocol"), *body.Enabled, who(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) flows(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Flows(r.Context()))
}

func (s *server) dynamicList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Dynamic())
}

func (s *server) dynamicAdd(w http.ResponseWriter, r *http.Request) {
	var req apiv1.DynamicRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	flow, created, err := s.b.AddDynamic(r.Context(), req, who(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, flow)
}

func (s *server) topology(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Topology())
}
