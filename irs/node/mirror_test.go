package node

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/irs/parser"
)

// A parser's request reaches a real controller (its API, no switches
// connected) as a dynamic mirror, and a bad one is counted as failed
// without stopping the forwarder.
func TestMirrorForwarderReachesController(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctl, err := controller.New(context.Background(), controller.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ctl.Handler("s3cret"))
	defer srv.Close()

	f := newMirrorForwarder(srv.URL, "s3cret", quiet)
	f.request(parser.MirrorRequest{
		Protocol: "ftp", Transport: parser.TCP,
		A:           netip.MustParseAddrPort("10.0.0.1:0"),
		B:           netip.MustParseAddrPort("10.0.0.2:40123"),
		IdleTimeout: 30 * time.Second, Reason: "ftp-data PASV 227",
	})
	f.request(parser.MirrorRequest{Protocol: "no-such-protocol", Transport: parser.TCP,
		A: netip.MustParseAddrPort("10.0.0.1:1"), B: netip.MustParseAddrPort("10.0.0.2:2")})
	f.close()

	if st := f.stats(); st.Sent != 1 || st.Failed != 1 || st.Dropped != 0 {
		t.Errorf("stats = %+v, want 1 sent, 1 failed", st)
	}
	list, err := client.New(srv.URL, client.WithToken("s3cret")).DynamicFlows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range list.Flows {
		if d.Protocol == "ftp" && d.B == "10.0.0.2:40123" {
			found = true
		}
	}
	if !found {
		t.Errorf("the controller lists no dynamic flow for 10.0.0.2:40123: %+v", list)
	}
}
