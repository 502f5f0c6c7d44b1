// Package client is the Go client of the controller's HTTP API. IRS
// nodes use RequestMirror to have a connection they learnt about (an FTP
// data connection, a PPTP GRE call) mirrored; the analyzer uses the rest
// to show switches and toggle protocols.
//
//	c := client.New("http://127.0.0.1:8081", client.WithToken(token))
//	flow, err := c.RequestMirror(ctx, client.MirrorRequest{
//		Protocol: "ftp", Transport: "tcp",
//		A: "10.0.0.1:0", B: "10.0.0.2:50123", IdleTimeoutSeconds: 60,
//	})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sdnli/sdnli/controller/apiv1"
)

// MirrorRequest asks for a dynamic mirror (see apiv1.DynamicRequest).
type MirrorRequest = apiv1.DynamicRequest

// Client talks to one controller. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends "Authorization: Bearer token" (the controller's --api-token).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient uses hc instead of a client with a 30 s timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// New returns a client for the controller API at baseURL
// ("http://host:port").
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is an error answer of the API.
type Error struct {
	Status   int
	Message  string
	Switches []apiv1.SwitchResult
}

func (e *Error) Error() string {
	return fmt.Sprintf("controller: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// maxResponse bounds what is read of an answer.
const maxResponse = 32 << 20

func (c *Client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("controller: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, fmt.Errorf("controller: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("controller: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("controller: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e apiv1.Error
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return resp.StatusCode, &Error{Status: resp.StatusCode, Message: e.Error, Switches: e.Switches}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("controller: %s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// RequestMirror asks the controller to mirror a connection in both
// directions at every edge switch until it is idle. It returns when
// every switch confirmed the flows. Asking again for the same
// connection returns the existing flow (Created false).
func (c *Client) RequestMirror(ctx context.Context, req MirrorRequest) (*apiv1.DynamicFlow, error) {
	var out apiv1.DynamicFlow
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/mirror/dynamic", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DynamicFlows lists the live dynamic mirrors.
func (c *Client) DynamicFlows(ctx context.Context) (*apiv1.DynamicList, error) {
	var out apiv1.DynamicList
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/mirror/dynamic", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Health returns GET /healthz.
func (c *Client) Health(ctx context.Context) (*apiv1.Health, error) {
	var out apiv1.Health
	if _, err := c.do(ctx, http.MethodGet, "/healthz", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Switches lists the connected switches.
func (c *Client) Switches(ctx context.Context) ([]apiv1.Switch, error) {
	var out apiv1.SwitchList
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/switches", nil, &out); err != nil {
		return nil, err
	}
	return out.Switches, nil
}

// Mirror lists every protocol's policy.
func (c *Client) Mirror(ctx context.Context) ([]apiv1.Protocol, error) {
	var out apiv1.MirrorList
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/mirror", nil, &out); err != nil {
		return nil, err
	}
	return out.Protocols, nil
}

// SetMirror turns a protocol's mirroring on or off and returns once
// every switch confirmed. If a switch failed, the error is an *Error
// whose Switches tell which.
func (c *Client) SetMirror(ctx context.Context, protocol string, enabled bool) (*apiv1.MirrorUpdateResult, error) {
	var out apiv1.MirrorUpdateResult
	path := "/api/v1/mirror/" + url.PathEscape(protocol)
	if _, err := c.do(ctx, http.MethodPut, path, apiv1.MirrorUpdate{Enabled: &enabled}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Flows compares desired and installed flows on every switch.
func (c *Client) Flows(ctx context.Context) ([]apiv1.SwitchFlows, error) {
	var out apiv1.FlowList
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/flows", nil, &out); err != nil {
		return nil, err
	}
	return out.Switches, nil
}

// Topology returns switches, links, IRS ports and host ports.
func (c *Client) Topology(ctx context.Context) (*apiv1.Topology, error) {
	var out apiv1.Topology
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/topology", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// IsStatus reports whether err is an API answer with this status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}
