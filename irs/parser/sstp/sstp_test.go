package sstp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func tcp(port uint16) *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.TCP, Client: netip.MustParseAddrPort("10.62.0.1:50000"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("10.62.0.2"), port), Start: time.Unix(1700000000, 0).UTC()}
}

// ctl builds an SSTP control packet with attributes (id, value).
func ctl(t int, attrs ...[]byte) []byte {
	b := []byte{0x10, 0x01, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(t))
	b = binary.BigEndian.AppendUint16(b, uint16(len(attrs)))
	for _, a := range attrs {
		b = append(b, a...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func attr(id int, val []byte) []byte {
	b := []byte{0, byte(id), 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(4+len(val)))
	return append(b, val...)
}

// data builds an SSTP data packet around a PPP frame.
func data(ppp []byte) []byte {
	b := []byte{0x10, 0x00, 0, 0}
	b = append(b, ppp...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func pppCtl(proto uint16, code byte, body []byte) []byte {
	b := []byte{0xff, 0x03, byte(proto >> 8), byte(proto), code, 1, 0, 0}
	binary.BigEndian.PutUint16(b[6:], uint16(4+len(body)))
	return append(b, body...)
}

const request = "SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\n" +
	"Host: vpn.example.org\r\nSSTPCORRELATIONID: {3C1E2A90-5B77-4C33-9E0E-8E1C7E2D4F11}\r\n" +
	"Content-Length: 18446744073709551615\r\n\r\n"

const response = "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\nServer: Microsoft-HTTPAPI/2.0\r\n" +
	"Date: Sat, 21 Nov 2026 10:00:00 GMT\r\n\r\n"

// Conversation is a scripted SSTP session as MS-SSTP 3.2.5 describes it:
// the HTTP exchange, Call Connect Request (PPP), Connect Ack with the
// crypto binding request, PPP LCP and CHAP in data packets, Call
// Connected, an echo, and the disconnect.
func Conversation() []parsertest.Segment {
	chap := pppCtl(0xc223, 2, append([]byte{4, 1, 2, 3, 4}, "EXAMPLE\\alice"...))
	return []parsertest.Segment{
		parsertest.C(request),
		parsertest.S(response),
		{Dir: 0, Data: ctl(1, attr(1, []byte{0, 1}))},
		{Dir: 1, Data: ctl(2, attr(4, make([]byte, 36)))},
		{Dir: 0, Data: data(pppCtl(0xc021, 1, []byte{1, 4, 5, 0x78}))},
		{Dir: 1, Data: data(pppCtl(0xc021, 2, []byte{1, 4, 5, 0x78}))},
		{Dir: 1, Data: append(data(pppCtl(0xc223, 1, append([]byte{4, 9, 9, 9, 9}, "srv"...))), data(pppCtl(0xc021, 9, []byte{0, 0, 0, 0}))...)},
		{Dir: 0, Data: data(chap)},
		{Dir: 0, Data: ctl(4, attr(3, make([]byte, 100)))},
		{Dir: 0, Data: ctl(8)},
		{Dir: 1, Data: ctl(9)},
		{Dir: 0, Data: data([]byte{0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 20})},
		{Dir: 0, Data: ctl(6, attr(2, []byte{0, 0, 0, 0, 0, 0, 0, 0}))},
		{Dir: 1, Data: ctl(7)},
	}
}

func TestIsRelative(t *testing.T) {
	cases := []struct {
		name string
		dir  parser.Direction
		data []byte
		want parser.Verdict
	}{
		{"request", parser.ClientToServer, []byte(request), parser.Yes},
		{"request prefix", parser.ClientToServer, []byte("SSTP_DU"), parser.NeedMore},
		{"http get", parser.ClientToServer, []byte("GET / HTTP/1.1\r\n"), parser.No},
		{"connect request mid-stream", parser.ClientToServer, ctl(1, attr(1, []byte{0, 1})), parser.Yes},
		{"connect ack first", parser.ClientToServer, ctl(2), parser.YesReversed},
		{"unknown control type", parser.ClientToServer, ctl(77), parser.No},
		{"tls", parser.ClientToServer, []byte("\x16\x03\x01\x02\x00\x01"), parser.No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Detector{}).IsRelative(tcp(443), tc.dir, tc.data); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConversation(t *testing.T) {
	for _, split := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			_, evs := parsertest.Run(Detector{}, tcp(443), Conversation(), split, 9)
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			ev := evs[0]
			s := ev.Summary
			want := map[string]any{
				"host": "vpn.example.org", "correlation_id": "{3C1E2A90-5B77-4C33-9E0E-8E1C7E2D4F11}",
				"response": "HTTP/1.1 200 OK", "server_software": "Microsoft-HTTPAPI/2.0",
				"detection": "content+port", "confidence": 0.99,
				"messages": map[string]int{"SSTP_MSG_CALL_CONNECT_REQUEST": 1, "SSTP_MSG_CALL_CONNECT_ACK": 1, "SSTP_MSG_CALL_CONNECTED": 1,
					"SSTP_MSG_ECHO_REQUEST": 1, "SSTP_MSG_ECHO_RESPONSE": 1, "SSTP_MSG_CALL_DISCONNECT": 1, "SSTP_MSG_CALL_DISCONNECT_ACK": 1},
				"ppp_protocols":     map[string]int{"LCP": 3, "CHAP": 2, "IP": 1},
				"ppp_users":         []string{"EXAMPLE\\alice"},
				"data_to_server":    3,
				"data_to_client":    3,
				"packets_to_server": 7,
			}
			for k, w := range want {
				if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
					t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
				}
			}
			if a := fmt.Sprint(s.Get("attributes")); a != "[SSTP_MSG_CALL_CONNECT_REQUEST ENCAPSULATED_PROTOCOL_ID=PPP SSTP_MSG_CALL_CONNECT_ACK CRYPTO_BINDING_REQ SSTP_MSG_CALL_CONNECTED CRYPTO_BINDING SSTP_MSG_CALL_DISCONNECT STATUS_INFO status 0]" {
				t.Errorf("attributes %s", a)
			}
			if len(ev.Addresses) != 1 || ev.Addresses[0].Role != "user" || len(ev.Anomalies) != 0 {
				t.Errorf("addresses %v anomalies %v", ev.Addresses, ev.Anomalies)
			}
		})
	}
}
