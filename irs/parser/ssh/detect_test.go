package ssh

import (
	"net/netip"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func TestIsRelative(t *testing.T) {
	cli, srv := parser.ClientToServer, parser.ServerToClient
	onPort := func(p uint16) *parser.Conn { return parsertest.Conn(p) }
	mid := parsertest.Conn(40000)
	mid.MidStream = true
	mid.Client = netip.MustParseAddrPort("192.0.2.10:22")
	for _, tc := range []struct {
		name string
		c    *parser.Conn
		dir  parser.Direction
		data string
		want parser.Verdict
	}{
		{"server banner", onPort(22), srv, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", parser.Yes},
		{"client first", onPort(22), cli, "SSH-2.0-OpenSSH_9.2\r\n", parser.Yes},
		{"any port", onPort(80), srv, "SSH-2.0-OpenSSH_5.8p1\r\n", parser.Yes},
		{"1.99", onPort(2200), srv, "SSH-1.99-OpenSSH_3.4\r\n", parser.Yes},
		{"ssh-1", onPort(2222), cli, "SSH-1.5-OpenSSH_6.6\n", parser.Yes},
		{"short", onPort(22), srv, "SSH-2", parser.NeedMore},
		{"short prefix", onPort(4000), srv, "SS", parser.NeedMore},
		{"not a version", onPort(4000), srv, "SSH-x.0-foo\r\n", parser.No},
		{"not a version on 22: a pre-banner line", onPort(22), srv, "SSH-x.0-foo\r\n", parser.NeedMore},
		{"http", onPort(80), cli, "GET / HTTP/1.1\r\n", parser.No},
		{"smtp greeting", onPort(25), srv, "220 mx ESMTP\r\n", parser.No},
		{"tls", onPort(22), cli, "\x16\x03\x01\x02\x00", parser.No},
		{"pre-banner text on 22", onPort(22), srv, "Welcome\r\n", parser.NeedMore},
		{"pre-banner then banner", onPort(22), srv, "Welcome\r\nSSH-2.0-X\r\n", parser.Yes},
		{"pre-banner text elsewhere", onPort(2525), srv, "Welcome\r\n", parser.No},
		{"binary on 22", onPort(22), srv, "\x00\x00\x01\x00", parser.No},
		{"reversed mid-stream", mid, cli, "SSH-2.0-OpenSSH_9.2\r\n", parser.YesReversed},
		{"empty", onPort(22), srv, "", parser.NeedMore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Detector{}).IsRelative(tc.c, tc.dir, []byte(tc.data)); got != tc.want {
				t.Errorf("IsRelative(%q) = %v; want %v", tc.data, got, tc.want)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	d, ok := parser.Default.Lookup(Name)
	if !ok || d.Name() != "ssh" || len(d.Transports()) != 1 || d.Transports()[0] != parser.TCP {
		t.Fatalf("ssh detector not registered for TCP: %v %v", d, ok)
	}
}
