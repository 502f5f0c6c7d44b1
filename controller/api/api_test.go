package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/controller/api"
	"github.com/sdnli/sdnli/controller/apiv1"
	"github.com/sdnli/sdnli/controller/client"
)

// fake is a Backend that records calls and answers from fields.
type fake struct {
	setErr   error
	dynErr   error
	created  bool
	lastSet  string
	lastDyn  apiv1.DynamicRequest
	panicNow bool
}

func (f *fake) Health() apiv1.Health {
	return apiv1.Health{Status: "ok", Role: "master", Switches: 2}
}
func (f *fake) Switches(context.Context) apiv1.SwitchList {
	if f.panicNow {
		panic("boom")
	}
	return apiv1.SwitchList{Switches: []apiv1.Switch{{DPID: "0000000000000001", Role: "master", Ports: []apiv1.Port{{Number: 1, Kind: "host"}}}}}
}
func (f *fake) Mirror() apiv1.MirrorList {
	return apiv1.MirrorList{Protocols: []apiv1.Protocol{{Name: "smtp", Enabled: true, IRS: []string{"irs1"}}}}
}
func (f *fake) SetMirror(_ context.Context, p string, on bool, by string) (apiv1.MirrorUpdateResult, error) {
	f.lastSet = fmt.Sprintf("%s=%v by %s", p, on, by[:3])
	if f.setErr != nil {
		return apiv1.MirrorUpdateResult{}, f.setErr
	}
	return apiv1.MirrorUpdateResult{Protocol: apiv1.Protocol{Name: p, Enabled: on}, Switches: []apiv1.SwitchResult{{DPID: "0000000000000001", OK: true, Added: 4}}}, nil
}
func (f *fake) Flows(context.Context) apiv1.FlowList {
	return apiv1.FlowList{Switches: []apiv1.SwitchFlows{{DPID: "0000000000000001", Desired: []string{"priority=0 actions=NORMAL"}}}}
}
func (f *fake) AddDynamic(_ context.Context, r apiv1.DynamicRequest, _ string) (apiv1.DynamicFlow, bool, error) {
	f.lastDyn = r
	if f.dynErr != nil {
		return apiv1.DynamicFlow{}, false, f.dynErr
	}
	return apiv1.DynamicFlow{ID: 5, Protocol: r.Protocol, Created: f.created}, f.created, nil
}
func (f *fake) Dynamic() apiv1.DynamicList {
	return apiv1.DynamicList{Max: 10, Flows: []apiv1.DynamicFlow{}}
}
func (f *fake) Topology() apiv1.Topology {
	return apiv1.Topology{Switches: []apiv1.TopologySwitch{{DPID: "0000000000000001"}}}
}

