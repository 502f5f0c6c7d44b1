package l2tp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func udp(port uint16) *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.UDP, Client: netip.MustParseAddrPort("10.60.1.1:1701"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("10.60.1.2"), port), Start: time.Unix(1700000000, 0).UTC()}
}

func avp(mandatory, hidden bool, typ int, val []byte) []byte {
	h := 6 + len(val)
	if mandatory {
		h |= 0x8000
	}
	if hidden {
		h |= 0x4000
	}
	b := binary.BigEndian.AppendUint16(nil, uint16(h))
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(typ))
	return append(b, val...)
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

// ctl builds a control message to tunnel tid with the given AVPs.
func ctl(tid int, avps ...[]byte) []byte {
	b := []byte{0xc8, 0x02, 0, 0}
	b = append(b, u16(tid)...)
	b = append(b, 0, 0, 0, 1, 0, 0)
	for _, a := range avps {
		b = append(b, a...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func msg(t int) []byte { return avp(true, false, 0, u16(t)) }

func data(tid, sid int, ppp string) []byte {
	return append(append([]byte{0x00, 0x02}, append(u16(tid), u16(sid)...)...), ppp...)
}

func TestIsRelative(t *testing.T) {
	cases := []struct {
		name string
		c    *parser.Conn
		dir  parser.Direction
		data []byte
		want parser.Verdict
	}{
		{"sccrq on 1701", udp(1701), parser.ClientToServer, ctl(0, msg(1)), parser.Yes},
		{"sccrq elsewhere", udp(9999), parser.ClientToServer, ctl(0, msg(1)), parser.Yes},
		{"sccrp first", udp(1701), parser.ClientToServer, ctl(5, msg(2)), parser.YesReversed},
		{"unknown message type", udp(9999), parser.ClientToServer, ctl(0, msg(99)), parser.No},
		{"first AVP not message type", udp(9999), parser.ClientToServer, ctl(0, avp(true, false, 7, []byte("h"))), parser.No},
		{"version 3", udp(9999), parser.ClientToServer, append([]byte{0xc8, 0x03}, ctl(0, msg(1))[2:]...), parser.No},
		{"data on 1701", udp(1701), parser.ClientToServer, data(1, 2, "\x21\x45"), parser.Yes},
		{"data with PPP elsewhere", udp(9999), parser.ClientToServer, data(1, 2, "\xff\x03\xc0\x21"), parser.Yes},
		{"data without PPP elsewhere", &parser.Conn{Transport: parser.UDP, Client: netip.MustParseAddrPort("1.1.1.1:5000"), Server: netip.MustParseAddrPort("1.1.1.2:6000")}, parser.ClientToServer, data(1, 2, "\x21\x45"), parser.No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Detector{}).IsRelative(tc.c, tc.dir, tc.data); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConversation(t *testing.T) {
	segs := []parsertest.Segment{
		{Dir: 0, Data: ctl(0, msg(1), avp(true, false, 2, []byte{1, 0}), avp(true, false, 7, []byte("lac-host")), avp(false, false, 8, []byte("xl2tpd")), avp(true, false, 9, u16(11)))},
		{Dir: 1, Data: ctl(11, msg(2), avp(true, false, 7, []byte("lns-host")), avp(true, false, 9, u16(22)), avp(true, true, 13, []byte{1, 2, 3, 4}))},
		{Dir: 0, Data: ctl(22, msg(3))},
		{Dir: 1, Data: ctl(11)}, // ZLB
		{Dir: 0, Data: ctl(22, msg(10), avp(true, false, 14, u16(33)))},
		{Dir: 1, Data: ctl(11, msg(11), avp(true, false, 14, u16(44)))},
		{Dir: 0, Data: ctl(22, msg(12))},
		{Dir: 0, Data: data(22, 44, "\xff\x03\xc0\x21")},
		{Dir: 1, Data: data(11, 33, "\xff\x03\xc0\x21")},
		{Dir: 0, Data: data(22, 44, "\x21\x45\x00")},
		{Dir: 0, Data: ctl(22, msg(14), avp(true, false, 1, append(u16(3), u16(0)...)))},
		{Dir: 1, Data: ctl(11, msg(4), avp(true, false, 1, u16(1)), avp(true, false, 9, []byte{1}))},
		{Dir: 0, Data: []byte{0xc8, 0x02, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x40, 0, 0}}, // AVP longer than the message
	}
	_, evs := parsertest.Run(Detector{}, udp(1701), segs, parsertest.Whole, 0)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	s := evs[0].Summary
	want := map[string]any{
		"messages":           map[string]int{"SCCRQ": 1, "SCCRP": 1, "SCCCN": 1, "ICRQ": 1, "ICRP": 1, "ICCN": 1, "CDN": 1, "StopCCN": 1},
		"zlb_acks":           1,
		"client_host":        "lac-host",
		"server_host":        "lns-host",
		"client_vendor":      "xl2tpd",
		"client_tunnel_ids":  []int{11},
		"server_tunnel_ids":  []int{22},
		"client_session_ids": []int{33},
		"server_session_ids": []int{44},
		"hidden_avps":        []string{"SCCRP AVP 13"},
		"protocol_version":   "1.0",
		"results":            []string{"CDN: result 3 error 0", "StopCCN: result 1"},
		"detection":          "content+port",
	}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
	ds := s.Get("data_sessions").([]event.Fields)
	if len(ds) != 2 || ds[1].Get("packets_to_server") != 2 {
		t.Errorf("data_sessions %v", ds)
	}
	if len(evs[0].Anomalies) < 2 {
		t.Errorf("anomalies %v, want the short AVP and the AVP overrunning its message", evs[0].Anomalies)
	}
}
