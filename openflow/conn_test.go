package openflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSwitch is the far end of a net.Pipe, scripted by each test. A
// goroutine drains what the Conn writes into in, so Conn writes never
// block on the test.
type fakeSwitch struct {
	t   *testing.T
	nc  net.Conn
	in  chan received
	wmu sync.Mutex
}

type received struct {
	h   Header
	m   Message
	err error
}

func newFakeSwitch(t *testing.T, nc net.Conn) *fakeSwitch {
	s := &fakeSwitch{t: t, nc: nc, in: make(chan received, 4096)}
	go func() {
		defer close(s.in)
		r := NewReader(nc)
		for {
			raw, err := r.ReadRaw()
			if err != nil {
				return
			}
			h, m, err := Decode(raw)
			s.in <- received{h, m, err}
		}
	}()
	return s
}

func (s *fakeSwitch) send(xid uint32, m Message) {
	s.t.Helper()
	b, err := Marshal(xid, m)
	if err != nil {
		s.t.Fatalf("switch: marshal %s: %v", m.Type(), err)
	}
	s.sendRaw(b)
}

func (s *fakeSwitch) sendRaw(b []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.nc.Write(b) // errors show up as test failures elsewhere
}

// recv returns the next message the Conn sent, failing after a timeout.
func (s *fakeSwitch) recv() received {
	s.t.Helper()
	select {
	case r, ok := <-s.in:
		if !ok {
			s.t.Fatal("switch: connection closed while waiting for a message")
		}
		return r
	case <-time.After(5 * time.Second):
		s.t.Fatal("switch: no message within 5s")
	}
	return received{}
}

// expectClosed waits until the Conn has closed its end.
func (s *fakeSwitch) expectClosed() {
	s.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.in:
			if !ok {
				return
			}
		case <-deadline:
			s.t.Fatal("switch: connection still open after 5s")
		}
	}
}

// connect runs the handshake with a switch that speaks 1.0 and 1.3.
func connect(t *testing.T, cfg Config) (*Conn, *fakeSwitch) {
	t.Helper()
	a, b := net.Pipe()
	sw := newFakeSwitch(t, b)
	go sw.sendRaw(mustBytes(t, 1, NewHello(1, 4))) // a pipe write waits for the reader
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := NewConn(ctx, a, cfg)
	if err != nil {
		t.Fatalf("NewConn: %v", err)
	}
	if r := sw.recv(); r.h.Type != TypeHello {
		t.Fatalf("first message from Conn = %s, want HELLO", r.h.Type)
	}
	t.Cleanup(func() { c.Close(); b.Close() })
	return c, sw
}

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConnHandshake(t *testing.T) {
	tests := []struct {
		name     string
		peer     []byte // first bytes the switch sends
		wantErr  error  // nil: handshake succeeds
		wantSent ErrorCode
	}{
		{"1.3 bitmap", mustBytes(t, 1, NewHello(4)), nil, 0},
		{"1.0 to 1.5 bitmap", mustBytes(t, 1, NewHello(1, 2, 3, 4, 5, 6)), nil, 0},
		{"1.3 without bitmap", []byte{4, 0, 0, 8, 0, 0, 0, 1}, nil, 0},
		{"1.5 without bitmap", []byte{6, 0, 0, 8, 0, 0, 0, 1}, nil, 0},
		{"1.0 only", []byte{1, 0, 0, 8, 0, 0, 0, 1}, HelloFailedIncompatible, HelloFailedIncompatible},
		{"bitmap without 1.3", func() []byte { b := mustBytes(t, 1, NewHello(1, 6)); b[0] = 6; return b }(), HelloFailedIncompatible, HelloFailedIncompatible},
		{"features before hello", mustBytes(t, 1, &FeaturesRequest{}), HelloFailedIncompatible, 0},
		{"switch refuses", mustBytes(t, 1, NewError(HelloFailedEPerm, []byte("go away"))), HelloFailedEPerm, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			sw := newFakeSwitch(t, b)
			go sw.sendRaw(tt.peer)
			c, err := NewConn(ctx5s(t), a, Config{EchoInterval: -1})
			if r := sw.recv(); r.h.Type != TypeHello || r.h.Version != Version {
				t.Fatalf("Conn sent %+v first, want a 1.3 HELLO", r.h)
			} else if words, ok := r.m.(*Hello).Bitmap(); !ok || len(words) != 1 || words[0] != 1<<4 {
				t.Errorf("Conn's hello bitmap = %v, want [0x10]", words)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("NewConn: %v", err)
				}
				c.Close()
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewConn error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantSent != 0 {
				r := sw.recv()
				e, ok := r.m.(*Error)
				if !ok || e.Code != tt.wantSent {
					t.Fatalf("Conn sent %v, want ERROR %s", r.m, tt.wantSent)
				}
			}
			sw.expectClosed()
		})
	}
}

