// Package api is the IRS node's own small HTTP API, through which the
// analyzer fetches raw data (session pcaps, restored emails and files)
// from the node that keeps it and switches the node's protocol parsers
// on and off when mirroring of a protocol is toggled.
//
// Every request carries the shared token as a bearer token (the
// analyzer's --irs-token, the node's --api-token); without a token the
// server refuses to start. Routes:
//
//	GET /healthz                        liveness, no token needed
//	GET /api/v1/raw?path=REL            a file under sessions/ or files/
//	GET /api/v1/parsers                 {"smtp": true, ...}
//	PUT /api/v1/parsers/{protocol}      {"enabled": true|false}
//	GET /api/v1/status                  the node's counters
//
// A raw file is served with its SHA-256 (header X-Sdnli-Sha256) computed
// from the bytes on disk as they are now, and exactly the length that
// was hashed: a session pcap still being appended to is served as a
// consistent prefix. The receiver compares the hash with the one the
// database recorded (artifacts) and with the bytes it got (every file).
package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// HeaderSHA256 carries the hex SHA-256 of a served file.
const HeaderSHA256 = "X-Sdnli-Sha256"

// rawDirs are the data directory's sub-trees the API serves; the spool
// and temporary files stay private to the node.
var rawDirs = []string{"sessions/", "files/"}

// Config configures a Server.
type Config struct {
	Store    *store.Store     // the node's data directory (required)
	Registry *parser.Registry // the node's parsers (required)
	Token    string           // shared bearer token (required)
	// Status returns the node's counters for GET /api/v1/status; nil
	// serves an empty object.
	Status func() any
	Logger *slog.Logger
}

// Server serves the API. Create it with New.
type Server struct {
	cfg    Config
	log    *slog.Logger
	router chi.Router
}

// New checks cfg and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Registry == nil {
		return nil, errors.New("irs/api: store and parser registry are required")
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("irs/api: an API token is required (--api-token or SDNLI_IRS_TOKEN)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Group(func(r chi.Router) {
		r.Use(s.auth)
		r.Get("/api/v1/raw", s.raw)
		r.Get("/api/v1/parsers", s.parsers)
		r.Put("/api/v1/parsers/{protocol}", s.setParser)
		r.Get("/api/v1/status", s.status)
	})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such route")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	s.router = r
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	s.router.ServeHTTP(w, r)
}

func (s *Server) auth(next http.Handler) http.Handler {
	want := []byte(s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sdnli-irs"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong API token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// raw serves one file of the data directory.
func (s *Server) raw(w http.ResponseWriter, r *http.Request) {
	rel := r.URL.Query().Get("path")
	allowed := false
	for _, d := range rawDirs {
		if strings.HasPrefix(rel, d) {
			allowed = true
		}
	}
	if !allowed {
		writeError(w, http.StatusNotFound, "only sessions/ and files/ are served")
		return
	}
	p, err := s.cfg.Store.Resolve(rel)
	if err != nil {
		if errors.Is(err, store.ErrEscape) {
			writeError(w, http.StatusBadRequest, "path leaves the data directory")
			return
		}
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, http.StatusNotFound, "no such file")
			return
		}
		s.log.Warn("irs/api: resolve", "path", rel, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot resolve path")
		return
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, http.StatusNotFound, "no such file")
			return
		}
		s.log.Warn("irs/api: open", "path", rel, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot open file")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "not a regular file")
		return
	}
	// Hash exactly the length seen now, then serve that same length. A
	// session pcap still being written is served up to its last whole
	// packet, so that what the analyst gets always opens.
	size := fi.Size()
	if strings.HasPrefix(rel, "sessions/") && strings.HasSuffix(rel, ".pcap") {
		if whole, err := store.WholePcapSize(f, size); err == nil {
			size = whole
		}
	}
	h := sha256.New()
	if n, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil || n != size {
		s.log.Warn("irs/api: hash", "path", rel, "read", n, "size", size, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read file")
		return
	}
	w.Header().Set(HeaderSHA256, hex.EncodeToString(h.Sum(nil)))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if _, err := io.Copy(w, io.NewSectionReader(f, 0, size)); err != nil {
		s.log.Debug("irs/api: send", "path", rel, "err", err)
	}
}

func (s *Server) parsers(w http.ResponseWriter, _ *http.Request) {
	out := map[string]bool{}
	for _, n := range s.cfg.Registry.Names() {
		out[n] = s.cfg.Registry.Enabled(n)
	}
	writeJSON(w, http.StatusOK, out)
}

// ParserState is the body of PUT /api/v1/parsers/{protocol} and its answer.
type ParserState struct {
	Protocol string `json:"protocol,omitempty"`
	Enabled  *bool  `json:"enabled"`
}

func (s *Server) setParser(w http.ResponseWriter, r *http.Request) {
	proto := chi.URLParam(r, "protocol")
	var body ParserState
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Enabled == nil {
		writeError(w, http.StatusBadRequest, `body must be {"enabled": true|false}`)
		return
	}
	if _, ok := s.cfg.Registry.Lookup(proto); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no parser for protocol %q", proto))
		return
	}
	if err := s.cfg.Registry.SetEnabled(proto, *body.Enabled); err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	s.log.Info("irs/api: parser switched", "protocol", proto, "enabled", *body.Enabled, "from", r.RemoteAddr)
	on := s.cfg.Registry.Enabled(proto)
	writeJSON(w, http.StatusOK, ParserState{Protocol: proto, Enabled: &on})
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	var v any = struct{}{}
	if s.cfg.Status != nil {
		v = s.cfg.Status()
	}
	writeJSON(w, http.StatusOK, v)
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
