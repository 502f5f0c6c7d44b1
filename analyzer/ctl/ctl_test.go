package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProtocols(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // protocol=enabled, comma separated
		wantErr  bool
	}{
		{"list", `[{"protocol":"smtp","enabled":true,"ports":[25]},{"protocol":"http","enabled":false}]`, "smtp=true,http=false", false},
		{"wrapped", `{"protocols":[{"name":"imap","enabled":true}]}`, "imap=true", false},
		{"keyed", `{"smtp":{"enabled":true},"dns":{"enabled":false}}`, "dns=false,smtp=true", false},
		{"no enabled", `[{"protocol":"smtp"}]`, "", true},
		{"no name", `[{"enabled":true}]`, "", true},
		{"scalar", `42`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Protocols(json.RawMessage(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v; want error %v", err, tc.wantErr)
			}
			var got []string
			for _, p := range ps {
				b, _ := json.Marshal(p.Enabled)
				got = append(got, p.Protocol+"="+string(b))
				if len(p.Raw) == 0 {
					t.Errorf("%s: raw entry lost", p.Protocol)
				}
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("got %v; want %s", got, tc.want)
			}
		})
	}
}

func TestHTTPClient(t *testing.T) {
	var gotAuth, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		switch {
		case r.Method == "PUT" && r.URL.Path == "/api/v1/mirror/nope":
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":"unknown protocol"}`))
		case r.Method == "PUT" && r.URL.Path == "/api/v1/mirror/smtp":
			_, _ = w.Write([]byte(`{"protocol":"smtp","enabled":false}`))
		case r.URL.Path == "/api/v1/switches":
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"error":"switch 00:01 failed barrier"}`))
		case r.URL.Path == "/api/v1/flows":
			_, _ = w.Write([]byte(`not json`))
		default:
			_, _ = w.Write([]byte(`[]`))
		}
	}))
	defer srv.Close()
	if _, err := NewHTTP("ftp://x", ""); err == nil {
		t.Errorf("NewHTTP(ftp) accepted")
	}
	c, err := NewHTTP(srv.URL+"/", "tok")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	raw, err := c.SetMirror(ctx, "smtp", false)
	if err != nil || !strings.Contains(string(raw), `"enabled":false`) {
		t.Errorf("SetMirror = %s, %v", raw, err)
	}
	if gotAuth != "Bearer tok" || gotBody != `{"enabled":false}` {
		t.Errorf("request auth %q body %q", gotAuth, gotBody)
	}
	if _, err := c.SetMirror(ctx, "nope", true); !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("SetMirror(nope) = %v; want ErrUnknownProtocol", err)
	}
	if _, err := c.Switches(ctx); err == nil || !strings.Contains(err.Error(), "switch 00:01 failed barrier") {
		t.Errorf("Switches error = %v; want the controller's message", err)
	}
	if _, err := c.Flows(ctx); err == nil {
		t.Errorf("Flows with a non-JSON answer: nil error")
	}
	if raw, err := c.Topology(ctx); err != nil || string(raw) != "[]" {
		t.Errorf("Topology = %s, %v", raw, err)
	}
}
