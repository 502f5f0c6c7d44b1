//go:build integration

package vpn

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
)

// TestPPTPLive: pptpd in B and the pptp client in A. Without PPP in the
// kernel pppd fails, so only the control channel runs: start-control-
// connection and outgoing-call with their call IDs, then the teardown.
// The capture must give one PPTP session with both call IDs, the host
// and vendor names, and the results.
func TestPPTPLive(t *testing.T) {
	l := newLab(t, 62, "pptpd", "pptp")
	conf := filepath.Join(l.dir, "pptpd.conf")
	opts := filepath.Join(l.dir, "pptpd-options")
	if err := os.WriteFile(opts, []byte("name vp-pptpd\nnodefaultroute\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("option %s\nlocalip 10.69.4.1\nremoteip 10.69.4.100-110\n", opts)), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := l.capture("pptp")
	l.start(l.b.ns, "pptpd", nil, "pptpd", "-f", "-c", conf, "-o", opts, "-l", l.b.addr, "-p", filepath.Join(l.dir, "pptpd.pid"))
	waitListen(t, l, l.b.ns, ":1723")
	l.start(l.a.ns, "pptp", nil, "pptp", l.b.addr, "--nolaunchpppd", "--phone", "5550123", "--nohostroute")
	// The client logs to syslog, which does not exist here: watch the
	// capture for the call's reply instead.
	l.waitCapture("pptp", 20*time.Second, func(evs []*event.Event) bool {
		for _, ev := range only(evs, "pptp") {
			if strings.Contains(fmt.Sprint(ev.Summary.Get("messages")), "Outgoing-Call-Reply") {
				return true
			}
		}
		return false
	})
	all := pipeline(t, stop())
	pp := only(all, "pptp")
	if len(pp) == 0 {
		t.Fatalf("no pptp event:\n%s\npptp client log:\n%s", describe(all), l.log("pptp"))
	}
	var ev = pp[0]
	for _, e := range pp {
		if e.Transport == "tcp" {
			ev = e
		}
	}
	s := ev.Summary
	msgs := fmt.Sprint(s.Get("messages"))
	for _, m := range []string{"Start-Control-Connection-Request", "Start-Control-Connection-Reply", "Outgoing-Call-Request", "Outgoing-Call-Reply"} {
		if !strings.Contains(msgs, m) {
			t.Errorf("messages %s lack %s", msgs, m)
		}
	}
	if s.Get("detection") != "content+port" || s.Get("phone_number") != "5550123" || fmt.Sprint(s.Get("call_ids")) == "<nil>" || s.Get("server_host") == nil {
		t.Errorf("summary %v", s)
	}
	if ev.Server.String() != l.b.addr+":1723" {
		t.Errorf("server %s", ev.Server)
	}
}

// waitListen waits until something listens on addr (":1723") in ns.
func waitListen(t *testing.T, l *lab, ns, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := l.exec(ns, "ss", "-lntu")
		if strings.Contains(out, addr+" ") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s in %s", addr, ns)
}
