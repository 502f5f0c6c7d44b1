package pptp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

var (
	pns = netip.MustParseAddr("10.60.0.1")
	pac = netip.MustParseAddr("10.60.0.2")
	t0  = time.Unix(1700000000, 0).UTC()
)

func ctrlConn() *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.TCP, Client: netip.AddrPortFrom(pns, 40000), Server: netip.AddrPortFrom(pac, 1723), Start: t0}
}

func greConn() *parser.Conn {
	return &parser.Conn{ID: 2, Transport: parser.GRE, Client: netip.AddrPortFrom(pns, 0), Server: netip.AddrPortFrom(pac, 0), Start: t0}
}

// ctrl builds a control message of type t with body.
func ctrl(t int, body []byte) []byte {
	b := make([]byte, ctrlHeader)
	binary.BigEndian.PutUint16(b, uint16(ctrlHeader+len(body)))
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint32(b[4:], magic)
	binary.BigEndian.PutUint16(b[8:], uint16(t))
	return append(b, body...)
}

func sccr(reply bool, host, vendor string) []byte {
	b := make([]byte, 16+128)
	b[0] = 1
	if reply {
		b[2] = 1
	}
	copy(b[16:], host)
	copy(b[80:], vendor)
	return b
}

func ocrq(callID uint16) []byte {
	b := make([]byte, 28+128)
	binary.BigEndian.PutUint16(b, callID)
	binary.BigEndian.PutUint16(b[2:], 77)
	copy(b[28:], "5551234")
	return b
}

func ocrp(callID, peer uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, callID)
	binary.BigEndian.PutUint16(b[2:], peer)
	b[4] = 1
	return b
}

// gre builds a GRE v1 packet with key call ID and a PPP frame.
func gre(call uint16, seq bool, ppp []byte) []byte {
	b := []byte{0x20, 0x01, 0x88, 0x0b, 0, 0, 0, 0}
	if seq {
		b[0] |= 0x10
	}
	binary.BigEndian.PutUint16(b[4:], uint16(len(ppp)))
	binary.BigEndian.PutUint16(b[6:], call)
	if seq {
		b = append(b, 0, 0, 0, 1)
	}
	return append(b, ppp...)
}

func pppCtl(proto uint16, code byte, body []byte) []byte {
	b := []byte{0xff, 0x03, byte(proto >> 8), byte(proto), code, 1, 0, 0}
	binary.BigEndian.PutUint16(b[6:], uint16(4+len(body)))
	return append(b, body...)
}

