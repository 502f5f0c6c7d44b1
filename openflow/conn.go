package openflow

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of a Conn.
var (
	// ErrClosed: the connection was closed (by Close, the peer, or a
	// failure); Conn.Err tells the cause.
	ErrClosed = errors.New("openflow: connection closed")
	// ErrPeerDead: the peer sent nothing, not even an echo reply, for
	// longer than Config.EchoTimeout.
	ErrPeerDead = errors.New("openflow: peer stopped answering")
	// ErrNoReply: Request was given a message that has no reply.
	ErrNoReply = errors.New("openflow: message has no reply")
)

// Config tunes a Conn. The zero value gives the defaults.
type Config struct {
	// EchoInterval is how long the peer may stay silent before the Conn
	// sends an ECHO_REQUEST. Default 5s; negative disables keepalive.
	EchoInterval time.Duration
	// EchoTimeout is how long the peer may stay silent in total before
	// the Conn declares it dead and closes. Default 3*EchoInterval.
	EchoTimeout time.Duration
	// HelloTimeout bounds the HELLO exchange when ctx has no deadline.
	// Default 10s.
	HelloTimeout time.Duration
	// WriteTimeout bounds each write when ctx has no deadline. Default 10s.
	WriteTimeout time.Duration
	// QueueLen is the capacity of the Messages channel. Default 1024.
	QueueLen int
	// MaxMultipartBytes caps one reassembled multipart reply. Default 64 MiB.
	MaxMultipartBytes int
}

func (c Config) withDefaults() Config {
	if c.EchoInterval == 0 {
		c.EchoInterval = 5 * time.Second
	}
	if c.EchoTimeout <= 0 {
		c.EchoTimeout = 3 * c.EchoInterval
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 1024
	}
	if c.MaxMultipartBytes <= 0 {
		c.MaxMultipartBytes = 64 << 20
	}
	return c
}

// Incoming is a message the peer sent on its own: packet-in, port status,
// flow removed, an error no request waits for, or anything else that
// answers no pending request. Err is set (and Message nil) when the
// message could not be decoded.
type Incoming struct {
	Header  Header
	Message Message
	Err     error
}

// Conn is an OpenFlow 1.3 connection to a switch. It assigns transaction
// ids, matches replies to requests (reassembling multipart replies),
// answers echo requests, probes an idle peer, and hands everything else
// to Messages. All methods are safe for concurrent use.
type Conn struct {
	nc  net.Conn
	cfg Config
	rd  *Reader

	wmu  sync.Mutex
	wbuf []byte

	lastXID  atomic.Uint32
	lastRecv atomic.Int64 // unix nanoseconds
	dropped  atomic.Uint64

	mu      sync.Mutex
	pending map[uint32]*waiter
	closed  bool
	err     error

	done  chan struct{}
	async chan Incoming
	wg    sync.WaitGroup
}

type reply struct {
	msg Message
	err error
}

type waiter struct {
	want  MsgType
	ch    chan reply // nil for batch members
	parts []*MultipartReply
	size  int
	batch *batch
	index int // position in the batch
}

type batch struct {
	errs []batchErr
}

type batchErr struct {
	index int
	err   *Error
}

// BatchError is one error the switch reported for a message of
// SendBatch. errors.As finds it in SendBatch's joined error; errors.Is
// matches its ErrorCode.
type BatchError struct {
	Index int     // position of the message in the batch
	XID   uint32  // transaction id it was sent with
	Type  MsgType // its type
	Err   *Error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("openflow: message %d (%s, xid 0x%x) failed: %s", e.Index, e.Type, e.XID, e.Err.Code)
}

// Unwrap returns the switch's error.
func (e *BatchError) Unwrap() error { return e.Err }

