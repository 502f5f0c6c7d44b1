package ftp

import (
	"net/netip"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// fuzzConversation interleaves client and server bytes in pieces chosen
// by shape, with an optional gap.
func fuzzConversation(cli, srv []byte, shape uint16) []parsertest.Segment {
	var segs []parsertest.Segment
	cut := func(b []byte, n int) ([]byte, []byte) {
		n = min(n, len(b))
		return b[:n], b[n:]
	}
	for round := 0; len(cli)+len(srv) > 0 && round < 8; round++ {
		var a []byte
		a, cli = cut(cli, 1+int(shape>>uint(round%8))%61*2)
		if round == 7 {
			a, cli = append(a, cli...), nil
		}
		if len(a) > 0 {
			segs = append(segs, parsertest.Segment{Dir: parser.ClientToServer, Data: a})
		}
		if shape&(1<<uint(round)) != 0 && round == int(shape>>13) {
			segs = append(segs, parsertest.Segment{Dir: parser.Direction(round & 1), Gap: int(shape%20) - 1})
		}
		a, srv = cut(srv, 1+int(shape>>uint((round+3)%8))%53*3)
		if round == 7 {
			a, srv = append(a, srv...), nil
		}
		if len(a) > 0 {
			segs = append(segs, parsertest.Segment{Dir: parser.ServerToClient, Data: a})
		}
	}
	return segs
}

// FuzzFTP requires that no input panics, that cutting the streams
// differently never changes the events, and that data connections
// announced by arbitrary replies are handled.
func FuzzFTP(f *testing.F) {
	f.Add([]byte("USER a\r\nPASS b\r\nPASV\r\nRETR f\r\nQUIT\r\n"),
		[]byte("220 FTP\r\n331 p\r\n230 ok\r\n227 Entering Passive Mode (192,0,2,20,195,80)\r\n150 ok (5 bytes)\r\n226 done\r\n221 bye\r\n"), uint16(0))
	f.Add([]byte("EPRT |2|::1|4000|\r\nSTOR x\r\nAUTH TLS\r\n\x16\x03\x01"),
		[]byte("220-a\r\n220 b\r\n200 ok\r\n150 go\r\n226 ok\r\n234 tls\r\n"), uint16(0x3001))
	f.Add([]byte("PORT 192,0,2,10,1,2\r\nLIST\r\n\xff\xf4\xff\xf2ABOR\r\n"), []byte("200 ok\r\n150-x\r\n more\r\n150 y\r\n226 z\r\n"), uint16(77))
	f.Add([]byte("EPSV\r\nMLSD\r\n"), []byte("229 (|||50001|)\r\n550 no\r\n"), uint16(0xe0e0))
	f.Fuzz(func(t *testing.T, cli, srv []byte, shape uint16) {
		if len(cli)+len(srv) > 1<<15 {
			return
		}
		segs := fuzzConversation(cli, srv, shape)
		var want string
		for i, sp := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
			det := NewDetector()
			env, evs := parsertest.Run(det, ctlConn(), segs, sp, int64(shape))
			got := parsertest.Normalize(evs)
			if i == 0 {
				want = got
				// any announced endpoint can be connected to
				for _, m := range env.Mirrors {
					dc := &parser.Conn{Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.99"), 1), Server: m.B, Start: t0}
					if det.IsRelative(dc, parser.ServerToClient, []byte("x")) == parser.No {
						continue
					}
					p := det.New(dc, env)
					p.ProcessPacket(parser.ServerToClient, srv, t0)
					p.Gap(parser.ClientToServer, int(shape%5)-1, t0)
					p.ProcessPacket(parser.ClientToServer, cli, t0)
					p.EndProcess(parser.EndClosed, t0)
				}
			} else if got != want {
				t.Fatalf("split %d differs:\n got: %s\nwant: %s", sp, got, want)
			}
			for _, d := range []parser.Direction{parser.ClientToServer, parser.ServerToClient} {
				det.IsRelative(ctlConn(), d, cli)
				det.IsRelative(ctlConn(), d, srv)
			}
		}
	})
}