func TestIsRelative(t *testing.T) {
	d := NewDetector()
	cases := []struct {
		name string
		c    *parser.Conn
		dir  parser.Direction
		data []byte
		want parser.Verdict
	}{
		{"sccrq", ctrlConn(), parser.ClientToServer, ctrl(1, sccr(false, "h", "v")), parser.Yes},
		{"sccrp first", ctrlConn(), parser.ClientToServer, ctrl(2, sccr(true, "h", "v")), parser.YesReversed},
		{"short", ctrlConn(), parser.ClientToServer, ctrl(1, sccr(false, "h", "v"))[:6], parser.NeedMore},
		{"bad magic", ctrlConn(), parser.ClientToServer, append(ctrl(1, sccr(false, "", ""))[:4], make([]byte, 150)...), parser.No},
		{"http", ctrlConn(), parser.ClientToServer, []byte("GET / HTTP/1.1\r\n\r\n"), parser.No},
		{"gre v1 ppp", greConn(), parser.ClientToServer, gre(5, true, []byte{0xff, 3, 0xc0, 0x21}), parser.Yes},
		{"gre v0", greConn(), parser.ClientToServer, []byte{0, 0, 8, 0, 0x45, 0, 0, 20}, parser.No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.IsRelative(tc.c, tc.dir, tc.data); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCallWithGRE runs a control connection and its GRE flow through one
// detector (as two engine workers would) and expects one event with
// both channels and the PAP and CHAP users.
func TestCallWithGRE(t *testing.T) {
	for _, split := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			d := NewDetector()
			cenv := parsertest.NewEnv()
			cp := d.New(ctrlConn(), cenv)
			ctl := []parsertest.Segment{
				{Dir: 0, Data: ctrl(1, sccr(false, "laptop", "Linux"))},
				{Dir: 1, Data: ctrl(2, sccr(true, "gw", "pptpd"))},
				{Dir: 0, Data: ctrl(7, ocrq(1000))},
				{Dir: 1, Data: ctrl(8, ocrp(2000, 1000))},
			}
			feed := func(p parser.Parser, segs []parsertest.Segment) {
				for _, s := range segs {
					data := s.Data
					for len(data) > 0 {
						n := len(data)
						if split == parsertest.Bytes {
							n = 1
						} else if split == parsertest.Random {
							n = 1 + len(data)/3
						}
						p.ProcessPacket(s.Dir, data[:n], t0)
						data = data[n:]
					}
				}
			}
			feed(cp, ctl)
			if len(cenv.Mirrors) != 1 || cenv.Mirrors[0].Transport != parser.GRE {
				t.Fatalf("mirror requests %v", cenv.Mirrors)
			}
			genv := parsertest.NewEnv()
			gp := d.New(greConn(), genv)
			lcp := pppCtl(pppLCP, 1, []byte{3, 5, 0xc2, 0x23, 0x81})
			chapResp := pppCtl(pppCHAP, 2, append([]byte{2, 0xaa, 0xbb}, "alice"...))
			chapChal := pppCtl(pppCHAP, 1, append([]byte{1, 0xcc}, "gw"...))
			pap := pppCtl(pppPAP, 1, append(append([]byte{3}, "bob"...), 2, 'p', 'w'))
			for _, s := range []struct {
				dir  parser.Direction
				call uint16
				ppp  []byte
			}{{0, 2000, lcp}, {1, 1000, chapChal}, {0, 2000, chapResp}, {0, 2000, pap}, {1, 1000, []byte{0x00, 0xfd, 1, 2, 3}}} {
				gp.ProcessPacket(s.dir, gre(s.call, true, s.ppp), t0)
			}
			cp.EndProcess(parser.EndClosed, t0.Add(time.Second))
			if len(cenv.Events) != 0 {
				t.Fatalf("control emitted before its GRE flow ended")
			}
			gp.EndProcess(parser.EndShutdown, t0.Add(2*time.Second))
			// The held event goes out through the control connection's env
			// (its raw data reference), once the last GRE flow ends.
			if len(cenv.Events) != 1 || len(genv.Events) != 0 {
				t.Fatalf("%d+%d events after the GRE flow ended, want 1 from the control connection", len(cenv.Events), len(genv.Events))
			}
			ev := cenv.Events[0]
			want := map[string]any{"call_ids": []string{"1000/2000"}, "client_host": "laptop", "server_vendor": "pptpd",
				"gre_packets_to_server": 3, "gre_packets_to_client": 2, "ppp_auth": "MS-CHAPv2", "pap_users": []string{"bob"},
				"chap_users": []string{"alice"}, "chap_server_names": []string{"gw"}, "mppe": true, "channels": []string{"control", "gre"}}
			for k, w := range want {
				if fmt.Sprint(ev.Summary.Get(k)) != fmt.Sprint(w) {
					t.Errorf("summary[%s] = %v, want %v", k, ev.Summary.Get(k), w)
				}
			}
			if ev.Transport != "tcp" || ev.Server.Port() != 1723 || len(ev.Addresses) != 2 {
				t.Errorf("event %s %s addresses %v", ev.Transport, ev.Server, ev.Addresses)
			}
		})
	}
}

// TestTableBounded: the call table never holds more than maxCalls.
func TestTableBounded(t *testing.T) {
	d := NewDetector()
	for i := 0; i < maxCalls+100; i++ {
		d.register(&call{pns: pns, pac: pac, pnsCall: uint16(i), pacCall: uint16(i), last: t0}, t0)
	}
	if len(d.order) > maxCalls || len(d.calls) > 2*maxCalls {
		t.Errorf("table holds %d calls, %d keys", len(d.order), len(d.calls))
	}
	d.register(&call{pns: pns, pac: pac, pnsCall: 1, pacCall: 1, last: t0.Add(3 * time.Hour)}, t0.Add(3*time.Hour))
	if len(d.order) != 1 {
		t.Errorf("expired calls kept: %d", len(d.order))
	}
}
