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

	"github.com/sdnli/sdnli/irs/event"
)

// charonConf is strongswan.conf for one side: every plugin Debian ships
// configured, kernel-libipsec on (userspace ESP over a TUN device: the
// kernel has no ESP), the vici socket and the log in the test directory.
const charonConf = `charon {
  port = 500
  port_nat_t = 4500
  plugins {
    include /etc/strongswan.d/charon/*.conf
    kernel-libipsec {
      load = yes
    }
    vici {
      load = yes
      socket = unix://%[1]s/%[2]s.vici
    }
  }
  filelog {
    vp {
      path = %[1]s/charon-%[2]s.log
      default = 1
      ike = 2
    }
  }
}
`

const swanctlConf = `connections {
  vp {
    version = 2
    local_addrs = %[1]s
    remote_addrs = %[2]s
    encap = yes
    proposals = aes256-sha256-modp2048
    local {
      auth = psk
      id = vp-%[3]s
    }
    remote {
      auth = psk
      id = vp-%[4]s
    }
    children {
      net {
        local_ts = %[5]s/32
        remote_ts = %[6]s/32
        esp_proposals = aes256gcm16
      }
    }
  }
}
secrets {
  ike-vp {
    id-a = vp-a
    id-b = vp-b
    secret = "vp-test-secret-0123456789"
  }
}
`

// TestIPsecLive: strongSwan's charon with kernel-libipsec in both
// namespaces (each with a private /run), IKEv2 with a PSK and forced UDP
// encapsulation (ESP in UDP 4500), a ping between addresses behind the
// tunnel. The capture must give IKE on 500 (IKE_SA_INIT with its
// proposal), IKE on 4500 behind the non-ESP marker (IKE_AUTH, encrypted)
// and ESP in UDP on the same flow, by SPI, both ways.
func TestIPsecLive(t *testing.T) {
	l := newLab(t, 64, "/usr/lib/ipsec/charon", "swanctl", "unshare", "ping")
	inner := map[string]string{"a": "10.69.6.1", "b": "10.69.6.2"}
	nodes := map[string]node{"a": l.a, "b": l.b}
	stop := l.capture("ipsec")
	for _, side := range []string{"b", "a"} {
		other := map[string]string{"a": "b", "b": "a"}[side]
		n := nodes[side]
		conf := filepath.Join(l.dir, side+".strongswan.conf")
		if err := os.WriteFile(conf, []byte(fmt.Sprintf(charonConf, l.dir, side)), 0o644); err != nil {
			t.Fatal(err)
		}
		sw := filepath.Join(l.dir, side+".swanctl.conf")
		if err := os.WriteFile(sw, []byte(fmt.Sprintf(swanctlConf, n.addr, nodes[other].addr, side, other, inner[side], inner[other])), 0o644); err != nil {
			t.Fatal(err)
		}
		l.mustExec(n.ns, "ip", "addr", "add", inner[side]+"/32", "dev", "lo")
		l.start(n.ns, "charon-"+side, []string{"STRONGSWAN_CONF=" + conf}, "unshare", "-m", "sh", "-c",
			"mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon")
		uri := "unix://" + filepath.Join(l.dir, side+".vici")
		deadline := time.Now().Add(15 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(l.dir, side+".vici")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("charon %s did not open its vici socket:\n%s", side, l.log("charon-"+side))
			}
			time.Sleep(100 * time.Millisecond)
		}
		run(t, "swanctl", "--load-creds", "--file", sw, "--uri", uri)
		run(t, "swanctl", "--load-conns", "--file", sw, "--uri", uri)
	}
	out, err := execOut("swanctl", "--initiate", "--child", "net", "--timeout", "20", "--uri", "unix://"+filepath.Join(l.dir, "a.vici"))
	if err != nil {
		t.Fatalf("swanctl --initiate: %v\n%s\ncharon a:\n%s", err, out, readFile(filepath.Join(l.dir, "charon-a.log")))
	}
	var pingOut string
	for i := 0; i < 10; i++ {
		pingOut, err = l.exec(l.a.ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", inner["a"], inner["b"])
		if err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("ping through the tunnel: %v\n%s\ncharon a:\n%s", err, pingOut, readFile(filepath.Join(l.dir, "charon-a.log")))
	}
	l.waitCapture("ipsec", 10*time.Second, func(evs []*event.Event) bool {
		for _, ev := range only(evs, "ipsec") {
			if ev.Server.Port() == 4500 && ev.Summary.Get("esp") != nil {
				return true
			}
		}
		return false
	})
	evs := pipeline(t, stop())
	var ike500, natt *event.Event
	for _, ev := range only(evs, "ipsec") {
		switch ev.Server.Port() {
		case 500:
			ike500 = ev
		case 4500:
			natt = ev
		}
	}
	if ike500 == nil || natt == nil {
		t.Fatalf("want IKE flows on 500 and 4500:\n%s", describe(evs))
	}
	s := ike500.Summary
	if fmt.Sprint(s.Get("exchanges")) != "map[IKE_SA_INIT:2]" || s.Get("detection") != "content+port" {
		t.Errorf("IKE on 500: %v", s)
	}
	for _, alg := range []string{"ENCR_AES_CBC-256", "PRF_HMAC_SHA2_256", "AUTH_HMAC_SHA2_256_128", "MODP_2048"} {
		if !strings.Contains(fmt.Sprint(s.Get("proposals")), alg) || !strings.Contains(fmt.Sprint(s.Get("chosen")), alg) {
			t.Errorf("IKE on 500: %s not in proposals %v and chosen %v", alg, s.Get("proposals"), s.Get("chosen"))
		}
	}
	s = natt.Summary
	if !strings.Contains(fmt.Sprint(s.Get("exchanges")), "IKE_AUTH") || s.Get("encrypted_messages") == nil || s.Get("note") == nil {
		t.Errorf("IKE on 4500: %v", s)
	}
	esp, _ := s.Get("esp").([]event.Fields)
	from := map[string]int{}
	for _, e := range esp {
		from[e.Get("from").(string)] += e.Get("packets").(int)
	}
	if from["client"] < 3 || from["server"] < 3 {
		t.Errorf("ESP in UDP by side %v, want the 3 echo requests and replies at least: %v", from, esp)
	}
	// The IKE SA moves from 500 to 4500: the same initiator SPI.
	init500 := map[string]bool{}
	for _, p := range ike500.Summary.Get("spis").([]string) {
		init500[strings.Split(p, "/")[0]] = true
	}
	moved := false
	for _, p := range s.Get("spis").([]string) {
		moved = moved || init500[strings.Split(p, "/")[0]]
	}
	if !moved {
		t.Errorf("IKE SPIs on 4500 %v do not continue those on 500 %v", s.Get("spis"), ike500.Summary.Get("spis"))
	}
}

func execOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
