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

// TestL2TPLive: xl2tpd as LNS in B and as LAC with autodial in A. pppd
// cannot run without PPP in the kernel, so the control channel runs
// SCCRQ … ICCN and the session is torn down (CDN). The capture must give
// one L2TP session with the message names, both host names and the
// tunnel and session IDs each side assigned.
func TestL2TPLive(t *testing.T) {
	l := newLab(t, 63, "xl2tpd")
	opts := filepath.Join(l.dir, "options.l2tp")
	if err := os.WriteFile(opts, []byte("noauth\nnodefaultroute\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(l.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lns := write("lns.conf", fmt.Sprintf("[global]\nlisten-addr = %s\nport = 1701\n\n[lns default]\nip range = 10.69.5.100-10.69.5.110\nlocal ip = 10.69.5.1\n"+
		"length bit = yes\nrequire authentication = no\nhostname = vp-lns\npppoptfile = %s\n", l.b.addr, opts))
	lac := write("lac.conf", fmt.Sprintf("[global]\nlisten-addr = %s\nport = 1701\n\n[lac vp]\nlns = %s\nautodial = yes\nredial = no\n"+
		"length bit = yes\nhostname = vp-lac\npppoptfile = %s\n", l.a.addr, l.b.addr, opts))
	stop := l.capture("l2tp")
	l.start(l.b.ns, "xl2tpd-lns", nil, "xl2tpd", "-D", "-c", lns, "-p", filepath.Join(l.dir, "lns.pid"), "-C", filepath.Join(l.dir, "lns.control"))
	time.Sleep(300 * time.Millisecond)
	l.start(l.a.ns, "xl2tpd-lac", nil, "xl2tpd", "-D", "-c", lac, "-p", filepath.Join(l.dir, "lac.pid"), "-C", filepath.Join(l.dir, "lac.control"))
	l.waitCapture("l2tp", 30*time.Second, func(evs []*event.Event) bool {
		for _, ev := range only(evs, "l2tp") {
			m := fmt.Sprint(ev.Summary.Get("messages"))
			if strings.Contains(m, "ICCN") || strings.Contains(m, "CDN") {
				return true
			}
		}
		return false
	})
	all := pipeline(t, stop())
	ev := only(all, "l2tp")
	if len(ev) != 1 {
		t.Fatalf("got %d l2tp events, want 1:\n%s\nLAC log:\n%s", len(ev), describe(all), l.log("xl2tpd-lac"))
	}
	s := ev[0].Summary
	m := s.Get("messages").(map[string]int)
	for _, k := range []string{"SCCRQ", "SCCRP", "SCCCN", "ICRQ", "ICRP"} {
		if m[k] == 0 {
			t.Errorf("no %s in %v", k, m)
		}
	}
	want := map[string]any{"client_host": "vp-lac", "server_host": "vp-lns", "detection": "content+port", "client_vendor": "xelerance.com"}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
	for _, k := range []string{"client_tunnel_ids", "server_tunnel_ids", "client_session_ids", "server_session_ids"} {
		if l, _ := s.Get(k).([]int); len(l) == 0 {
			t.Errorf("summary[%s] = %v, want an assigned ID", k, s.Get(k))
		}
	}
}
