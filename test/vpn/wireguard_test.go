//go:build integration

package vpn

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWireGuardLive: wireguard-go in two namespaces (distinct interface
// names: the UAPI sockets share one directory) on port 4433, a ping
// through the tunnel; the capture must give one WireGuard session with
// a handshake linked by index, detected by content on a port that is
// not WireGuard's.
func TestWireGuardLive(t *testing.T) {
	l := newLab(t, 60, "wireguard-go", "wg", "ping")
	keys := map[string][2]string{}
	for _, side := range []string{"a", "b"} {
		priv := strings.TrimSpace(run(t, "wg", "genkey"))
		f := filepath.Join(l.dir, side+".key")
		if err := os.WriteFile(f, []byte(priv+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("wg", "pubkey")
		cmd.Stdin = strings.NewReader(priv + "\n")
		pub, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		keys[side] = [2]string{f, strings.TrimSpace(string(pub))}
	}
	suffix := l.a.iface[3:]
	ifA, ifB := "vpwa"+suffix, "vpwb"+suffix
	stop := l.capture("wireguard")
	setup := func(n node, ifc, key, peerPub, endpoint, tunAddr, peerTun string) {
		l.start(n.ns, "wireguard-go-"+ifc, []string{"WG_PROCESS_FOREGROUND=1"}, "wireguard-go", "-f", ifc)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := l.exec(n.ns, "ip", "link", "show", ifc); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("wireguard-go did not create %s:\n%s", ifc, l.log("wireguard-go-"+ifc))
			}
			time.Sleep(100 * time.Millisecond)
		}
		args := []string{"wg", "set", ifc, "private-key", key, "listen-port", "4433", "peer", peerPub, "allowed-ips", peerTun + "/32"}
		if endpoint != "" {
			args = append(args, "endpoint", endpoint)
		}
		l.mustExec(n.ns, args...)
		l.mustExec(n.ns, "ip", "addr", "add", tunAddr+"/24", "dev", ifc)
		l.mustExec(n.ns, "ip", "link", "set", ifc, "up")
	}
	setup(l.b, ifB, keys["b"][0], keys["a"][1], "", "10.69.1.2", "10.69.1.1")
	setup(l.a, ifA, keys["a"][0], keys["b"][1], l.b.addr+":4433", "10.69.1.1", "10.69.1.2")
	out, err := l.exec(l.a.ns, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.69.1.2")
	if err != nil {
		t.Fatalf("ping through the tunnel: %v\n%s", err, out)
	}
	path := stop()
	evs := pipeline(t, path)
	wg := only(evs, "wireguard")
	if len(wg) != 1 {
		st, _ := os.Stat(path)
		t.Fatalf("got %d wireguard events, want 1:\n%s\ncapture %v: %s", len(wg), describe(evs), st.Size(), l.log("tcpdump-wireguard"))
	}
	s := wg[0].Summary
	want := map[string]any{"detection": "content", "handshakes": 1, "responses": 1, "responses_linked": 1, "confidence": 0.99}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
	if n := s.Get("data_linked").(int); n < 6 {
		t.Errorf("data_linked = %d, want the 3 echo requests and 3 replies at least", n)
	}
	if wg[0].Server.String() != l.b.addr+":4433" {
		t.Errorf("server %s, want %s:4433", wg[0].Server, l.b.addr)
	}
}
