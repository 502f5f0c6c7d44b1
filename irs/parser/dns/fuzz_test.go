package dns

import (
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzDNS feeds the input as datagrams and as a TCP stream: no input may
// panic, and the TCP events must not depend on how the stream is cut.
func FuzzDNS(f *testing.F) {
	f.Add(queryMsg(f, 1, "www.example.com.", dnsmessage.TypeA), uint8(0))
	f.Add(respMsg(f, 1, "www.example.com.", dnsmessage.TypeA,
		dnsmessage.Resource{Header: rh("www.example.com.", dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte{1, 2, 3, 4}}}), uint8(1))
	f.Add(raw(5, 0x8180, 1, 1, 1, 'a', 0, 0, 1, 0, 1, 1, 'b', 0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4), uint8(2))
	f.Add(raw(1, 0x8000, 1, 1, 1, 'a', 0, 0, 65, 0, 1, 0xc0, 12, 0, 65, 0, 1, 0, 0, 0, 0, 0, 19, 0, 1, 0, 0, 1, 0, 6, 2, 'h', '2', 2, 'h', '3', 0, 3, 0, 2, 1, 187), uint8(3))
	f.Add(raw(1, 0, 1, 0, 0xc0, 12, 0, 1, 0, 1), uint8(4))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		if len(b) > 1<<16 {
			return
		}
		decode(b)
		det := NewDetector()
		det.IsRelative(udpConn(), parser.ClientToServer, b)
		det.IsRelative(tcpConn(), parser.ClientToServer, b)
		k := int(cut) % (len(b) + 1)
		parsertest.Run(det, udpConn(), []parsertest.Segment{cq(b), sr(b[:k]), sr(b)}, parsertest.Whole, 0)
		// as a stream: the bytes as given, and again framed as one message
		framed := append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
		segs := []parsertest.Segment{cq(b), sr(framed[:k]), sr(framed[k:])}
		var want string
		for i, sp := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
			_, evs := parsertest.Run(NewDetector(), tcpConn(), segs, sp, int64(cut))
			got := parsertest.Normalize(evs)
			if i == 0 {
				want = got
			} else if got != want {
				t.Fatalf("split %d differs:\n got: %s\nwant: %s", sp, got, want)
			}
		}
	})
}
