package openvpn

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func testConn(tr parser.Transport, port uint16) *parser.Conn {
	return &parser.Conn{ID: 3, Transport: tr,
		Client: netip.MustParseAddrPort("192.0.2.10:40000"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.20"), port),
		Start:  time.Unix(1700000000, 0).UTC()}
}

var (
	csid = []byte("CLIENTID")
	ssid = []byte("SERVERID")
)

// ctl builds a control packet without HMAC: opcode, session ID, acks
// (with the remote session ID), message packet ID, payload.
func ctl(op int, sid []byte, acks []uint32, remote []byte, pid uint32, payload string) []byte {
	b := []byte{byte(op << 3)}
	b = append(b, sid...)
	b = append(b, byte(len(acks)))
	for _, a := range acks {
		b = binary.BigEndian.AppendUint32(b, a)
	}
	if len(acks) > 0 {
		b = append(b, remote...)
	}
	b = binary.BigEndian.AppendUint32(b, pid)
	return append(b, payload...)
}

// authCtl builds a tls-auth packet with an HMAC of h bytes.
func authCtl(op int, sid []byte, h int) []byte {
	b := []byte{byte(op << 3)}
	b = append(b, sid...)
	b = append(b, make([]byte, h)...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, 1700000000)
	return append(b, 0, 0, 0, 0, 0)
}

func tcpFrame(p []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(p))), p...)
}

func TestIsRelative(t *testing.T) {
	type pkt struct {
		dir parser.Direction
		b   []byte
	}
	c, s := parser.ClientToServer, parser.ServerToClient
	cases := []struct {
		name string
		tr   parser.Transport
		pkts []pkt
		want parser.Verdict
	}{
		{"client reset alone", parser.UDP, []pkt{{c, ctl(7, csid, nil, nil, 0, "")}}, parser.NeedMore},
		{"reset pair, no hmac", parser.UDP, []pkt{{c, ctl(7, csid, nil, nil, 0, "")}, {s, ctl(8, ssid, []uint32{0}, csid, 0, "")}}, parser.Yes},
		{"server acks another session", parser.UDP, []pkt{{c, ctl(7, csid, nil, nil, 0, "")}, {s, ctl(8, ssid, []uint32{0}, []byte("OTHERSID"), 0, "")}}, parser.No},
		{"reset pair, tls-auth sha256", parser.UDP, []pkt{{c, authCtl(7, csid, 32)}, {s, authCtl(8, ssid, 32)}}, parser.Yes},
		{"reset pair seen reversed", parser.UDP, []pkt{{s, ctl(7, csid, nil, nil, 0, "")}, {c, ctl(8, ssid, []uint32{0}, csid, 0, "")}}, parser.YesReversed},
		{"one-way: reset then control", parser.UDP, []pkt{{c, ctl(7, csid, nil, nil, 0, "")}, {c, ctl(4, csid, nil, nil, 1, "x")}}, parser.Yes},
		{"data first", parser.UDP, []pkt{{c, ctl(9, csid, nil, nil, 0, "xxxxxxxx")}}, parser.No},
		{"tcp reset pair", parser.TCP, []pkt{{c, tcpFrame(ctl(7, csid, nil, nil, 0, ""))}, {s, tcpFrame(ctl(8, ssid, []uint32{0}, csid, 0, ""))}}, parser.Yes},
		{"tcp partial frame", parser.TCP, []pkt{{c, tcpFrame(ctl(7, csid, nil, nil, 0, ""))[:5]}}, parser.NeedMore},
		{"tls record", parser.TCP, []pkt{{c, []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")}}, parser.No},
		{"http", parser.TCP, []pkt{{c, []byte("GET / HTTP/1.1\r\n")}}, parser.No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDetector()
			var got parser.Verdict
			for _, p := range tc.pkts {
				got = d.IsRelative(testConn(tc.tr, 443), p.dir, p.b)
			}
			if got != tc.want {
				t.Errorf("verdict = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRandomUDP: random datagram pairs are never claimed.
func TestRandomUDP(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	d := NewDetector()
	for i := 0; i < 20000; i++ {
		c := testConn(parser.UDP, 443)
		c.ID = uint64(i)
		var v parser.Verdict
		for j := 0; j < 4 && v != parser.No; j++ {
			b := make([]byte, 14+rng.Intn(200))
			rng.Read(b)
			v = d.IsRelative(c, parser.Direction(j&1), b)
			if v == parser.Yes || v == parser.YesReversed {
				t.Fatalf("random datagrams claimed (flow %d)", i)
			}
		}
	}
}

func TestSessionTCPSplits(t *testing.T) {
	var cs, ss []byte
	cs = append(cs, tcpFrame(ctl(7, csid, nil, nil, 0, ""))...)
	ss = append(ss, tcpFrame(ctl(8, ssid, []uint32{0}, csid, 0, ""))...)
	cs = append(cs, tcpFrame(ctl(4, csid, []uint32{0}, ssid, 1, "\x16\x03\x01"))...)
	ss = append(ss, tcpFrame(ctl(5, ssid, []uint32{1}, csid, 0, ""))...)
	cs = append(cs, tcpFrame(append([]byte{9 << 3, 0, 0, 1}, make([]byte, 40)...))...)
	segs := []parsertest.Segment{{Dir: 0, Data: cs[:20]}, {Dir: 1, Data: ss}, {Dir: 0, Data: cs[20:]}}
	for _, split := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			_, evs := parsertest.Run(NewDetector(), testConn(parser.TCP, 1194), segs, split, 5)
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			s := evs[0].Summary
			want := map[string]any{"detection": "content+port", "control_channel": "none", "packets_to_server": 3, "packets_to_client": 2,
				"opcodes":            map[string]int{"P_CONTROL_HARD_RESET_CLIENT_V2": 1, "P_CONTROL_HARD_RESET_SERVER_V2": 1, "P_CONTROL_V1": 1, "P_ACK_V1": 1, "P_DATA_V2": 1},
				"client_session_ids": []string{"434c49454e544944"}, "server_session_ids": []string{"5345525645524944"}, "key_method": 2}
			for k, w := range want {
				if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
					t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
				}
			}
		})
	}
}
