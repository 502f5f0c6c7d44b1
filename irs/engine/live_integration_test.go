//go:build integration

package engine

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/irs/capture"
)

// inNetns runs fn on a thread moved into the named network namespace.
// Sockets fn creates stay in that namespace for their whole life. The
// thread is never unlocked, so it dies with the goroutine instead of
// going back to the pool inside the namespace.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// TestLiveCapture captures with AF_PACKET on a veth between two
// namespaces while a real TCP client and server talk the echo protocol,
// and checks that the engine reassembled the conversation for the echo
// parser.
func TestLiveCapture(t *testing.T) {
	p := netlab.NewPair(t)
	const port = 7777

	// The server listens in B.
	var ln net.Listener
	if err := inNetns(p.B.NS, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(p.B.Addr, "7777"))
		return err
	}); err != nil {
		t.Fatalf("listen in %s: %v", p.B.NS, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(strings.TrimPrefix(line, "ECHO ")))
				}
			}(c)
		}
	}()

	// The IRS captures on A's interface.
	var src capture.Source
	if err := inNetns(p.A.NS, func() (err error) {
		src, err = capture.OpenLive(capture.LiveConfig{Interface: p.A.Iface, PollTimeout: 50 * time.Millisecond})
		return err
	}); err != nil {
		t.Fatalf("capture on %s in %s: %v", p.A.Iface, p.A.NS, err)
	}
	t.Cleanup(func() { src.Close() })
	h := newHarness(t, Config{Workers: 2})
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- h.eng.Run(ctx, src) }()
	time.Sleep(200 * time.Millisecond) // the ring is live before the first SYN

	// The client in A talks to B.
	var conn net.Conn
	if err := inNetns(p.A.NS, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, err = d.Dial("tcp", net.JoinHostPort(p.B.Addr, "7777"))
		return err
	}); err != nil {
		t.Fatalf("dial from %s: %v", p.A.NS, err)
	}
	r := bufio.NewReader(conn)
	var want strings.Builder
	for _, word := range []string{"live", "capture", strings.Repeat("x", 3000)} {
		if _, err := conn.Write([]byte("ECHO " + word + "\n")); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != word+"\n" {
			t.Fatalf("echo reply = %q, %v; want %q", got, err, word)
		}
		want.WriteString("ECHO " + word + "\n")
	}
	clientAddr := conn.LocalAddr().String()
	conn.Close()

	// Wait for the FIN exchange to reach the engine.
	deadline := time.Now().Add(10 * time.Second)
	for h.eng.Stats().FlowsClosed == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("after %v: %+v", 10*time.Second-time.Until(deadline), h.eng.Stats())
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	st := h.eng.Stats()
	h.eng.Close()
	got := h.sessions()
	if len(got) != 1 {
		t.Fatalf("echo sessions = %d (%v), want 1; stats %+v", len(got), got, st)
	}
	s := got[0]
	if s["client"] != want.String() {
		t.Errorf("client stream: %d bytes, want %d", len(s["client"].(string)), want.Len())
	}
	if !strings.HasPrefix(s["server"].(string), "live\ncapture\nxxx") {
		t.Errorf("server stream = %.40q…, want the replies", s["server"])
	}
	if s["end"] != "closed" || s["gaps"] != "" || s["midstream"] != false {
		t.Errorf("session end %v, gaps %q, midstream %v; want closed, none, false", s["end"], s["gaps"], s["midstream"])
	}
	ev := h.events("echo-session")[0]
	if ev.Client.String() != clientAddr || ev.Server.String() != net.JoinHostPort(p.B.Addr, "7777") {
		t.Errorf("event client %s server %s, want %s and %s:%d", ev.Client, ev.Server, clientAddr, p.B.Addr, port)
	}
	if st.Source.Packets == 0 || st.Source.KernelDrops != 0 {
		t.Errorf("source stats %+v: want packets and no kernel drops", st.Source)
	}
}
