package ssh

import (
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// BenchmarkSession: one connection's clear handshake, then 2000
// encrypted segments (keystrokes and bulk), EndProcess.
func BenchmarkSession(b *testing.B) {
	hs := handshake(cliKex, srvKex)
	key, seg := make([]byte, 36), make([]byte, 1448)
	c := parsertest.Conn(22)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		env := parsertest.NewEnv()
		p := Detector{}.New(c, env)
		ts := c.Start
		for _, s := range hs {
			p.ProcessPacket(s.Dir, s.Data, ts)
		}
		for j := 0; j < 1000; j++ {
			ts = ts.Add(100 * time.Millisecond)
			p.ProcessPacket(parser.ClientToServer, key, ts)
			p.ProcessPacket(parser.ServerToClient, seg, ts)
		}
		p.EndProcess(parser.EndClosed, ts)
	}
}

// BenchmarkEncrypted is the per-segment cost after NEWKEYS.
func BenchmarkEncrypted(b *testing.B) {
	c := parsertest.Conn(22)
	p := Detector{}.New(c, parsertest.NewEnv())
	ts := c.Start
	for _, s := range handshake(cliKex, srvKex) {
		p.ProcessPacket(s.Dir, s.Data, ts)
	}
	seg := make([]byte, 1448)
	b.ReportAllocs()
	b.SetBytes(int64(len(seg)))
	for i := 0; i < b.N; i++ {
		ts = ts.Add(time.Millisecond)
		p.ProcessPacket(parser.Direction(i&1), seg, ts)
	}
}

// BenchmarkCaptures replays every ssh connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return Detector{} })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return Detector{} })
}
