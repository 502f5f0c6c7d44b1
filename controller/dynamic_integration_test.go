//go:build integration

package controller_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/client"
)

// TestLiveDynamic: with only FTP control mirrored, a data connection
// (h1 -> h2:5000) is not copied until the IRS asks for it; then both
// directions are, and when it stays idle past its idle_timeout the
// switch removes the flows and the controller forgets the request.
func TestLiveDynamic(t *testing.T) {
	b := newOneBridge(t, `"ftp": {"enabled": true}`)
	k := start(t, "127.0.0.1:0", b.cfg, nil)
	b.br.SetController("tcp:" + k.OFAddr)
	k.installed(t, 1)
	ctx := context.Background()

	// A TCP sink on h2:5000, accepting any number of connections.
	sink := exec.Command("ip", "netns", "exec", b.h2.NS, "socat", "-u", "TCP-LISTEN:5000,reuseaddr,fork", "OPEN:/dev/null")
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Process.Kill(); sink.Wait() })
	send := func() {
		t.Helper()
		var err error
		for i := 0; i < 50; i++ { // until the sink listens
			if _, err = b.h1.Run("bash", "-c", "echo data | socat -u - TCP:"+b.h2.Addr+":5000"); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("connection to the sink: %v", err)
	}

	c := b.ir.Capture()
	send()
	c.Stop()
	if got := c.Count("tcp port 5000"); got != 0 {
		t.Fatalf("%d packets of the data connection copied before the request; want 0", got)
	}

	req := client.MirrorRequest{Protocol: "ftp", Transport: "tcp", A: b.h1.Addr + ":0", B: b.h2.Addr + ":5000", IdleTimeoutSeconds: 2}
	flow, err := k.API.RequestMirror(ctx, req)
	if err != nil {
		t.Fatalf("RequestMirror: %v", err)
	}
	if !flow.Created || len(flow.Switches) != 1 || !flow.Switches[0].OK || flow.Switches[0].Added != 2 {
		t.Errorf("answer %+v; want a new flow confirmed with 2 flows on the switch", flow)
	}
	if !strings.HasPrefix(flow.Cookie, "0x5d030002") {
		t.Errorf("cookie %s; want kind 3 (dynamic) and protocol 2 (ftp)", flow.Cookie)
	}
	dyn := 0
	for _, l := range b.br.Flows() {
		if strings.Contains(l, "idle_timeout=2") && strings.Contains(l, "priority=300") {
			dyn++
		}
	}
	if dyn != 2 {
		t.Errorf("%d dynamic flows on the switch; want 2 (both directions)\n%s", dyn, strings.Join(b.br.Flows(), "\n"))
	}
	again, err := k.API.RequestMirror(ctx, client.MirrorRequest{Protocol: "ftp", Transport: "tcp", A: b.h2.Addr + ":5000", B: b.h1.Addr, IdleTimeoutSeconds: 2})
	if err != nil || again.Created || again.ID != flow.ID {
		t.Errorf("the same connection asked again: %+v, %v; want the existing flow %d", again, err, flow.ID)
	}

	c = b.ir.Capture()
	send()
	c.Stop()
	toServer := c.Count(fmt.Sprintf("tcp and src %s and dst port 5000", b.h1.Addr))
	toClient := c.Count(fmt.Sprintf("tcp and src %s and src port 5000", b.h2.Addr))
	if toServer < 3 || toClient < 2 {
		t.Errorf("copies of the data connection: %d to the server, %d back; want the whole exchange", toServer, toClient)
	}

	waitFor(t, 15*time.Second, "the dynamic flows to expire on the switch and be forgotten", func() bool {
		for _, l := range b.br.Flows() {
			if strings.Contains(l, "priority=300") {
				return false
			}
		}
		l, err := k.API.DynamicFlows(ctx)
		return err == nil && len(l.Flows) == 0
	})
	// The periodic check must not bring them back.
	time.Sleep(2500 * time.Millisecond)
	for _, l := range b.br.Flows() {
		if strings.Contains(l, "priority=300") {
			t.Errorf("expired dynamic flow reinstalled: %s", l)
		}
	}

	t.Run("bad requests", func(t *testing.T) {
		for _, r := range []client.MirrorRequest{
			{Protocol: "ftp", Transport: "tcp", A: "nonsense", B: b.h2.Addr},
			{Protocol: "nope", Transport: "tcp", A: b.h1.Addr, B: b.h2.Addr},
			{Protocol: "pptp", Transport: "gre", A: b.h1.Addr + ":5", B: b.h2.Addr},
		} {
			if _, err := k.API.RequestMirror(ctx, r); !client.IsStatus(err, 400) {
				t.Errorf("request %+v: %v; want 400", r, err)
			}
		}
	})
}
