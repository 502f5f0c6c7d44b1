package api

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
)

// Errors a Client returns, to be told apart with errors.Is.
var (
	// ErrNotFound: the node has no such file or no such parser.
	ErrNotFound = errors.New("not found on the IRS node")
	// ErrUnauthorized: the node refused the token.
	ErrUnauthorized = errors.New("IRS node refused the API token")
)

// Client talks to the API of IRS nodes. One Client serves every node:
// the base URL is given per call (irs_nodes.api_url).
type Client struct {
	Token string
	// HTTP is the client used; nil means one with a 10 s header timeout
	// and no overall timeout (raw files may be large).
	HTTP *http.Client
}

// NewClient returns a Client with the given token.
func NewClient(token string) *Client {
	return &Client{Token: token, HTTP: &http.Client{Transport: &http.Transport{
		Proxy:                 nil, // nodes are on the operator's network
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}}}
}

// RawFile is a file being received from a node. Close it.
type RawFile struct {
	Body io.ReadCloser
	// Size is the announced length (-1 if the node did not say).
	Size int64
	// SHA256 is the hash the node computed over the bytes it sends.
	SHA256 string
}

func (c *Client) do(ctx context.Context, method, base, path string, query url.Values, body any) (*http.Response, error) {
	u, err := url.Parse(strings.TrimRight(base, "/") + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("irs/api: bad node API URL %q", base)
	}
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("irs/api: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("irs/api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("irs/api: %s %s: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var e Error
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&e)
	msg := fmt.Sprintf("%s %s: HTTP %d", method, u.Path, resp.StatusCode)
	if e.Error != "" {
		msg += ": " + e.Error
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return nil, fmt.Errorf("irs/api: %s: %w", msg, ErrNotFound)
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("irs/api: %s: %w", msg, ErrUnauthorized)
	}
	return nil, fmt.Errorf("irs/api: %s", msg)
}

// Raw opens the file rel (relative to the node's data directory) on the
// node at base.
func (c *Client) Raw(ctx context.Context, base, rel string) (*RawFile, error) {
	resp, err := c.do(ctx, http.MethodGet, base, "/api/v1/raw", url.Values{"path": {rel}}, nil)
	if err != nil {
		return nil, err
	}
	return &RawFile{Body: resp.Body, Size: resp.ContentLength, SHA256: resp.Header.Get(HeaderSHA256)}, nil
}

// Parsers returns which parsers the node has and whether each is on.
func (c *Client) Parsers(ctx context.Context, base string) (map[string]bool, error) {
	resp, err := c.do(ctx, http.MethodGet, base, "/api/v1/parsers", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]bool{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("irs/api: decode parsers: %w", err)
	}
	return out, nil
}

// SetParser switches the node's parser for protocol on or off. A node
// without that parser answers ErrNotFound.
func (c *Client) SetParser(ctx context.Context, base, protocol string, enabled bool) error {
	resp, err := c.do(ctx, http.MethodPut, base, "/api/v1/parsers/"+url.PathEscape(protocol), nil, ParserState{Enabled: &enabled})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var st ParserState
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&st); err != nil {
		return fmt.Errorf("irs/api: decode parser state: %w", err)
	}
	if st.Enabled == nil || *st.Enabled != enabled {
		return fmt.Errorf("irs/api: parser %s did not switch to enabled=%v", protocol, enabled)
	}
	return nil
}
