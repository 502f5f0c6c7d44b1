package analyzer

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/auth"
)

// route is one API route: who may call it and what answers it.
type route struct {
	method, pattern string
	// public routes need no session; the others need one whose role is
	// in roles (nil: any role).
	public bool
	roles  []string
	h      http.HandlerFunc
}

var (
	adminOnly   = []string{auth.RoleAdmin}
	analysts    = []string{auth.RoleAdmin, auth.RoleAnalyst}
	auditors    = []string{auth.RoleAdmin, auth.RoleAuditor}
	anyLoggedIn []string
)

// routeTable is the single list of API routes. The OpenAPI document
// (openapi.json) must describe exactly these; a test checks it.
func (s *Server) routeTable() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/openapi.json", public: true, h: s.openAPI},
		{method: "GET", pattern: "/api/v1/health", public: true, h: s.health},
		{method: "POST", pattern: "/api/v1/login", public: true, h: s.login},
		{method: "POST", pattern: "/api/v1/logout", roles: anyLoggedIn, h: s.logout},
		{method: "GET", pattern: "/api/v1/me", roles: anyLoggedIn, h: s.me},

		{method: "GET", pattern: "/api/v1/events", roles: analysts, h: s.searchEvents},
		{method: "GET", pattern: "/api/v1/events/{id}", roles: analysts, h: s.getEvent},
		{method: "GET", pattern: "/api/v1/events/{id}/email", roles: analysts, h: s.getEmail},
		{method: "GET", pattern: "/api/v1/events/{id}/pcap", roles: analysts, h: s.downloadPcap},
		{method: "GET", pattern: "/api/v1/artifacts/{id}", roles: analysts, h: s.downloadArtifact},

		{method: "GET", pattern: "/api/v1/mirror", roles: adminOnly, h: s.getMirror},
		{method: "PUT", pattern: "/api/v1/mirror/{protocol}", roles: adminOnly, h: s.setMirror},
		{method: "GET", pattern: "/api/v1/nodes", roles: adminOnly, h: s.nodes},
		{method: "GET", pattern: "/api/v1/switches", roles: adminOnly, h: s.controllerPass("switches")},
		{method: "GET", pattern: "/api/v1/flows", roles: adminOnly, h: s.controllerPass("flows")},
		{method: "GET", pattern: "/api/v1/topology", roles: adminOnly, h: s.controllerPass("topology")},

		{method: "GET", pattern: "/api/v1/users", roles: adminOnly, h: s.listUsers},
		{method: "POST", pattern: "/api/v1/users", roles: adminOnly, h: s.createUser},
		{method: "PATCH", pattern: "/api/v1/users/{name}", roles: adminOnly, h: s.updateUser},

		{method: "GET", pattern: "/api/v1/audit", roles: auditors, h: s.listAudit},
		{method: "GET", pattern: "/api/v1/audit/verify", roles: auditors, h: s.verifyAudit},
	}
}

// RouteInfo describes a route for documentation and tests.
type RouteInfo struct {
	Method, Pattern string
	Public          bool
	Roles           []string // nil with !Public: any logged-in user
}

// Routes lists the API routes.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{Method: r.method, Pattern: r.pattern, Public: r.public, Roles: slices.Clone(r.roles)}
	}
	return out
}

type ctxKey int

const sessionKey ctxKey = 1

// sessionOf returns the request's session, nil when not logged in.
func sessionOf(r *http.Request) *auth.Session {
	s, _ := r.Context().Value(sessionKey).(*auth.Session)
	return s
}

// CookieName is the session cookie.
const CookieName = "sdnli_session"

// HeaderCSRF carries the anti-CSRF token on state-changing requests.
const HeaderCSRF = "X-CSRF-Token"

// loadSession attaches the session of the cookie, if valid, to API
// requests.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			sess, err := s.sessions.Lookup(r.Context(), c.Value)
			switch {
			case err == nil:
				r = r.WithContext(context.WithValue(r.Context(), sessionKey, sess))
			case !errors.Is(err, auth.ErrNoSession):
				s.log.Error("analyzer: session lookup", "err", err)
				writeError(w, http.StatusServiceUnavailable, "session store unavailable")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// guard enforces a route's access rule and the CSRF rules.
func (s *Server) guard(rt route) http.Handler {
	safe := rt.method == http.MethodGet || rt.method == http.MethodHead
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !safe && crossSite(r) {
			writeError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		if rt.public {
			if !safe && !isJSON(r) {
				writeError(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
				return
			}
			rt.h(w, r)
			return
		}
		sess := sessionOf(r)
		if sess == nil {
			writeError(w, http.StatusUnauthorized, "log in first")
			return
		}
		if rt.roles != nil && !slices.Contains(rt.roles, sess.User.Role) {
			s.record(r, audit.Entry{Action: "access", Target: rt.method + " " + r.URL.Path, Outcome: audit.OutcomeDenied},
				map[string]string{"reason": "role " + sess.User.Role + " may not use this route"})
			writeError(w, http.StatusForbidden, "your role may not do this")
			return
		}
		if !safe {
			got := r.Header.Get(HeaderCSRF)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
				writeError(w, http.StatusForbidden, "missing or wrong "+HeaderCSRF+" header")
				return
			}
		}
		rt.h(w, r)
	})
}

// crossSite reports a request a browser marked as coming from another
// site, or whose Origin is not this host.
func crossSite(r *http.Request) bool {
	if v := r.Header.Get("Sec-Fetch-Site"); v == "cross-site" || v == "same-site" {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

func isJSON(r *http.Request) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	return ct == "application/json"
}

// clientIP is the address the request came from. The analyzer does not
// trust forwarding headers: put it behind no proxy, or make the proxy
// keep the connection's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// record appends to the audit log with the request's actor and address.
// A failed append is logged: the audit log is the service's memory, so
// callers that must not proceed without it use mustRecord.
func (s *Server) record(r *http.Request, e audit.Entry, detail any) {
	if err := s.mustRecord(r, e, detail); err != nil {
		s.log.Error("analyzer: audit append failed", "action", e.Action, "err", err)
	}
}

func (s *Server) mustRecord(r *http.Request, e audit.Entry, detail any) error {
	if sess := sessionOf(r); sess != nil && e.Actor == "" {
		e.Actor, e.Role = sess.User.Name, sess.User.Role
	}
	e.ClientIP = clientIP(r)
	_, err := s.audit.Append(r.Context(), e, detail)
	return err
}

// securityHeaders sets the headers every answer carries. The policy
// allows scripts, styles and images from this origin only, no inline
// script or style, no framing, no plugins.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// CSP is the Content-Security-Policy of every answer.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// notFound answers API paths with a JSON 404 and serves the UI's files
// for the rest.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, http.StatusNotFound, "no such route")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") && r.URL.Path != "/" {
		http.NotFound(w, r) // no directory listings
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	s.static.ServeHTTP(w, r)
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// readJSON decodes a bounded JSON body into v, refusing unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if !isJSON(r) {
		writeError(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}
