//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/internal/mnlab"
)

// e2eNet keeps this suite's networks apart from other suites' (names
// eXXXXs1, subnets 10.100-139.x, DPIDs 0xe2....).
var e2eNet = mnlab.Options{Letter: "e", SubnetBase: 100, DPIDBase: 0xe20000}

// mgmtLink joins the root namespace and the IRS host with a veth pair of
// their own (rootIP/30 and irsIP/30): the IRS reaches the controller's API
// and the analyzer reaches the IRS's API over it, as over a management
// network, while the mirrored traffic arrives on the switch port.
func mgmtLink(t *testing.T, n *mnlab.Network) (rootIP, irsIP string) {
	t.Helper()
	r, _ := strconv.ParseUint(ovslab.ID(1), 16, 8)
	rootIP, irsIP = fmt.Sprintf("172.30.%d.1", r), fmt.Sprintf("172.30.%d.2", r)
	a, b := n.Prefix+"mg0", n.Prefix+"mg1"
	ovslab.Must(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", fmt.Sprint(n.IRS.PID))
	t.Cleanup(func() { _, _ = ovslab.Run("ip", "link", "del", a) })
	ovslab.Must(t, "ip", "addr", "add", rootIP+"/30", "dev", a)
	ovslab.Must(t, "ip", "link", "set", a, "up")
	irs := n.Host(t, "irs")
	irs.Must("ip", "addr", "add", irsIP+"/30", "dev", b)
	irs.Must("ip", "link", "set", b, "up")
	irs.Must("ip", "link", "set", "lo", "up")
	return rootIP, irsIP
}

func TestMain(m *testing.M) { os.Exit(mnlab.Main(m)) }

// analyst is a logged-in client of the analyzer's API.
type analyst struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

// login logs name in through POST /api/v1/login, as the web UI does.
func login(t *testing.T, base, name, password string) *analyst {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &analyst{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	code, body := a.do("POST", "/api/v1/login", map[string]string{"name": name, "password": password})
	if code != http.StatusOK {
		t.Fatalf("login %s: got %d %s, want 200", name, code, body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.CSRF == "" {
		t.Fatalf("login %s: no csrf_token in %s", name, body)
	}
	a.csrf = me.CSRF
	return a
}

// with returns the same client reporting failures to t (a subtest).
func (a *analyst) with(t *testing.T) *analyst {
	c := *a
	c.t = t
	return &c
}

// do sends a request (JSON body and CSRF header when not a GET) and
// returns the status and body.
func (a *analyst) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		a.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// getJSON fetches path, requires 200 and decodes into v.
func (a *analyst) getJSON(path string, v any) {
	a.t.Helper()
	code, body := a.do("GET", path, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET %s: got %d %s, want 200", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		a.t.Fatalf("GET %s: decode: %v: %.300s", path, err, body)
	}
}

// download fetches a raw-data path and requires 200.
func (a *analyst) download(path string) []byte {
	a.t.Helper()
	code, body := a.do("GET", path, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET %s: got %d %.300s, want 200", path, code, body)
	}
	return body
}

// eventItem and event are the parts of the analyzer's answers the test reads.
type eventItem struct {
	ID       int64  `json:"id"`
	Node     string `json:"node"`
	Protocol string `json:"protocol"`
	Type     string `json:"type"`
	Subject  string `json:"subject"`
}

type artifact struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type event struct {
	eventItem
	HasPcap   bool           `json:"has_pcap"`
	Summary   map[string]any `json:"summary"`
	Artifacts []artifact     `json:"artifacts"`
}

// search runs GET /api/v1/events with the query.
func (a *analyst) search(query string) []eventItem {
	a.t.Helper()
	var res struct {
		Events []eventItem `json:"events"`
	}
	a.getJSON("/api/v1/events?limit=500&"+query, &res)
	return res.Events
}

func (a *analyst) event(id int64) event {
	a.t.Helper()
	var e event
	a.getJSON(fmt.Sprintf("/api/v1/events/%d", id), &e)
	return e
}

// ping checks the analyzer answers at all (for waiting on its start).
func ping(base string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
