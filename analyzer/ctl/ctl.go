// Package ctl is the analyzer's view of the sdnli controller's HTTP API:
// the mirror policy (read and toggle), the switches, their flows and the
// topology. Answers are passed on as the controller wrote them (JSON),
// so that the analyzer shows whatever the controller reports without a
// second copy of its types; only the mirror policy is read into a
// minimal shape (protocol, enabled) for the toggles.
package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Client reaches one controller.
type Client interface {
	// Mirror returns GET /api/v1/mirror as the controller wrote it.
	Mirror(ctx context.Context) (json.RawMessage, error)
	// SetMirror turns mirroring of protocol on or off on every switch
	// (PUT /api/v1/mirror/{protocol}); it returns the controller's answer
	// once every switch confirmed.
	SetMirror(ctx context.Context, protocol string, enabled bool) (json.RawMessage, error)
	Switches(ctx context.Context) (json.RawMessage, error)
	Flows(ctx context.Context) (json.RawMessage, error)
	Topology(ctx context.Context) (json.RawMessage, error)
}

// ErrUnknownProtocol: the controller has no such protocol.
var ErrUnknownProtocol = errors.New("controller: unknown protocol")

// maxAnswer bounds what is read of one controller answer.
const maxAnswer = 32 << 20

// HTTP is a Client over the controller's HTTP API.
type HTTP struct {
	base  string
	token string
	hc    *http.Client
}

// NewHTTP returns a client of the controller at baseURL (e.g.
// http://127.0.0.1:8080) presenting token as a bearer token when not
// empty.
func NewHTTP(baseURL, token string) (*HTTP, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("controller: bad URL %q (want http://host:port)", baseURL)
	}
	// A toggle waits for every switch's barrier: give it time.
	return &HTTP{base: strings.TrimRight(baseURL, "/"), token: token, hc: &http.Client{Timeout: 60 * time.Second}}, nil
}

func (c *HTTP) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("controller: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("controller: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("controller: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("controller: %s %s: read answer: %w", method, path, err)
	}
	if len(b) > maxAnswer {
		return nil, fmt.Errorf("controller: %s %s: answer larger than %d bytes", method, path, maxAnswer)
	}
	if resp.StatusCode/100 != 2 {
		msg := errorText(b)
		if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(path, "/api/v1/mirror/") {
			return nil, fmt.Errorf("controller: %s %s: %s: %w", method, path, msg, ErrUnknownProtocol)
		}
		return nil, fmt.Errorf("controller: %s %s: HTTP %d: %s", method, path, resp.StatusCode, msg)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("controller: %s %s: answer is not JSON", method, path)
	}
	return json.RawMessage(b), nil
}

// errorText extracts {"error": "..."} or returns the start of the body.
func errorText(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// Mirror implements Client.
func (c *HTTP) Mirror(ctx context.Context) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, "/api/v1/mirror", nil)
}

// SetMirror implements Client.
func (c *HTTP) SetMirror(ctx context.Context, protocol string, enabled bool) (json.RawMessage, error) {
	return c.do(ctx, http.MethodPut, "/api/v1/mirror/"+url.PathEscape(protocol), map[string]bool{"enabled": enabled})
}

// Switches implements Client.
func (c *HTTP) Switches(ctx context.Context) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, "/api/v1/switches", nil)
}

// Flows implements Client.
func (c *HTTP) Flows(ctx context.Context) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, "/api/v1/flows", nil)
}

// Topology implements Client.
func (c *HTTP) Topology(ctx context.Context) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, "/api/v1/topology", nil)
}

// Protocol is one protocol of the mirror policy as the analyzer needs
// it; Raw keeps everything else the controller said about it (ports,
// IRS assignment).
type Protocol struct {
	Protocol string          `json:"protocol"`
	Enabled  bool            `json:"enabled"`
	Raw      json.RawMessage `json:"controller"`
}

// Protocols reads a mirror policy answer: a list of objects, an object
// holding such a list ("protocols", "mirror"), or an object keyed by
// protocol name. Each protocol object names itself as "protocol" or
// "name" (unless keyed) and has a boolean "enabled".
func Protocols(raw json.RawMessage) ([]Protocol, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("controller: mirror policy: neither a list nor an object")
		}
		for _, k := range []string{"protocols", "mirror", "policy"} {
			if v, ok := obj[k]; ok {
				return Protocols(v)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []Protocol
		for _, k := range keys {
			p, err := protocol(obj[k], k)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	out := make([]Protocol, 0, len(list))
	for _, item := range list {
		p, err := protocol(item, "")
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func protocol(raw json.RawMessage, key string) (Protocol, error) {
	var f struct {
		Protocol string `json:"protocol"`
		Name     string `json:"name"`
		Enabled  *bool  `json:"enabled"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return Protocol{}, fmt.Errorf("controller: mirror policy entry: %w", err)
	}
	p := Protocol{Protocol: f.Protocol, Raw: raw}
	if p.Protocol == "" {
		p.Protocol = f.Name
	}
	if p.Protocol == "" {
		p.Protocol = key
	}
	if p.Protocol == "" || f.Enabled == nil {
		return Protocol{}, fmt.Errorf("controller: mirror policy entry without protocol name or enabled flag")
	}
	p.Enabled = *f.Enabled
	return p, nil
}
