//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/testdb"
)

// TestAnalyzerCommand starts `sdnli analyzer` on a free port, logs in
// with an account made by `sdnli user add`, and stops it.
func TestAnalyzerCommand(t *testing.T) {
	_, dsn := testdb.Shared(t)
	if code, out, errs := runWithStdin(t, "correct horse battery\n", "user", "add", "--db", dsn, "--name", "root", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- runAnalyzer(ctx, []string{"--listen", addr, "--db", dsn, "--controller", "http://127.0.0.1:1", "--irs-token", "t", "--log-level", "warn"}, &bytes.Buffer{}, &stderr)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("analyzer did not come up on %s: %v (%s)", addr, err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Post(base+"/api/v1/login", "application/json", strings.NewReader(`{"name":"root","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		User struct{ Role string } `json:"user"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != 200 || me.User.Role != "admin" {
		t.Errorf("login: %d %+v", resp.StatusCode, me)
	}
	// The controller flag is wired: it is unreachable here, hence 502.
	resp, err = hc.Get(base + "/api/v1/mirror")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("GET /mirror with the controller down: %d; want 502", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("analyzer returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("analyzer did not stop")
	}
}

func TestAnalyzerFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analyzer"}, "--db is required"},
		{[]string{"analyzer", "--db", "x@tcp(127.0.0.1:1)/x", "--tls-cert", "c.pem"}, "go together"},
		{[]string{"analyzer", "--db", "x@tcp(127.0.0.1:1)/x", "--irs-token", "t", "--controller", "ftp://x"}, ""},
	} {
		code, out, errs := runWithStdin(t, "", tc.args...)
		if tc.want != "" && (code != 2 || !strings.Contains(errs, tc.want)) {
			t.Errorf("%v: exit %d, %q %q; want exit 2 and %q", tc.args, code, out, errs, tc.want)
		}
		if tc.want == "" && code == 0 {
			t.Errorf("%v: exit 0; want a failure", tc.args)
		}
	}
}