func TestConnHandshakeTimeout(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	newFakeSwitch(t, b) // reads, never answers
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := NewConn(ctx, a, Config{}); err == nil {
		t.Fatal("NewConn succeeded without a hello from the peer")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("NewConn took %s, want about 100ms", d)
	}
}

func TestConnRequestCorrelation(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	const n = 20
	// Answer every echo request in reverse order of arrival.
	go func() {
		var got []received
		for len(got) < n {
			r, ok := <-sw.in
			if !ok {
				return
			}
			got = append(got, r)
		}
		for i := len(got) - 1; i >= 0; i-- {
			sw.send(got[i].h.XID, &EchoReply{Data: got[i].m.(*EchoRequest).Data})
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Echo(ctx5s(t), []byte(fmt.Sprintf("request %d", i)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Echo: %v", err)
		}
	}
}

func TestConnErrorReply(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	done := make(chan error, 1)
	go func() { done <- c.Barrier(ctx5s(t)) }()
	r := sw.recv()
	if r.h.Type != TypeBarrierRequest {
		t.Fatalf("got %s, want BARRIER_REQUEST", r.h.Type)
	}
	raw := mustBytes(t, r.h.XID, r.m)
	sw.send(r.h.XID, NewError(BadRequestBadType, raw))
	err := <-done
	var e *Error
	if !errors.Is(err, BadRequestBadType) || !errors.As(err, &e) {
		t.Fatalf("Barrier error = %v, want *Error BadRequestBadType", err)
	}
	if h, ok := e.Offending(); !ok || h.XID != r.h.XID {
		t.Errorf("offending header = %+v, want xid %d", h, r.h.XID)
	}
}

func TestConnMultipartReassembly(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	type result struct {
		flows []FlowStats
		err   error
	}
	done := make(chan result, 1)
	go func() {
		flows, err := c.FlowStats(ctx5s(t), NewFlowStatsRequest())
		done <- result{flows, err}
	}()
	r := sw.recv()
	req, ok := r.m.(*MultipartRequest)
	if !ok || req.Body.MultipartType() != MultipartFlow {
		t.Fatalf("got %#v, want a flow stats request", r.m)
	}
	flow := func(p uint16) FlowStats { return FlowStats{Priority: p, Match: mustMatch(t, InPort(uint32(p)))} }
	sw.send(r.h.XID, &MultipartReply{Flags: MultipartMore, Body: &FlowStatsReply{Flows: []FlowStats{flow(1), flow(2)}}})
	sw.send(99, &PacketIn{BufferID: NoBuffer, Match: mustMatch(t, InPort(5)), Data: []byte{1}}) // interleaved
	sw.send(r.h.XID, &MultipartReply{Flags: MultipartMore, Body: &FlowStatsReply{Flows: []FlowStats{flow(3)}}})
	sw.send(r.h.XID, &MultipartReply{Body: &FlowStatsReply{Flows: []FlowStats{flow(4)}}})
	res := <-done
	if res.err != nil {
		t.Fatalf("FlowStats: %v", res.err)
	}
	var got []uint16
	for _, f := range res.flows {
		got = append(got, f.Priority)
	}
	if fmt.Sprint(got) != "[1 2 3 4]" {
		t.Errorf("reassembled priorities = %v, want [1 2 3 4]", got)
	}
	if in := <-c.Messages(); in.Header.Type != TypePacketIn || in.Header.XID != 99 {
		t.Errorf("async message = %+v, want the interleaved packet-in", in.Header)
	}
}

func TestConnMultipartCap(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1, MaxMultipartBytes: 200})
	done := make(chan error, 1)
	go func() { _, err := c.PortDesc(ctx5s(t)); done <- err }()
	r := sw.recv()
	for range 3 {
		sw.send(r.h.XID, &MultipartReply{Flags: MultipartMore, Body: &PortDescReply{Ports: []Port{samplePort(1, "p")}}})
	}
	if err := <-done; !errors.Is(err, ErrTooLong) {
		t.Errorf("PortDesc error = %v, want ErrTooLong", err)
	}
}

