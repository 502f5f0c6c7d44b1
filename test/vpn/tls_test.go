//go:build integration

package vpn

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTLSLive: OpenSSL's s_server on port 9443 and curl in two
// namespaces, TLS 1.2 (certificate in cleartext) and TLS 1.3. The
// capture must give one tls-session per connection with curl's SNI and
// ALPN, a JA3 and a JA4, the negotiated version, and for TLS 1.2 the
// server certificate's names.
func TestTLSLive(t *testing.T) {
	cases := []struct {
		name, curlFlag, version, ja4 string
		cert                         bool
	}{
		{"tls12", "--tls-max", "TLS 1.2", "t12d", true},
		{"tls13", "--tlsv1.3", "TLS 1.3", "t13d", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 65, "openssl", "curl")
			pki(t, l.dir)
			f := func(n string) string { return filepath.Join(l.dir, n) }
			stop := l.capture("tls-" + tc.name)
			l.start(l.b.ns, "s_server", nil, "openssl", "s_server", "-accept", "9443", "-cert", f("server.crt"), "-key", f("server.key"), "-www")
			waitListen(t, l, l.b.ns, ":9443")
			args := []string{"curl", "-sk", "--max-time", "10", "--resolve", "vp-server:9443:" + l.b.addr, "-o", "/dev/null"}
			if tc.curlFlag == "--tls-max" {
				args = append(args, "--tls-max", "1.2")
			} else {
				args = append(args, tc.curlFlag)
			}
			l.mustExec(l.a.ns, append(args, "https://vp-server:9443/")...)
			time.Sleep(300 * time.Millisecond)
			evs := pipeline(t, stop())
			ts := only(evs, "tls")
			if len(ts) != 1 {
				t.Fatalf("got %d tls events, want 1:\n%s", len(ts), describe(evs))
			}
			s := ts[0].Summary
			if s.Get("sni") != "vp-server" || s.Get("version") != tc.version || !strings.Contains(fmt.Sprint(s.Get("alpn")), "http/1.1") ||
				len(fmt.Sprint(s.Get("ja3_md5"))) != 32 || !strings.HasPrefix(fmt.Sprint(s.Get("ja4")), tc.ja4) {
				t.Errorf("summary %v", s)
			}
			if tc.cert != strings.Contains(fmt.Sprint(s.Get("cert_names")), "vp-server") {
				t.Errorf("cert_names %v, want them only for TLS 1.2", s.Get("cert_names"))
			}
		})
	}
}