// NewConn performs the HELLO exchange on nc and starts serving it. If the
// peer speaks no common version it is sent ERROR HELLO_FAILED/INCOMPATIBLE
// and the connection is closed; the error wraps HelloFailedIncompatible.
// ctx bounds the handshake only.
func NewConn(ctx context.Context, nc net.Conn, cfg Config) (*Conn, error) {
	c := &Conn{
		nc:      nc,
		cfg:     cfg.withDefaults(),
		rd:      NewReader(nc),
		pending: make(map[uint32]*waiter),
		done:    make(chan struct{}),
	}
	c.async = make(chan Incoming, c.cfg.QueueLen)
	if err := c.handshake(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	c.lastRecv.Store(time.Now().UnixNano())
	c.wg.Add(1)
	go c.readLoop()
	if c.cfg.EchoInterval > 0 {
		c.wg.Add(1)
		go c.keepalive()
	}
	return c, nil
}

// Dial connects to a switch listening for controllers (ovs "ptcp:") and
// performs the handshake.
func Dial(ctx context.Context, network, addr string, cfg Config) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("openflow: dial %s: %w", addr, err)
	}
	return NewConn(ctx, nc, cfg)
}

func (c *Conn) handshake(ctx context.Context) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.cfg.HelloTimeout)
	}
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	hello, _ := AppendMessage(nil, c.nextXID(), NewHello(Version))
	if _, err := c.nc.Write(hello); err != nil {
		return fmt.Errorf("openflow: send hello to %s: %w", c.nc.RemoteAddr(), err)
	}
	raw, err := c.rd.ReadRaw()
	if err != nil {
		return fmt.Errorf("openflow: read hello from %s: %w", c.nc.RemoteAddr(), err)
	}
	h, m, derr := Decode(raw)
	if h.Type == TypeError && derr == nil {
		return wrap(m.(*Error), "%s refused the hello", c.nc.RemoteAddr())
	}
	if h.Type != TypeHello {
		return fmt.Errorf("openflow: %s sent %s before hello: %w", c.nc.RemoteAddr(), h.Type, HelloFailedIncompatible)
	}
	peer, _ := m.(*Hello) // nil when the body did not decode: negotiate on the header
	if _, err := Negotiate(h.Version, peer); err != nil {
		msg := NewError(HelloFailedIncompatible, []byte("sdnli speaks OpenFlow 1.3 (0x04) only"))
		if b, eerr := AppendMessage(nil, h.XID, msg); eerr == nil {
			c.nc.Write(b)
		}
		return wrap(err, "%s", c.nc.RemoteAddr())
	}
	return nil
}

func (c *Conn) nextXID() uint32 {
	for {
		if x := c.lastXID.Add(1); x != 0 {
			return x
		}
	}
}

// Messages delivers what the peer sends on its own (see Incoming). It is
// closed when the connection ends. Keep it drained: when it is full,
// packet-ins are dropped (counted by Dropped) and other messages wait,
// which also holds up replies.
func (c *Conn) Messages() <-chan Incoming { return c.async }

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Dropped counts packet-ins dropped because Messages was full.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Close ends the connection and waits for its goroutines. Pending requests
// fail with ErrClosed.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// fail closes the connection once, recording the cause and failing every
// pending request.
func (c *Conn) fail(cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.err = true, cause
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	close(c.done)
	c.nc.Close()
	err := c.closedErr()
	for _, w := range pending {
		if w.ch != nil {
			w.ch <- reply{err: err}
		}
	}
}

// closedErr is what operations on a closed connection return: ErrClosed,
// with the cause when the connection did not end by Close.
func (c *Conn) closedErr() error {
	c.mu.Lock()
	cause := c.err
	c.mu.Unlock()
	if cause == nil || errors.Is(cause, ErrClosed) {
		return ErrClosed
	}
	return &closedError{cause}
}

type closedError struct{ cause error }

func (e *closedError) Error() string {
	return "openflow: connection closed: " + strings.TrimPrefix(e.cause.Error(), "openflow: ")
}
func (e *closedError) Is(target error) bool { return target == ErrClosed }
func (e *closedError) Unwrap() error        { return e.cause }

