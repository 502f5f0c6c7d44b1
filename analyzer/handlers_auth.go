package analyzer

import (
	"context"
	_ "embed"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/auth"
)

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(openAPIDoc)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.cfg.DB.PingContext(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// meAnswer tells the UI who is logged in and the token to echo.
type meAnswer struct {
	User      auth.User `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	name := strings.TrimSpace(req.Name)
	if len(name) > 64 {
		name = name[:64]
	}
	e := audit.Entry{Actor: name, Action: audit.ActionLogin, Target: name}
	userKey, ipKey := "user:"+strings.ToLower(name), "ip:"+clientIP(r)
	if ok, wait := s.limiter.Check(userKey, ipKey); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		e.Outcome = audit.OutcomeDenied
		s.record(r, e, map[string]any{"reason": "rate limited", "retry_after_seconds": secs})
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "too many failed logins: try again in "+strconv.Itoa(secs)+" s")
		return
	}
	u, err := s.users.Authenticate(r.Context(), name, req.Password)
	if err != nil {
		if !errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, auth.ErrDisabled) {
			s.log.Error("analyzer: login", "err", err)
			writeError(w, http.StatusServiceUnavailable, "account store unavailable")
			return
		}
		s.limiter.Fail(userKey, ipKey)
		reason := "bad credentials"
		if errors.Is(err, auth.ErrDisabled) {
			reason = "account disabled"
		}
		e.Outcome = audit.OutcomeDenied
		s.record(r, e, map[string]string{"reason": reason})
		// The same answer for both: do not tell which accounts exist.
		writeError(w, http.StatusUnauthorized, "wrong user name or password")
		return
	}
	token, sess, err := s.sessions.Create(r.Context(), u, clientIP(r), r.UserAgent())
	if err != nil {
		s.log.Error("analyzer: login", "err", err)
		writeError(w, http.StatusServiceUnavailable, "session store unavailable")
		return
	}
	e.Actor, e.Role, e.Outcome = u.Name, u.Role, audit.OutcomeOK
	if err := s.mustRecord(r, e, nil); err != nil {
		// No login that the audit log does not know of.
		s.log.Error("analyzer: audit append failed", "action", e.Action, "err", err)
		_ = s.sessions.Delete(r.Context(), token)
		writeError(w, http.StatusServiceUnavailable, "audit log unavailable")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, meAnswer{User: u, CSRFToken: sess.CSRF, ExpiresAt: sess.ExpiresAt})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		if err := s.sessions.Delete(r.Context(), c.Value); err != nil {
			s.log.Error("analyzer: logout", "err", err)
		}
	}
	s.record(r, audit.Entry{Action: audit.ActionLogout, Outcome: audit.OutcomeOK}, nil)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	writeJSON(w, http.StatusOK, meAnswer{User: sess.User, CSRFToken: sess.CSRF, ExpiresAt: sess.ExpiresAt})
}