func TestConnSendBatch(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	mods := []Message{mirrorFlow(t), mirrorFlow(t), mirrorFlow(t)}
	done := make(chan error, 1)
	go func() { done <- c.SendBatch(ctx5s(t), mods...) }()
	var xids []uint32
	for range 4 {
		r := sw.recv()
		xids = append(xids, r.h.XID)
		if len(xids) == 4 && r.h.Type != TypeBarrierRequest {
			t.Fatalf("fourth message = %s, want BARRIER_REQUEST", r.h.Type)
		}
	}
	sw.send(xids[1], NewError(FlowModFailedOverlap, nil))
	sw.send(xids[3], &BarrierReply{})
	err := <-done
	if !errors.Is(err, FlowModFailedOverlap) {
		t.Fatalf("SendBatch error = %v, want FlowModFailedOverlap", err)
	}
	if want := fmt.Sprintf("message 1 (OFPT_FLOW_MOD, xid 0x%x)", xids[1]); !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("SendBatch error = %q, want it to name %q", err, want)
	}

	go func() { done <- c.SendBatch(ctx5s(t), mods...) }()
	for range 3 {
		sw.recv()
	}
	sw.send(sw.recv().h.XID, &BarrierReply{})
	if err := <-done; err != nil {
		t.Errorf("clean batch: %v", err)
	}
}

func TestConnAsyncAndEcho(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	sw.send(10, &PacketIn{BufferID: NoBuffer, Match: mustMatch(t, InPort(1)), Data: lldpFrame()})
	sw.send(11, &PortStatus{Reason: PortReasonDelete, Port: samplePort(2, "p2")})
	sw.send(12, &FlowRemoved{Reason: FlowRemovedDelete, Match: mustMatch(t, InPort(1))})
	sw.send(13, NewError(BadActionBadOutPort, nil)) // no request waits for xid 13
	sw.send(14, &EchoRequest{Data: []byte("hi")})
	sw.send(15, &EchoReply{}) // unsolicited: swallowed
	sw.send(16, &BarrierReply{})
	for _, want := range []MsgType{TypePacketIn, TypePortStatus, TypeFlowRemoved, TypeError, TypeBarrierReply} {
		select {
		case in := <-c.Messages():
			if in.Header.Type != want || in.Err != nil {
				t.Errorf("async message = %s (%v), want %s", in.Header.Type, in.Err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no async %s", want)
		}
	}
	r := sw.recv()
	if r.h.Type != TypeEchoReply || r.h.XID != 14 || string(r.m.(*EchoReply).Data) != "hi" {
		t.Errorf("answer to the switch's echo = %+v %#v, want ECHO_REPLY xid 14 \"hi\"", r.h, r.m)
	}
}

func TestConnUndecodableMessage(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	sw.sendRaw([]byte{4, 99, 0, 12, 0, 0, 0, 42, 1, 2, 3, 4})
	in := <-c.Messages()
	if in.Err == nil || !errors.Is(in.Err, ErrUnknownType) || in.Header.XID != 42 {
		t.Errorf("Incoming = %+v, want the decode error for xid 42", in)
	}
	r := sw.recv()
	if e, ok := r.m.(*Error); !ok || e.Code != BadRequestBadType || r.h.XID != 42 {
		t.Errorf("Conn answered %+v %v, want ERROR BAD_TYPE xid 42", r.h, r.m)
	}
	// The connection keeps working.
	go func() {
		r := sw.recv()
		sw.send(r.h.XID, &BarrierReply{})
	}()
	if err := c.Barrier(ctx5s(t)); err != nil {
		t.Errorf("Barrier after a bad message: %v", err)
	}
}

func TestConnKeepalive(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: 40 * time.Millisecond, EchoTimeout: 200 * time.Millisecond})
	// Answer echo requests for a while: the connection must stay up.
	answering := time.Now()
	probes := 0
	for time.Since(answering) < 500*time.Millisecond {
		r := sw.recv()
		if r.h.Type == TypeEchoRequest {
			probes++
			sw.send(r.h.XID, &EchoReply{})
		}
	}
	if probes < 3 {
		t.Errorf("%d echo probes in 500ms with a 40ms interval, want at least 3", probes)
	}
	select {
	case <-c.Done():
		t.Fatalf("connection closed although the peer answered: %v", c.Err())
	default:
	}
	// Stop answering: the peer must be declared dead.
	stopped := time.Now()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("connection still open 3s after the peer went silent")
	}
	if d := time.Since(stopped); d > 1500*time.Millisecond {
		t.Errorf("dead peer detected after %s, want about 200ms", d)
	}
	if !errors.Is(c.Err(), ErrPeerDead) {
		t.Errorf("Err() = %v, want ErrPeerDead", c.Err())
	}
	if err := c.Barrier(ctx5s(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Barrier on a dead connection = %v, want ErrClosed", err)
	}
}