// write encodes msgs with their xids into one buffer and writes it. A
// failed or interrupted write closes the connection, since a partial
// message would desynchronise the stream.
func (c *Conn) write(ctx context.Context, xids []uint32, msgs []Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("openflow: send: %w", err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := c.wbuf[:0]
	for i, m := range msgs {
		var err error
		if b, err = AppendMessage(b, xids[i], m); err != nil {
			if len(msgs) > 1 {
				return wrap(err, "message %d", i)
			}
			return err
		}
	}
	if cap(b) <= 1<<20 {
		c.wbuf = b[:0] // keep ordinary buffers, let huge batches go
	}
	select {
	case <-c.done:
		return c.closedErr()
	default:
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.cfg.WriteTimeout)
	}
	c.nc.SetWriteDeadline(deadline)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.nc.SetWriteDeadline(time.Unix(1, 0))
		close(fired)
	})
	_, err := c.nc.Write(b)
	if !stop() {
		<-fired // the callback ran; make sure it cannot touch a later write
	}
	if err != nil {
		err = fmt.Errorf("openflow: write %s to %s: %w", msgs[0].Type(), c.nc.RemoteAddr(), err)
		c.fail(err)
		return err
	}
	return nil
}

// Send sends m with a fresh xid and returns the xid. An error the switch
// reports for it arrives on Messages.
func (c *Conn) Send(ctx context.Context, m Message) (uint32, error) {
	xid := c.nextXID()
	return xid, c.write(ctx, []uint32{xid}, []Message{m})
}

// replyTypes maps each request to its reply.
var replyTypes = map[MsgType]MsgType{
	TypeEchoRequest:           TypeEchoReply,
	TypeFeaturesRequest:       TypeFeaturesReply,
	TypeGetConfigRequest:      TypeGetConfigReply,
	TypeMultipartRequest:      TypeMultipartReply,
	TypeBarrierRequest:        TypeBarrierReply,
	TypeQueueGetConfigRequest: TypeQueueGetConfigReply,
	TypeRoleRequest:           TypeRoleReply,
	TypeGetAsyncRequest:       TypeGetAsyncReply,
}

func (c *Conn) register(xid uint32, w *waiter) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.pending[xid] = w
	return nil
}

func (c *Conn) unregister(xids ...uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range xids {
		delete(c.pending, x)
	}
}

// Request sends a request and waits for its reply: the reply message, a
// reassembled MULTIPART_REPLY, or the switch's *Error (as a Go error).
func (c *Conn) Request(ctx context.Context, m Message) (Message, error) {
	want, ok := replyTypes[m.Type()]
	if !ok {
		return nil, fmt.Errorf("%w: %s (use Send or SendBatch)", ErrNoReply, m.Type())
	}
	xid := c.nextXID()
	w := &waiter{want: want, ch: make(chan reply, 1)}
	if err := c.register(xid, w); err != nil {
		return nil, c.closedErr()
	}
	if err := c.write(ctx, []uint32{xid}, []Message{m}); err != nil {
		c.unregister(xid)
		return nil, err
	}
	select {
	case r := <-w.ch:
		var swErr *Error
		if errors.As(r.err, &swErr) {
			return nil, swErr // names the request and its xid itself
		}
		if r.err != nil {
			return nil, wrap(r.err, "%s (xid 0x%x)", m.Type(), xid)
		}
		return r.msg, nil
	case <-ctx.Done():
		c.unregister(xid)
		return nil, fmt.Errorf("openflow: %s (xid 0x%x): no reply: %w", m.Type(), xid, ctx.Err())
	}
}

// SendBatch sends msgs followed by a BARRIER_REQUEST in one write and
// waits for the barrier reply. Since the switch finishes every earlier
// message before it answers a barrier, the returned error lists exactly
// the errors the switch reported for msgs (each an *Error, wrapped with
// its position), or nil if all succeeded.
func (c *Conn) SendBatch(ctx context.Context, msgs ...Message) error {
	b := &batch{}
	xids := make([]uint32, len(msgs)+1)
	all := make([]Message, len(msgs)+1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.closedErr()
	}
	for i, m := range msgs {
		xids[i] = c.nextXID()
		all[i] = m
		c.pending[xids[i]] = &waiter{batch: b, index: i}
	}
	barrier := &waiter{want: TypeBarrierReply, ch: make(chan reply, 1)}
	xids[len(msgs)] = c.nextXID()
	all[len(msgs)] = &BarrierRequest{}
	c.pending[xids[len(msgs)]] = barrier
	c.mu.Unlock()
	defer c.unregister(xids...)

	if err := c.write(ctx, xids, all); err != nil {
		return err
	}
	select {
	case r := <-barrier.ch:
		if r.err != nil {
			return wrap(r.err, "barrier after %d messages", len(msgs))
		}
	case <-ctx.Done():
		return fmt.Errorf("openflow: barrier after %d messages: no reply: %w", len(msgs), ctx.Err())
	}
	c.mu.Lock()
	errs := slices.Clone(b.errs)
	c.mu.Unlock()
	slices.SortFunc(errs, func(x, y batchErr) int { return cmp.Compare(x.index, y.index) })
	var out []error
	for _, e := range errs {
		out = append(out, &BatchError{Index: e.index, XID: xids[e.index], Type: msgs[e.index].Type(), Err: e.err})
	}
	return errors.Join(out...)
}

