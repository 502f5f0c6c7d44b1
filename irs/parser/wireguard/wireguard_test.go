package wireguard

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func udpConn(port uint16) *parser.Conn {
	return &parser.Conn{ID: 7, Transport: parser.UDP,
		Client: netip.MustParseAddrPort("192.0.2.10:40000"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.20"), port),
		Start:  time.Unix(1700000000, 0).UTC()}
}

func msg(typ byte, size int, idx ...uint32) []byte {
	b := make([]byte, size)
	b[0] = typ
	for i, v := range idx {
		binary.LittleEndian.PutUint32(b[4+4*i:], v)
	}
	return b
}

func data(recv uint32, ctr uint64, payload int) []byte {
	b := make([]byte, minData+payload)
	b[0] = msgData
	binary.LittleEndian.PutUint32(b[4:], recv)
	binary.LittleEndian.PutUint64(b[8:], ctr)
	return b
}

func TestIsRelative(t *testing.T) {
	cases := []struct {
		name string
		dir  parser.Direction
		pkts [][]byte
		want parser.Verdict
	}{
		{"initiation", parser.ClientToServer, [][]byte{msg(1, 148, 5)}, parser.Yes},
		{"initiation from the server side", parser.ServerToClient, [][]byte{msg(1, 148, 5)}, parser.YesReversed},
		{"response", parser.ServerToClient, [][]byte{msg(2, 92, 6, 5)}, parser.Yes},
		{"cookie", parser.ServerToClient, [][]byte{msg(3, 64, 5)}, parser.Yes},
		{"initiation one byte short", parser.ClientToServer, [][]byte{msg(1, 147, 5)}, parser.No},
		{"reserved not zero", parser.ClientToServer, [][]byte{append([]byte{1, 0, 1, 0}, make([]byte, 144)...)}, parser.No},
		{"one data message", parser.ClientToServer, [][]byte{data(9, 1, 16)}, parser.NeedMore},
		{"three agreeing data messages", parser.ClientToServer, [][]byte{data(9, 1, 16), data(9, 2, 32), data(9, 3, 0)}, parser.Yes},
		{"data with changing index", parser.ClientToServer, [][]byte{data(9, 1, 16), data(10, 2, 32)}, parser.No},
		{"data not 16-aligned", parser.ClientToServer, [][]byte{data(9, 1, 15)}, parser.No},
		{"tailscale disco then data", parser.ClientToServer, [][]byte{[]byte(discoMagic + "0123456789abcdef"), data(9, 1, 16), data(9, 2, 0), data(9, 3, 16)}, parser.Yes},
		{"tailscale disco alone", parser.ClientToServer, [][]byte{[]byte(discoMagic + "0123456789abcdef")}, parser.NeedMore},
		{"dns-like", parser.ClientToServer, [][]byte{[]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")}, parser.No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDetector()
			var got parser.Verdict
			for _, p := range tc.pkts {
				got = d.IsRelative(udpConn(9999), tc.dir, p)
			}
			if got != tc.want {
				t.Errorf("verdict = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSession(t *testing.T) {
	segs := []parsertest.Segment{
		{Dir: parser.ClientToServer, Data: msg(1, 148, 0x11)},
		{Dir: parser.ServerToClient, Data: msg(2, 92, 0x22, 0x11)},
		{Dir: parser.ClientToServer, Data: data(0x22, 0, 0)},
		{Dir: parser.ServerToClient, Data: data(0x11, 0, 96)},
		{Dir: parser.ClientToServer, Data: []byte("junk")},
	}
	_, evs := parsertest.Run(NewDetector(), udpConn(51820), segs, parsertest.Whole, 0)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	s := evs[0].Summary
	want := map[string]any{
		"detection": "content+port", "confidence": 0.99 / 2, "handshakes": 1, "responses": 1, "responses_linked": 1,
		"data_linked": 2, "packets_to_server": 3, "packets_to_client": 2, "bytes_to_server": 148 + 32 + 4,
		"bytes_to_client": 92 + 128, "non_wireguard": 1,
	}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
	if evs[0].Type != TypeSession || len(evs[0].Anomalies) != 1 {
		t.Errorf("type %q anomalies %v", evs[0].Type, evs[0].Anomalies)
	}
}