func TestConnClose(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	done := make(chan error, 1)
	go func() { done <- c.Barrier(context.Background()) }()
	sw.recv() // the barrier request, never answered
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("pending Barrier = %v, want ErrClosed", err)
	}
	if _, ok := <-c.Messages(); ok {
		t.Error("Messages not closed after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Send(ctx5s(t), &BarrierRequest{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	sw.expectClosed()
}

func TestConnPeerCloses(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	done := make(chan error, 1)
	go func() { done <- c.Barrier(context.Background()) }()
	sw.recv()
	sw.nc.Close()
	if err := <-done; !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
		t.Errorf("pending Barrier = %v, want ErrClosed wrapping io.EOF", err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), io.EOF) {
		t.Errorf("Err() = %v, want io.EOF", c.Err())
	}
}

func TestConnRequestTimeout(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Features(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Features = %v, want DeadlineExceeded", err)
	}
	// The late reply is not lost: it arrives as an asynchronous message.
	r := sw.recv()
	sw.send(r.h.XID, &FeaturesReply{DatapathID: 1})
	if in := <-c.Messages(); in.Header.Type != TypeFeaturesReply {
		t.Errorf("late reply delivered as %s, want FEATURES_REPLY", in.Header.Type)
	}
	if _, err := c.Request(ctx5s(t), mirrorFlow(t)); !errors.Is(err, ErrNoReply) {
		t.Errorf("Request(FLOW_MOD) = %v, want ErrNoReply", err)
	}
}

func TestConnDropsPacketInsWhenFull(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1, QueueLen: 1})
	for i := range 5 {
		sw.send(uint32(100+i), &PacketIn{BufferID: NoBuffer, Match: mustMatch(t, InPort(1))})
	}
	// Replies still flow although nobody drains Messages.
	go func() {
		r := sw.recv()
		sw.send(r.h.XID, &BarrierReply{})
	}()
	if err := c.Barrier(ctx5s(t)); err != nil {
		t.Fatalf("Barrier with a full queue: %v", err)
	}
	if got := c.Dropped(); got != 4 {
		t.Errorf("Dropped() = %d, want 4", got)
	}
}

func TestConnHelpers(t *testing.T) {
	c, sw := connect(t, Config{EchoInterval: -1})
	go func() {
		for {
			r, ok := <-sw.in
			if !ok {
				return
			}
			switch m := r.m.(type) {
			case *FeaturesRequest:
				sw.send(r.h.XID, &FeaturesReply{DatapathID: 0xabc, NTables: 254})
			case *RoleRequest:
				sw.send(r.h.XID, &RoleReply{m.Role})
			case *MultipartRequest:
				switch m.Body.(type) {
				case *DescRequest:
					sw.send(r.h.XID, &MultipartReply{Body: &DescReply{Manufacturer: "test"}})
				case *PortDescRequest:
					sw.send(r.h.XID, &MultipartReply{Body: &PortDescReply{Ports: []Port{samplePort(1, "a")}}})
				case *TableStatsRequest:
					sw.send(r.h.XID, &MultipartReply{Body: &PortDescReply{}}) // wrong type on purpose
				}
			}
		}
	}()
	ctx := ctx5s(t)
	if f, err := c.Features(ctx); err != nil || f.DatapathID != 0xabc {
		t.Errorf("Features = %+v, %v", f, err)
	}
	if r, err := c.SetRole(ctx, RoleMaster, 3); err != nil || r.Role.Role != RoleMaster || r.GenerationID != 3 {
		t.Errorf("SetRole = %+v, %v", r, err)
	}
	if d, err := c.Desc(ctx); err != nil || d.Manufacturer != "test" {
		t.Errorf("Desc = %+v, %v", d, err)
	}
	if p, err := c.PortDesc(ctx); err != nil || len(p) != 1 || p[0].Name != "a" {
		t.Errorf("PortDesc = %+v, %v", p, err)
	}
	if _, err := c.Multipart(ctx, &TableStatsRequest{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Multipart with a mismatched reply = %v, want ErrInvalid", err)
	}
}

func TestConnSendBatchInvalidMessage(t *testing.T) {
	c, _ := connect(t, Config{EchoInterval: -1})
	bad := NewFlowMod(FlowAdd)
	bad.Instructions = []Instruction{ApplyActions(SetField(VLANVID(5000)))}
	err := c.SendBatch(ctx5s(t), mirrorFlow(t), bad)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "message 1") {
		t.Errorf("SendBatch = %v, want ErrInvalid naming message 1", err)
	}
	// Nothing was written, so the connection is still usable.
	select {
	case <-c.Done():
		t.Errorf("connection closed by an encoding error: %v", c.Err())
	default:
	}
}
