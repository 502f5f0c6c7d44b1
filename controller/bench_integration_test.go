//go:build integration

package controller_test

// Benchmarks against live Open vSwitch bridges. Run them with, e.g.:
//
//	go test -tags integration -run '^$' -bench Live -benchtime 20x ./controller/
//
// BenchmarkLiveToggle: a PUT /api/v1/mirror/http until every switch
// confirmed (barrier), for lines of 1, 3 and 10 switches.
// BenchmarkLiveFlowMods: flow mods per second into one bridge, in
// batches of 1000 confirmed by a barrier.
// BenchmarkLiveReconcile: the full reinstall a reconnecting switch gets
// (read its table, add every flow with the new epoch, delete the old
// epoch, barrier), with every protocol on.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/openflow"
)

// benchCtl starts a controller for a benchmark (quiet logs).
func benchCtl(b *testing.B, cfgJSON string) (*controller.Controller, string) {
	b.Helper()
	cfg, err := policy.ParseConfig([]byte(cfgJSON))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := controller.New(ctx, controller.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	return c, ln.Addr().String()
}

func benchWait(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkLiveToggle(b *testing.B) {
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("switches=%d", n), func(b *testing.B) {
			brs := make([]*ovslab.Bridge, n)
			for i := range brs {
				brs[i] = ovslab.NewBridge(b, 0x5db000+uint64(n)<<8+uint64(i))
				if i > 0 {
					ovslab.Link(b, brs[i-1], brs[i])
				}
			}
			ir := brs[n-1].AddHost("10.254.254.1")
			ir.Isolate(4094)
			c, addr := benchCtl(b, fmt.Sprintf(`{"lldp_interval": "1s", "check_interval": "1h",
				"irs": [{"name": "irs1", "dpid": "%016x", "port": %q}],
				"protocols": {"smtp": {"enabled": true}}}`, brs[n-1].DPID, ir.Peer))
			for _, br := range brs {
				br.SetController("tcp:" + addr)
			}
			benchWait(b, "every switch programmed with copy paths", func() bool {
				ss := c.Sessions()
				if len(ss) != n {
					return false
				}
				for _, s := range ss {
					a := s.Applied()
					if a == nil || !strings.Contains(strings.Join(a.Lines(), "\n"), "tp_dst=25 ") {
						return false
					}
				}
				return true
			})
			ctx := context.Background()
			flows := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := c.SetMirror(ctx, "http", i%2 == 0, "bench")
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range res.Switches {
					flows += s.Added + s.Removed
				}
			}
			b.ReportMetric(float64(flows)/float64(b.N), "flowmods/op")
		})
	}
}

// acceptOne points a bridge at a listener and returns the connection.
func acceptOne(b *testing.B, br *ovslab.Bridge) *openflow.Conn {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	br.SetController("tcp:" + ln.Addr().String())
	nc, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := openflow.NewConn(ctx, nc, openflow.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

func BenchmarkLiveFlowMods(b *testing.B) {
	br := ovslab.NewBridge(b, 0x5dc001)
	conn := acceptOne(b, br)
	const batch = 1000
	mods := make([]openflow.Message, batch)
	dels := make([]openflow.Message, batch)
	for i := range mods {
		m, err := openflow.NewMatch(openflow.EthType(openflow.EthTypeIPv4), openflow.IPProto(6), openflow.TCPDst(uint16(1000+i)))
		if err != nil {
			b.Fatal(err)
		}
		fm := openflow.NewFlowMod(openflow.FlowAdd)
		fm.Priority, fm.Match, fm.Cookie = 100, m, 0x5dbe000000000000
		fm.Instructions = []openflow.Instruction{openflow.ApplyActions(openflow.Output(openflow.PortNormal), openflow.Output(1))}
		mods[i] = fm
		d := openflow.NewFlowMod(openflow.FlowDeleteStrict)
		d.Priority, d.Match = 100, m
		dels[i] = d
	}
	ctx := context.Background()
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := conn.SendBatch(ctx, mods...); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		if err := conn.SendBatch(ctx, dels...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(batch*b.N)/elapsed.Seconds(), "flowmods/s")
}

func BenchmarkLiveReconcile(b *testing.B) {
	br := ovslab.NewBridge(b, 0x5dc002)
	ir := br.AddHost("10.254.253.1")
	ir.Isolate(4094)
	var protos []string
	for _, n := range policy.Names() {
		protos = append(protos, fmt.Sprintf("%q: {\"enabled\": true}", n))
	}
	c, addr := benchCtl(b, fmt.Sprintf(`{"check_interval": "1h", "irs": [{"name": "irs1", "dpid": "%016x", "port": %q}], "protocols": {%s}}`,
		br.DPID, ir.Peer, strings.Join(protos, ",")))
	br.SetController("tcp:" + addr)
	benchWait(b, "the switch programmed", func() bool {
		ss := c.Sessions()
		return len(ss) == 1 && ss[0].Applied() != nil
	})
	s := c.Sessions()[0]
	want := s.Applied()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Install(ctx, want); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(want.Flows)), "flows")
}
