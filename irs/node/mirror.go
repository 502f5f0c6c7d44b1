package node

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/irs/parser"
)

// mirrorForwarder passes the parsers' requests for dynamic mirroring (an
// FTP data connection, a PPTP GRE call) to the controller. Parsers call
// it from the packet path, so it never blocks: requests queue (bounded)
// for one sending goroutine, and a full queue drops the request with a
// counter and a log line — the connection is then simply not mirrored,
// the capture goes on.
type mirrorForwarder struct {
	c     *client.Client
	log   *slog.Logger
	queue chan parser.MirrorRequest
	wg    sync.WaitGroup

	sent, failed, dropped atomic.Uint64
}

// MirrorStats counts dynamic-mirror requests sent to the controller.
type MirrorStats struct {
	Sent    uint64 `json:"sent"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"` // queue full
}

func newMirrorForwarder(url, token string, log *slog.Logger) *mirrorForwarder {
	var opts []client.Option
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	f := &mirrorForwarder{c: client.New(url, opts...), log: log, queue: make(chan parser.MirrorRequest, 256)}
	f.wg.Add(1)
	go f.run()
	return f
}

// request queues r without blocking.
func (f *mirrorForwarder) request(r parser.MirrorRequest) {
	select {
	case f.queue <- r:
	default:
		if n := f.dropped.Add(1); n&(n-1) == 0 { // log at 1, 2, 4, 8... drops
			f.log.Warn("irs: dynamic mirror queue full; request dropped", "protocol", r.Protocol, "reason", r.Reason, "dropped", n)
		}
	}
}

func (f *mirrorForwarder) run() {
	defer f.wg.Done()
	for r := range f.queue {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := f.c.RequestMirror(ctx, toDynamic(r))
		cancel()
		if err != nil {
			f.failed.Add(1)
			f.log.Warn("irs: controller refused a dynamic mirror", "protocol", r.Protocol, "a", r.A, "b", r.B, "reason", r.Reason, "err", err)
			continue
		}
		f.sent.Add(1)
		f.log.Debug("irs: dynamic mirror requested", "protocol", r.Protocol, "a", r.A, "b", r.B, "reason", r.Reason)
	}
}

// close sends what is queued and stops.
func (f *mirrorForwarder) close() {
	close(f.queue)
	f.wg.Wait()
}

func (f *mirrorForwarder) stats() MirrorStats {
	return MirrorStats{Sent: f.sent.Load(), Failed: f.failed.Load(), Dropped: f.dropped.Load()}
}

// toDynamic turns a parser's request into the controller's API form.
func toDynamic(r parser.MirrorRequest) client.MirrorRequest {
	return client.MirrorRequest{
		Protocol:           r.Protocol,
		Transport:          r.Transport.String(),
		A:                  r.A.String(),
		B:                  r.B.String(),
		IdleTimeoutSeconds: int(r.IdleTimeout / time.Second),
	}
}
