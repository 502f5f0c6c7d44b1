//go:build integration

package vpn

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenVPNLive: OpenVPN 2.6 in TLS mode (--dev-type tun
// --disable-dco, point-to-point) between two namespaces, over UDP on
// port 40443 with tls-crypt, over TCP on port 8443 and over UDP on the
// DNS port 53 without HMAC; a
// ping through each tunnel. Each capture must give one OpenVPN session
// with the right transport and control-channel protection, detected by
// content (neither port is OpenVPN's).
func TestOpenVPNLive(t *testing.T) {
	cases := []struct {
		name, proto, port string
		tlsCrypt          bool
		wantTransport     string
		wantChannel       string
	}{
		{"udp-tls-crypt", "udp", "40443", true, "udp", "tls-crypt"},
		{"tcp-plain", "tcp", "8443", false, "tcp", "none"},
		{"udp-dns-port", "udp", "53", false, "udp", "none"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 61, "openvpn", "ping")
			pki(t, l.dir)
			f := func(n string) string { return filepath.Join(l.dir, n) }
			common := []string{"openvpn", "--dev", "vpt" + fmt.Sprint(i), "--dev-type", "tun", "--disable-dco", "--ca", f("ca.crt"),
				"--dh", "none", "--verb", "3", "--ping", "2", "--data-ciphers", "AES-256-GCM", "--persist-tun"}
			if tc.tlsCrypt {
				run(t, "openvpn", "--genkey", "tls-crypt", f("tc.key"))
				common = append(common, "--tls-crypt", f("tc.key"))
			}
			srvProto, cliProto := tc.proto, tc.proto
			if tc.proto == "tcp" {
				srvProto, cliProto = "tcp-server", "tcp-client"
			}
			stop := l.capture("openvpn-" + tc.name)
			l.start(l.b.ns, "openvpn-server", nil, append(common, "--tls-server", "--proto", srvProto, "--lport", tc.port,
				"--cert", f("server.crt"), "--key", f("server.key"), "--ifconfig", "10.69.2.1", "10.69.2.2")...)
			time.Sleep(500 * time.Millisecond)
			l.start(l.a.ns, "openvpn-client", nil, append(common, "--tls-client", "--proto", cliProto, "--remote", l.b.addr, tc.port,
				"--nobind", "--remote-cert-tls", "server", "--cert", f("client.crt"), "--key", f("client.key"),
				"--ifconfig", "10.69.2.2", "10.69.2.1")...)
			l.waitLog("openvpn-client", "Initialization Sequence Completed", 30*time.Second)
			if out, err := l.exec(l.a.ns, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.69.2.1"); err != nil {
				t.Fatalf("ping through the tunnel: %v\n%s\nserver:\n%s", err, out, l.log("openvpn-server"))
			}
			evs := pipeline(t, stop())
			ov := only(evs, "openvpn")
			if len(ov) != 1 {
				t.Fatalf("got %d openvpn events, want 1:\n%s", len(ov), describe(evs))
			}
			ev := ov[0]
			s := ev.Summary
			if ev.Transport != tc.wantTransport || s.Get("control_channel") != tc.wantChannel || s.Get("detection") != "content" ||
				ev.Server.String() != l.b.addr+":"+tc.port {
				t.Errorf("event %s %s → %s channel %v detection %v; want %s to %s:%s, %s, content",
					ev.Transport, ev.Client, ev.Server, s.Get("control_channel"), s.Get("detection"), tc.wantTransport, l.b.addr, tc.port, tc.wantChannel)
			}
			ops := s.Get("opcodes").(map[string]int)
			for _, op := range []string{"P_CONTROL_HARD_RESET_CLIENT_V2", "P_CONTROL_HARD_RESET_SERVER_V2", "P_CONTROL_V1", "P_DATA_V2"} {
				if ops[op] == 0 {
					t.Errorf("no %s in %v", op, ops)
				}
			}
			if len(only(evs, "tls")) != 0 {
				t.Errorf("the OpenVPN connection was also reported as TLS:\n%s", describe(evs))
			}
		})
	}
}
