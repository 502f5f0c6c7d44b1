package analyzer

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/auth"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.users.List(r.Context())
	if err != nil {
		s.log.Error("analyzer: list users", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot list users")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

type createUserRequest struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// userErrorCode maps account errors to answers.
func userErrorCode(err error) (int, string) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{auth.ErrExists, http.StatusConflict},
		{auth.ErrNotFound, http.StatusNotFound},
		{auth.ErrLastAdmin, http.StatusConflict},
		{auth.ErrBadName, http.StatusBadRequest},
		{auth.ErrBadRole, http.StatusBadRequest},
		{auth.ErrWeakPassword, http.StatusBadRequest},
	} {
		if errors.Is(err, c.err) {
			return c.code, err.Error()
		}
	}
	return http.StatusInternalServerError, "account store error"
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if !readJSON(w, r, &req) {
		return
	}
	e := audit.Entry{Action: audit.ActionUserCreate, Target: req.Name}
	u, err := s.users.Create(r.Context(), req.Name, req.Role, req.Password)
	if err != nil {
		code, msg := userErrorCode(err)
		if code == http.StatusInternalServerError {
			s.log.Error("analyzer: create user", "err", err)
		}
		e.Outcome = audit.OutcomeFailure
		s.record(r, e, map[string]string{"role": req.Role, "error": msg})
		writeError(w, code, msg)
		return
	}
	e.Outcome = audit.OutcomeOK
	s.record(r, e, map[string]string{"role": u.Role})
	writeJSON(w, http.StatusCreated, u)
}

type updateUserRequest struct {
	Role     *string `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
	Password *string `json:"password,omitempty"`
}

// updateUser changes a user's role, password or disabled flag; any change
// ends the user's sessions, so that it takes effect at once.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	var req updateUserRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Role == nil && req.Disabled == nil && req.Password == nil {
		writeError(w, http.StatusBadRequest, "nothing to change: give role, disabled or password")
		return
	}
	e := audit.Entry{Action: audit.ActionUserUpdate, Target: name}
	changed := map[string]any{}
	fail := func(err error) {
		code, msg := userErrorCode(err)
		if code == http.StatusInternalServerError {
			s.log.Error("analyzer: update user", "err", err)
		}
		e.Outcome = audit.OutcomeFailure
		changed["error"] = msg
		s.record(r, e, changed)
		writeError(w, code, msg)
	}
	ctx := r.Context()
	if req.Password != nil {
		if err := s.users.SetPassword(ctx, name, *req.Password); err != nil {
			fail(err)
			return
		}
		changed["password"] = "changed"
	}
	if req.Role != nil {
		if err := s.users.SetRole(ctx, name, *req.Role); err != nil {
			fail(err)
			return
		}
		changed["role"] = *req.Role
	}
	if req.Disabled != nil {
		if err := s.users.SetDisabled(ctx, name, *req.Disabled); err != nil {
			fail(err)
			return
		}
		changed["disabled"] = *req.Disabled
	}
	u, err := s.users.Get(ctx, name)
	if err != nil {
		fail(err)
		return
	}
	if err := s.sessions.DeleteUser(ctx, u.ID); err != nil {
		s.log.Error("analyzer: end sessions", "user", u.Name, "err", err)
	}
	e.Outcome = audit.OutcomeOK
	s.record(r, e, changed)
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f := audit.Filter{Actor: v.Get("actor"), Action: v.Get("action"), Outcome: v.Get("outcome")}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := v.Get(tf.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				writeError(w, http.StatusBadRequest, tf.name+": want RFC 3339, e.g. 2024-05-01T10:00:00Z")
				return
			}
			*tf.dst = t
		}
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "before: want a sequence number")
			return
		}
		f.Before = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit: want 1 to 1000")
			return
		}
		f.Limit = n
	}
	p, err := s.audit.List(r.Context(), f)
	if err != nil {
		s.log.Error("analyzer: audit list", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read the audit log")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	v, err := s.audit.Verify(r.Context())
	if err != nil {
		s.log.Error("analyzer: audit verify", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read the audit log")
		return
	}
	outcome := audit.OutcomeOK
	if !v.OK {
		outcome = audit.OutcomeFailure
	}
	s.record(r, audit.Entry{Action: audit.ActionAuditVerify, Target: "audit", Outcome: outcome}, v)
	writeJSON(w, http.StatusOK, v)
}
