package http

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// fuzzConversation interleaves client and server bytes in pieces chosen
// by shape, with an optional gap.
func fuzzConversation(cli, srv []byte, shape uint16) []parsertest.Segment {
	var segs []parsertest.Segment
	cut := func(b []byte, n int) ([]byte, []byte) {
		if n > len(b) {
			n = len(b)
		}
		return b[:n], b[n:]
	}
	for round := 0; len(cli)+len(srv) > 0 && round < 8; round++ {
		var a []byte
		a, cli = cut(cli, 1+int(shape>>uint(round%8))%97*3)
		if round == 7 {
			a, cli = append(a, cli...), nil
		}
		if len(a) > 0 {
			segs = append(segs, parsertest.Segment{Dir: parser.ClientToServer, Data: a})
		}
		if shape&(1<<uint(round)) != 0 && round == int(shape>>13) {
			segs = append(segs, parsertest.Segment{Dir: parser.Direction(round & 1), Gap: int(shape%50) - 1})
		}
		a, srv = cut(srv, 1+int(shape>>uint((round+3)%8))%89*5)
		if round == 7 {
			a, srv = append(a, srv...), nil
		}
		if len(a) > 0 {
			segs = append(segs, parsertest.Segment{Dir: parser.ServerToClient, Data: a})
		}
	}
	return segs
}

// FuzzHTTP requires that no input panics and that cutting the streams
// differently never changes the events.
func FuzzHTTP(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), uint16(0), false)
	f.Add([]byte("POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.0\r\n\r\n"),
		[]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n5\r\n\x1f\x8b\x08\x00\x00\r\n0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest"), uint16(0x2345), true)
	f.Add([]byte("CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03\x01"), []byte("HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03"), uint16(7), false)
	f.Add([]byte("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), []byte("HTTP/1.1 101 Switching\r\n\r\n\x81\x00"), uint16(99), false)
	f.Add([]byte(h2Preface+"\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x05\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x8a"),
		[]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x01\x05\x00\x00\x00\x01\x88"), uint16(3), false)
	f.Add([]byte("junk\r\nGET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"), []byte("HTTP/1.1 200 OK\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 40\r\n\r\n--b\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--b--\r\n"), uint16(0xa001), true)
	f.Add([]byte("GET /f HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Disposition: \u0130\u0130\u0130 filename=\r\nContent-Length: 1\r\n\r\nx"), uint16(0), false)
	f.Fuzz(func(t *testing.T, cli, srv []byte, shape uint16, mid bool) {
		if len(cli)+len(srv) > 1<<16 {
			return
		}
		conn := parsertest.Conn(80)
		conn.MidStream = mid
		segs := fuzzConversation(cli, srv, shape)
		_, whole := parsertest.Run(Detector{}, conn, segs, parsertest.Whole, 0)
		want := parsertest.Normalize(whole)
		for _, split := range []parsertest.Split{parsertest.Bytes, parsertest.Random} {
			_, got := parsertest.Run(Detector{}, conn, segs, split, int64(shape))
			if g := parsertest.Normalize(got); g != want {
				t.Fatalf("split %d differs:\n got: %s\nwant: %s", split, g, want)
			}
		}
		Detector{}.IsRelative(conn, parser.ClientToServer, cli)
		Detector{}.IsRelative(conn, parser.ServerToClient, srv)
	})
}