// Barrier waits until the switch has processed everything sent before.
func (c *Conn) Barrier(ctx context.Context) error {
	_, err := c.Request(ctx, &BarrierRequest{})
	return err
}

// Echo sends an ECHO_REQUEST with data and checks the reply echoes it.
func (c *Conn) Echo(ctx context.Context, data []byte) error {
	m, err := c.Request(ctx, &EchoRequest{Data: data})
	if err != nil {
		return err
	}
	if r, ok := m.(*EchoReply); !ok || !bytes.Equal(r.Data, data) {
		return fmt.Errorf("openflow: %w: echo reply does not carry the request's %d bytes", ErrInvalid, len(data))
	}
	return nil
}

// Features asks for the switch features (datapath id, tables, buffers).
func (c *Conn) Features(ctx context.Context) (*FeaturesReply, error) {
	m, err := c.Request(ctx, &FeaturesRequest{})
	if err != nil {
		return nil, err
	}
	return m.(*FeaturesReply), nil
}

// Multipart sends a multipart request and returns the reassembled reply body.
func (c *Conn) Multipart(ctx context.Context, body MultipartRequestBody) (MultipartReplyBody, error) {
	m, err := c.Request(ctx, &MultipartRequest{Body: body})
	if err != nil {
		return nil, err
	}
	rep := m.(*MultipartReply).Body
	if rep.MultipartType() != body.MultipartType() {
		return nil, fmt.Errorf("openflow: %w: multipart asked for %s, got %s", ErrInvalid, body.MultipartType(), rep.MultipartType())
	}
	return rep, nil
}

// FlowStats returns the flows selected by req (NewFlowStatsRequest for all).
func (c *Conn) FlowStats(ctx context.Context, req *FlowStatsRequest) ([]FlowStats, error) {
	rep, err := c.Multipart(ctx, req)
	if err != nil {
		return nil, err
	}
	return rep.(*FlowStatsReply).Flows, nil
}

// PortDesc returns the switch's ports.
func (c *Conn) PortDesc(ctx context.Context) ([]Port, error) {
	rep, err := c.Multipart(ctx, &PortDescRequest{})
	if err != nil {
		return nil, err
	}
	return rep.(*PortDescReply).Ports, nil
}

// Desc returns the switch description.
func (c *Conn) Desc(ctx context.Context) (*DescReply, error) {
	rep, err := c.Multipart(ctx, &DescRequest{})
	if err != nil {
		return nil, err
	}
	return rep.(*DescReply), nil
}

