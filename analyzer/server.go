// Package analyzer is the sdnli analysis service: a JSON API under
// /api/v1 (described by the OpenAPI document at /api/v1/openapi.json)
// and the web UI of package web, for three kinds of user:
//
//   - analysts search the events the IRS nodes recorded (by email
//     address, IP address, protocol, type, time, subject), open an event,
//     read the restored email and download the evidence (the .eml, the
//     attachments, the session pcap), fetched from the IRS node that
//     keeps it and checked against its SHA-256 on the way;
//   - administrators turn mirroring of each protocol on and off (on
//     every switch through the controller, and the matching parser on
//     every IRS node), watch the IRS nodes and switches, manage accounts;
//   - auditors read the audit log and verify its hash chain.
//
// Every route is declared once, in the table of routes.go, with the
// roles that may call it; the router, the authorization checks and the
// tests are all driven by that table.
//
// Sessions are cookies (HttpOnly, SameSite=Strict, Secure under TLS).
// Every state-changing request must also carry the session's anti-CSRF
// token in the X-CSRF-Token header; login, which has no session yet,
// must be JSON from the same origin. Failed logins are limited per user
// name and per client address.
package analyzer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/auth"
	"github.com/sdnli/sdnli/analyzer/events"
	"github.com/sdnli/sdnli/controller/apiv1"
	irsapi "github.com/sdnli/sdnli/irs/api"
	"github.com/sdnli/sdnli/web"
)

// Config configures a Server.
type Config struct {
	DB *sql.DB // the sdnli database, migrated (required)
	// Controller reaches the controller (a *client.Client of package
	// controller/client); nil answers 503 on the mirror and switch routes.
	Controller Controller
	// IRSToken is the bearer token of the IRS nodes' API.
	IRSToken string
	// SecureCookies marks the session cookie Secure (set it under TLS).
	SecureCookies bool
	// BcryptCost of new password hashes (0: auth.DefaultCost).
	BcryptCost int
	// LoginFailures failed logins per LoginWindow are allowed per user
	// name and per client address (defaults 5 per minute).
	LoginFailures int
	LoginWindow   time.Duration
	// NodeStale is the heartbeat age after which an IRS node is not asked
	// to switch parsers (default 2 minutes).
	NodeStale time.Duration
	// MaxEmailBytes bounds the .eml read to show an email (default 64 MiB).
	MaxEmailBytes int64
	// UI is the web UI's file tree (default web.FS()).
	UI     fs.FS
	Logger *slog.Logger
}

// Controller is what the analyzer asks of the controller; the controller's
// Go client (controller/client) implements it.
type Controller interface {
	Mirror(ctx context.Context) ([]apiv1.Protocol, error)
	SetMirror(ctx context.Context, protocol string, enabled bool) (*apiv1.MirrorUpdateResult, error)
	Switches(ctx context.Context) ([]apiv1.Switch, error)
	Flows(ctx context.Context) ([]apiv1.SwitchFlows, error)
	Topology(ctx context.Context) (*apiv1.Topology, error)
}

// Server is the analyzer. It is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	users    *auth.Users
	sessions *auth.Sessions
	limiter  *auth.Limiter
	audit    *audit.Log
	events   *events.DB
	irs      *irsapi.Client
	routes   []route
	router   chi.Router
	static   http.Handler
}

// New builds the service over a migrated database.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("analyzer: no database")
	}
	if cfg.LoginFailures <= 0 {
		cfg.LoginFailures = 5
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = time.Minute
	}
	if cfg.NodeStale <= 0 {
		cfg.NodeStale = 2 * time.Minute
	}
	if cfg.MaxEmailBytes <= 0 {
		cfg.MaxEmailBytes = 64 << 20
	}
	if cfg.UI == nil {
		cfg.UI = web.FS()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		users:    auth.NewUsers(cfg.DB, cfg.BcryptCost),
		sessions: auth.NewSessions(cfg.DB),
		limiter:  auth.NewLimiter(cfg.LoginFailures, cfg.LoginWindow),
		audit:    audit.New(cfg.DB),
		events:   events.New(cfg.DB),
		irs:      irsapi.NewClient(cfg.IRSToken),
	}
	s.routes = s.routeTable()
	r := chi.NewRouter()
	r.Use(s.recoverer, securityHeaders, s.loadSession)
	for _, rt := range s.routes {
		r.Method(rt.method, rt.pattern, s.guard(rt))
	}
	r.NotFound(s.notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	s.router = r
	s.static = http.FileServerFS(cfg.UI)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// PurgeSessions removes expired sessions every interval until ctx ends.
func (s *Server) PurgeSessions(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.sessions.Purge(ctx); err != nil {
				s.log.Warn("analyzer: purge sessions", "err", err)
			} else if n > 0 {
				s.log.Debug("analyzer: purged sessions", "count", n)
			}
		}
	}
}

// Users returns the account store (for `sdnli user`).
func (s *Server) Users() *auth.Users { return s.users }

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("analyzer: handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
