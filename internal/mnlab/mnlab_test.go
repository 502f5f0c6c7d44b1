package mnlab

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A description line as sdnli_net.py prints it in driver mode.
const description = `{"switches": [{"short": "s1", "name": "m0a1bs1", "dpid": "00005d12340001", "ports": {"m0a1bs1-eth1": 1}},
 {"short": "s2", "name": "m0a1bs2", "dpid": "00005d12340002", "ports": {}}],
 "hosts": [{"name": "h1", "pid": 101, "ip": "10.61.7.1", "ip6": "fd00::1", "mac": "00:00:00:00:00:01", "intf": "h1-eth0", "switch": "m0a1bs1", "port": 1}],
 "irs": {"name": "irs", "pid": 103, "ip": "10.61.7.254", "mac": "00:00:00:00:00:fe", "intf": "irs-eth0", "switch": "m0a1bs2", "port": 3,
  "dpid": "00005d12340002", "port_name": "m0a1bs2-eth3", "vlan": 0}}`

func TestDescription(t *testing.T) {
	n := &Network{Prefix: "m0a1b", Subnet: "10.61.7"}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(description, "\n", "")), n); err != nil {
		t.Fatalf("decode the description: %v", err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"prefix kept", n.Prefix, "m0a1b"},
		{"subnet kept", n.Subnet, "10.61.7"},
		{"bridge of s2", n.Bridge(t, "s2"), "m0a1bs2"},
		{"irs interface", n.IRS.Intf, "irs-eth0"},
		{"irs port name", n.IRS.PortName, "m0a1bs2-eth3"},
		{"irs dpid", n.IRS.DPID, "00005d12340002"},
		{"h1 bridge", n.Hosts[0].Switch, "m0a1bs1"},
	} {
		t.Run(c.what, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	if n.IRS.PID != 103 || n.Hosts[0].PID != 101 || n.Switches[0].Ports["m0a1bs1-eth1"] != 1 {
		t.Errorf("numbers: irs pid %d, h1 pid %d, s1 ports %v; want 103, 101, eth1=1", n.IRS.PID, n.Hosts[0].PID, n.Switches[0].Ports)
	}
	for _, c := range []struct {
		name string
		want string // address the host has
	}{{"h1", "10.61.7.1"}, {"irs", "10.61.7.254"}} {
		t.Run("host "+c.name, func(t *testing.T) {
			if got := n.Host(t, c.name).Addr; got != c.want {
				t.Errorf("address of %s: got %q, want %q", c.name, got, c.want)
			}
		})
	}
}

func TestSyncBufferTail(t *testing.T) {
	for _, c := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"short output whole", "abc", 10, "abc"},
		{"long output cut at the front", "0123456789", 4, "...6789"},
		{"exact length whole", "0123", 4, "0123"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b syncBuffer
			_, _ = b.Write([]byte(c.in))
			if got := b.tail(c.n); got != c.want {
				t.Errorf("tail(%d) of %q: got %q, want %q", c.n, c.in, got, c.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		var b syncBuffer
		chunk := make([]byte, 1<<20)
		for range 10 {
			_, _ = b.Write(chunk)
		}
		if got := len(b.String()); got > 5<<20 {
			t.Errorf("buffer holds %d bytes after 10 MiB; want at most 5 MiB", got)
		}
	})
}

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on the free address %s: %v", addr, err)
	}
	ln.Close()
}

func TestTempDirOpenAndRemoved(t *testing.T) {
	var dir string
	t.Run("make", func(t *testing.T) {
		dir = TempDir(t, "sdnli-mnlab-test-")
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o755 {
			t.Errorf("mode %v, want 0755 (daemons dropping privileges enter it)", got)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after its test: %v", dir, err)
	}
}

func TestRepoRoot(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("RepoRoot %s holds no go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "topologies", "sdnli_net.py")); err != nil {
		t.Errorf("RepoRoot %s has no topologies/sdnli_net.py: %v", root, err)
	}
}