// SetRole asks for a controller role; the reply tells the role granted.
func (c *Conn) SetRole(ctx context.Context, role ControllerRole, generation uint64) (*RoleReply, error) {
	m, err := c.Request(ctx, &RoleRequest{Role{Role: role, GenerationID: generation}})
	if err != nil {
		return nil, err
	}
	return m.(*RoleReply), nil
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer close(c.async)
	for {
		raw, err := c.rd.ReadRaw()
		if err != nil {
			c.fail(fmt.Errorf("openflow: read from %s: %w", c.nc.RemoteAddr(), err))
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		h, m, err := Decode(raw)
		if err != nil {
			c.decodeFailed(h, raw, err)
			continue
		}
		switch msg := m.(type) {
		case *EchoRequest:
			c.writeAsync(h.XID, &EchoReply{Data: msg.Data})
			continue
		case *Hello:
			continue
		}
		if c.dispatch(h, m, len(raw)) {
			continue
		}
		if h.Type == TypeEchoReply {
			continue // answer to a keepalive probe
		}
		if !c.queue(Incoming{Header: h, Message: m}) {
			return
		}
	}
}

// writeAsync answers the peer from the read loop without making the
// loop wait for the write.
func (c *Conn) writeAsync(xid uint32, m Message) {
	c.wg.Add(1) // the read loop holds the group open, so Add cannot race Wait
	go func() {
		defer c.wg.Done()
		c.write(context.Background(), []uint32{xid}, []Message{m})
	}()
}

// decodeFailed reports an undecodable message to its waiter, or to the
// peer (as the spec asks) and to Messages.
func (c *Conn) decodeFailed(h Header, raw []byte, err error) {
	c.mu.Lock()
	w := c.pending[h.XID]
	if w != nil && w.ch != nil {
		delete(c.pending, h.XID)
	}
	c.mu.Unlock()
	if w != nil && w.ch != nil {
		w.ch <- reply{err: err}
		return
	}
	if h.Type != TypeError {
		code := BadRequestBadLen
		switch {
		case errors.Is(err, ErrBadVersion):
			code = BadRequestBadVersion
		case errors.Is(err, ErrUnknownType) && h.Type > TypeMeterMod:
			code = BadRequestBadType
		case errors.Is(err, ErrUnknownType) && h.Type == TypeMultipartReply:
			code = BadRequestBadMultipart
		}
		c.writeAsync(h.XID, NewError(code, cloneBytes(raw[:min(len(raw), 64)])))
	}
	c.queue(Incoming{Header: h, Err: err})
}

// dispatch hands m to the request waiting for its xid, if any.
func (c *Conn) dispatch(h Header, m Message, size int) bool {
	c.mu.Lock()
	w := c.pending[h.XID]
	if w == nil {
		c.mu.Unlock()
		return false
	}
	if e, isErr := m.(*Error); isErr {
		delete(c.pending, h.XID)
		if w.batch != nil {
			w.batch.errs = append(w.batch.errs, batchErr{w.index, e})
			c.mu.Unlock()
			return true
		}
		c.mu.Unlock()
		w.ch <- reply{err: e}
		return true
	}
	if w.batch != nil || m.Type() != w.want {
		c.mu.Unlock()
		return false
	}
	mp, isMP := m.(*MultipartReply)
	if !isMP {
		delete(c.pending, h.XID)
		c.mu.Unlock()
		w.ch <- reply{msg: m}
		return true
	}
	w.parts = append(w.parts, mp)
	w.size += size
	if w.size > c.cfg.MaxMultipartBytes {
		delete(c.pending, h.XID)
		c.mu.Unlock()
		w.ch <- reply{err: fmt.Errorf("%w: multipart reply exceeds %d bytes", ErrTooLong, c.cfg.MaxMultipartBytes)}
		return true
	}
	if mp.More() {
		c.mu.Unlock()
		return true
	}
	delete(c.pending, h.XID)
	c.mu.Unlock()
	full, err := Reassemble(w.parts)
	if err != nil {
		w.ch <- reply{err: err}
	} else {
		w.ch <- reply{msg: full}
	}
	return true
}

// queue delivers to Messages; false when the connection closed meanwhile.
func (c *Conn) queue(in Incoming) bool {
	select {
	case c.async <- in:
		return true
	default:
	}
	if in.Header.Type == TypePacketIn {
		c.dropped.Add(1)
		return true
	}
	select {
	case c.async <- in:
		return true
	case <-c.done:
		return false
	}
}

// keepalive probes a silent peer and closes the connection when it stays
// silent past EchoTimeout.
func (c *Conn) keepalive() {
	defer c.wg.Done()
	tick := max(min(c.cfg.EchoInterval, c.cfg.EchoTimeout)/4, 5*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	var probed time.Time
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		last := time.Unix(0, c.lastRecv.Load())
		idle := time.Since(last)
		if idle >= c.cfg.EchoTimeout {
			c.fail(fmt.Errorf("%w: nothing received from %s for %s", ErrPeerDead, c.nc.RemoteAddr(), idle.Round(time.Millisecond)))
			return
		}
		if idle >= c.cfg.EchoInterval && time.Since(probed) >= c.cfg.EchoInterval {
			probed = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout)
			c.Send(ctx, &EchoRequest{})
			cancel()
		}
	}
}
