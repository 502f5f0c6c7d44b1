package http

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// nullEnv drops events and artifacts: the benchmark measures parsing.
type nullEnv struct{}

func (nullEnv) Emit(*event.Event) {}
func (nullEnv) SaveArtifact(kind, name, ct string, data []byte) (event.Artifact, error) {
	return event.Artifact{Kind: kind, Name: name, Size: int64(len(data))}, nil
}
func (nullEnv) Options() parser.Options            { return parser.DefaultOptions() }
func (nullEnv) RequestMirror(parser.MirrorRequest) {}

// BenchmarkPipelined parses 100 keep-alive requests with 1 KiB responses,
// fed in 1460-byte segments.
func BenchmarkPipelined(b *testing.B) {
	var cli, srv strings.Builder
	body := strings.Repeat("x", 1024)
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&cli, "GET /item/%d HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n", i)
		fmt.Fprintf(&srv, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	c, s := []byte(cli.String()), []byte(srv.String())
	conn := parsertest.Conn(80)
	b.SetBytes(int64(len(c) + len(s)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := Detector{}.New(conn, nullEnv{})
		for off := 0; off < len(c); off += 1460 {
			p.ProcessPacket(parser.ClientToServer, c[off:min(off+1460, len(c))], conn.Start)
		}
		for off := 0; off < len(s); off += 1460 {
			p.ProcessPacket(parser.ServerToClient, s[off:min(off+1460, len(s))], conn.Start)
		}
		p.EndProcess(parser.EndClosed, conn.Start)
	}
}

// BenchmarkCaptures replays every http connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return Detector{} })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return Detector{} })
}