func serve(t *testing.T, b api.Backend, token string) string {
	t.Helper()
	srv := httptest.NewServer(api.New(b, api.Options{Token: token}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientAgainstServer(t *testing.T) {
	f := &fake{created: true}
	c := client.New(serve(t, f, "s3cret"), client.WithToken("s3cret"))
	ctx := context.Background()

	h, err := c.Health(ctx)
	if err != nil || h.Switches != 2 || h.Status != "ok" {
		t.Errorf("Health = %+v, %v", h, err)
	}
	sws, err := c.Switches(ctx)
	if err != nil || len(sws) != 1 || sws[0].DPID != "0000000000000001" || sws[0].Ports[0].Kind != "host" {
		t.Errorf("Switches = %+v, %v", sws, err)
	}
	prs, err := c.Mirror(ctx)
	if err != nil || len(prs) != 1 || prs[0].Name != "smtp" || !prs[0].Enabled {
		t.Errorf("Mirror = %+v, %v", prs, err)
	}
	res, err := c.SetMirror(ctx, "smtp", false)
	if err != nil || res.Protocol.Enabled || res.Switches[0].Added != 4 || f.lastSet != "smtp=false by api" {
		t.Errorf("SetMirror = %+v, %v (backend saw %q)", res, err, f.lastSet)
	}
	fl, err := c.Flows(ctx)
	if err != nil || fl[0].Desired[0] != "priority=0 actions=NORMAL" {
		t.Errorf("Flows = %+v, %v", fl, err)
	}
	topo, err := c.Topology(ctx)
	if err != nil || len(topo.Switches) != 1 {
		t.Errorf("Topology = %+v, %v", topo, err)
	}
	dl, err := c.DynamicFlows(ctx)
	if err != nil || dl.Max != 10 {
		t.Errorf("DynamicFlows = %+v, %v", dl, err)
	}
	req := client.MirrorRequest{Protocol: "ftp", Transport: "tcp", A: "10.0.0.1:0", B: "10.0.0.2:50000", IdleTimeoutSeconds: 30}
	flow, err := c.RequestMirror(ctx, req)
	if err != nil || flow.ID != 5 || !flow.Created || f.lastDyn != req {
		t.Errorf("RequestMirror = %+v, %v (backend saw %+v)", flow, err, f.lastDyn)
	}
}

func TestErrorsMapToStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"unknown protocol", fmt.Errorf("x: %w", api.ErrNotFound), 404},
		{"bad request", fmt.Errorf("x: %w", api.ErrBadRequest), 400},
		{"slave", fmt.Errorf("x: %w", api.ErrSlave), 409},
		{"too many", fmt.Errorf("x: %w", api.ErrTooMany), 429},
		{"switch failed", fmt.Errorf("x: %w", &api.SwitchesError{Results: []apiv1.SwitchResult{{DPID: "0000000000000002", Error: "barrier: timeout"}}}), 502},
		{"anything else", errors.New("disk on fire"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client.New(serve(t, &fake{setErr: tc.err, dynErr: tc.err}, ""))
			_, err := c.SetMirror(context.Background(), "smtp", true)
			if !client.IsStatus(err, tc.want) {
				t.Fatalf("SetMirror error %v; want status %d", err, tc.want)
			}
			var ae *client.Error
			errors.As(err, &ae)
			if tc.want == 502 && (len(ae.Switches) != 1 || !strings.Contains(ae.Message, "switch 0000000000000002: barrier: timeout")) {
				t.Errorf("502 answer %+v; want the failing switch named", ae)
			}
			if _, err := c.RequestMirror(context.Background(), client.MirrorRequest{}); !client.IsStatus(err, tc.want) {
				t.Errorf("RequestMirror error %v; want status %d", err, tc.want)
			}
		})
	}
}

func TestRawRequests(t *testing.T) {
	base := serve(t, &fake{}, "tok")
	tests := []struct {
		name, method, path, auth, body string
		want                           int
		wantBody                       string
	}{
		{"healthz needs no token", "GET", "/healthz", "", "", 200, `"status": "ok"`},
		{"api needs the token", "GET", "/api/v1/switches", "", "", 401, "bearer token"},
		{"wrong token", "GET", "/api/v1/switches", "Bearer nope", "", 401, "bearer token"},
		{"right token", "GET", "/api/v1/switches", "Bearer tok", "", 200, `"dpid": "0000000000000001"`},
		{"put without enabled", "PUT", "/api/v1/mirror/smtp", "Bearer tok", `{}`, 400, `needs \"enabled\"`},
		{"put with unknown field", "PUT", "/api/v1/mirror/smtp", "Bearer tok", `{"enabled":true,"x":1}`, 400, "unknown field"},
		{"put not json", "PUT", "/api/v1/mirror/smtp", "Bearer tok", `on`, 400, "body"},
		{"post dynamic existing", "POST", "/api/v1/mirror/dynamic", "Bearer tok", `{"protocol":"ftp","transport":"tcp","a":"1.2.3.4:0","b":"1.2.3.5:1"}`, 200, `"created": false`},
		{"no such endpoint", "GET", "/api/v1/nothing", "Bearer tok", "", 404, "no such endpoint"},
		{"wrong method", "DELETE", "/api/v1/mirror", "Bearer tok", "", 405, "method not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || !strings.Contains(string(b), tc.wantBody) {
				t.Errorf("%s %s = %d %s; want %d with %q", tc.method, tc.path, resp.StatusCode, b, tc.want, tc.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q; want application/json", ct)
			}
		})
	}
}

func TestHandlerPanicIsA500(t *testing.T) {
	c := client.New(serve(t, &fake{panicNow: true}, ""))
	if _, err := c.Switches(context.Background()); !client.IsStatus(err, 500) {
		t.Errorf("error %v; want 500", err)
	}
}
