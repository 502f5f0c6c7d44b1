package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// snapLen is the snap length written in session pcap headers: the IRS
// keeps whole frames.
const snapLen = 262144

// writeOutAt is how many bytes a session buffers before writing them:
// most sessions are written once, when they end or when an event names
// them, in one system call.
const writeOutAt = 64 << 10

// defaultMaxBuffered bounds the memory the buffers of one Sessions set
// take; past it the least recently written sessions are written out and
// give their buffers back.
const defaultMaxBuffered = 32 << 20

// Session buffers come in two sizes, recycled: a session starts with a
// small one and moves to a large one when it outgrows it, so the packets
// are copied once on the way, not at every doubling of a growing slice.
const (
	smallBuffer = 16 << 10
	largeBuffer = writeOutAt + 64<<10
	maxFree     = 64 // buffers kept for reuse, of each size
)

// SessionInfo names a session file.
type SessionInfo struct {
	Protocol string // the parser's name
	ID       uint64 // the connection's ID
	Client   netip.AddrPort
	Server   netip.AddrPort
	Start    time.Time // first packet: decides the day directory (UTC)
	LinkType layers.LinkType
}

// Sessions writes session pcaps for one goroutine. Packets are kept in
// memory per session and written in large pieces: when a session has
// buffered writeOutAt bytes, when an event names it (Flush), when it ends
// (Close), when it has been idle (CloseIdle), or when the set holds more
// than its memory bound. A file exists from its first write on. At most
// maxOpen file handles are kept between writes. It is not safe for
// concurrent use; each worker has its own.
type Sessions struct {
	st          *Store
	maxOpen     int
	maxBuffered int
	handles     int         // files open
	buffered    int         // memory held by the sessions' buffers (capacity)
	active      int         // sessions in the list
	head, tail  *Session    // sessions with a file open or bytes buffered, least recently written first
	madeDir     string      // the last day directory created
	free        [2][][]byte // small and large buffers given back, for reuse
	// Reopens counts files opened again after their handle was closed.
	Reopens uint64
}

// NewSessions returns a session writer bounded to maxOpen open files
// (default 64) and 32 MiB of buffered packets.
func (s *Store) NewSessions(maxOpen int) *Sessions {
	if maxOpen <= 0 {
		maxOpen = 64
	}
	return &Sessions{st: s, maxOpen: maxOpen, maxBuffered: defaultMaxBuffered}
}

// Open returns the number of session files currently open.
func (ss *Sessions) Open() int { return ss.handles }

// Active returns the number of sessions holding an open file or packets
// not yet written.
func (ss *Sessions) Active() int { return ss.active }

// Buffered returns the memory the sessions' buffers hold.
func (ss *Sessions) Buffered() int { return ss.buffered }

// Session is one session's pcap file.
type Session struct {
	set        *Sessions
	dirRel     string // sessions/YYYY/MM/DD
	base       string // file name without ".pcap"
	rel        string // path relative to the data directory, final once created
	created    bool
	fd         int // -1 without an open handle
	buf        []byte
	listed     bool
	prev, next *Session
	lt         layers.LinkType
	closed     bool
	err        error
	last       time.Time // timestamp of the last packet written
	since      time.Time // timestamp of the oldest packet buffered
	// Packets counts the packets written.
	Packets uint64
}

// safeName keeps letters, digits, '-' and '_' of a protocol name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 32 {
			break
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// endpointName renders an address and port for a file name: IPv6 colons
// become dots, the port follows an underscore.
func endpointName(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return "none"
	}
	a := strings.ReplaceAll(ap.Addr().Unmap().WithZone("").String(), ":", ".")
	return a + "_" + strconv.Itoa(int(ap.Port()))
}

// Create starts a session file. Nothing touches the disk yet: the file
// is created with its first write. Its name is unique: if a file of that
// name exists (an earlier run of the IRS used the same connection ID), a
// numeric suffix is added then.
func (ss *Sessions) Create(info SessionInfo) (*Session, error) {
	day := info.Start.UTC()
	if info.Start.IsZero() {
		day = time.Now().UTC()
	}
	s := &Session{
		set:    ss,
		dirRel: fmt.Sprintf("sessions/%04d/%02d/%02d", day.Year(), int(day.Month()), day.Day()),
		base:   safeName(info.Protocol) + "-" + strconv.FormatUint(info.ID, 10) + "-" + endpointName(info.Client) + "-" + endpointName(info.Server),
		fd:     -1,
		lt:     info.LinkType,
	}
	s.rel = s.dirRel + "/" + s.base + ".pcap"
	s.buf = ss.take(smallBuffer)
	s.buf = appendFileHeader(s.buf, info.LinkType)
	ss.touch(s)
	ss.st.sessions.Add(1)
	return s, nil
}

// appendFileHeader appends a pcap file header with nanosecond timestamps.
func appendFileHeader(b []byte, lt layers.LinkType) []byte {
	b = binary.LittleEndian.AppendUint32(b, 0xa1b23c4d) // nanosecond resolution
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint32(b, 0) // thiszone
	b = binary.LittleEndian.AppendUint32(b, 0) // sigfigs
	b = binary.LittleEndian.AppendUint32(b, snapLen)
	return binary.LittleEndian.AppendUint32(b, uint32(lt))
}

// take returns an empty buffer of the given size class, counted as held.
func (ss *Sessions) take(size int) []byte {
	c := 0
	if size == largeBuffer {
		c = 1
	}
	var b []byte
	if n := len(ss.free[c]); n > 0 {
		b = ss.free[c][n-1]
		ss.free[c] = ss.free[c][:n-1]
	} else {
		b = make([]byte, 0, size)
	}
	ss.buffered += cap(b)
	return b
}

// give takes a buffer back, for reuse when it is of a size class.
func (ss *Sessions) give(b []byte) {
	ss.buffered -= cap(b)
	for c, size := range [2]int{smallBuffer, largeBuffer} {
		if cap(b) == size && len(ss.free[c]) < maxFree {
			ss.free[c] = append(ss.free[c], b[:0])
		}
	}
}

// touch makes s the most recently written session.
func (ss *Sessions) touch(s *Session) {
	if s.listed {
		if ss.tail == s {
			return
		}
		ss.unlink(s)
	}
	s.prev, s.next = ss.tail, nil
	if ss.tail != nil {
		ss.tail.next = s
	} else {
		ss.head = s
	}
	ss.tail = s
	s.listed = true
	ss.active++
}

func (ss *Sessions) unlink(s *Session) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		ss.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		ss.tail = s.prev
	}
	s.prev, s.next, s.listed = nil, nil, false
	ss.active--
}

// Path returns the file's path relative to the data directory (the
// events' RawRef). The name becomes final when the file is created, so
// Path creates it (writing what is buffered) if that has not happened;
// it is empty if the file could not be created.
func (s *Session) Path() string {
	if !s.created && s.err == nil {
		s.writeOut(true)
	}
	if !s.created {
		return ""
	}
	return s.rel
}

// LinkType returns the link type of the file.
func (s *Session) LinkType() layers.LinkType { return s.lt }

// Err returns the first write error, if any; after it the session
// writes nothing more.
func (s *Session) Err() error { return s.err }

// WritePacket appends one frame. length is its length on the wire.
func (s *Session) WritePacket(ts time.Time, length int, data []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return fmt.Errorf("store: session %s: write after close", s.rel)
	}
	if len(data) > snapLen {
		data = data[:snapLen]
	}
	if length < len(data) {
		length = len(data)
	}
	ss := s.set
	ss.touch(s)
	if s.buf == nil {
		s.buf = ss.take(smallBuffer)
	}
	if need := len(s.buf) + 16 + len(data); need > cap(s.buf) {
		if cap(s.buf) < largeBuffer && need <= largeBuffer {
			nb := append(ss.take(largeBuffer), s.buf...)
			ss.give(s.buf)
			s.buf = nb
		} else {
			s.writeOut(true) // a frame larger than what is left
			if s.err != nil {
				return s.err
			}
		}
	}
	was := cap(s.buf)
	s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(ts.Unix()))
	s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(ts.Nanosecond()))
	s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(len(data)))
	s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(length))
	s.buf = append(s.buf, data...)
	ss.buffered += cap(s.buf) - was // grown only for a frame beyond a large buffer
	if s.since.IsZero() {
		s.since = ts
	}
	s.Packets++
	if ts.After(s.last) {
		s.last = ts
	}
	if len(s.buf) >= writeOutAt {
		s.writeOut(true)
	}
	for ss.buffered > ss.maxBuffered && ss.head != nil && ss.head != s {
		ss.head.detach()
	}
	return s.err
}

// writeOut writes the buffered packets, creating the file or opening it
// again as needed. With keep the handle stays open for the next write,
// and the least recently written sessions give theirs up to make room;
// without (the session is being closed) nothing else is touched.
func (s *Session) writeOut(keep bool) {
	if s.err != nil || (s.created && len(s.buf) == 0) {
		return
	}
	ss := s.set
	if s.fd < 0 {
		for keep && ss.handles >= ss.maxOpen && ss.head != nil {
			h := ss.head
			if h == s {
				if h = s.next; h == nil {
					break
				}
			}
			h.detach()
		}
		if err := s.openFile(); err != nil {
			s.fail(err)
			return
		}
	}
	if len(s.buf) == 0 {
		return
	}
	if err := writeAll(s.fd, s.buf); err != nil {
		s.fail(err)
		return
	}
	s.buf = s.buf[:0]
	s.since = time.Time{}
}

// openFile creates the session's file (the first time) or opens it for
// appending. Plain system calls: an os.File would register every file
// with the network poller, which regular files never use, at four extra
// calls per file.
func (s *Session) openFile() error {
	ss := s.set
	if s.created {
		fd, err := openRetry(filepath.Join(ss.st.dir, filepath.FromSlash(s.rel)), syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CLOEXEC)
		if err != nil {
			return err
		}
		s.fd = fd
		ss.handles++
		ss.Reopens++
		return nil
	}
	dirAbs := filepath.Join(ss.st.dir, filepath.FromSlash(s.dirRel))
	if dirAbs != ss.madeDir {
		if err := os.MkdirAll(dirAbs, 0o750); err != nil {
			return err
		}
		ss.madeDir = dirAbs
	}
	for i := 1; i <= 100; i++ {
		name := s.base + ".pcap"
		if i > 1 {
			name = s.base + "-" + strconv.Itoa(i) + ".pcap"
		}
		fd, err := openRetry(dirAbs+string(filepath.Separator)+name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC)
		if errors.Is(err, syscall.EEXIST) {
			continue
		}
		if err != nil {
			return err
		}
		s.rel = s.dirRel + "/" + name
		s.fd, s.created = fd, true
		ss.handles++
		return nil
	}
	return fmt.Errorf("%s: 100 files of that name exist", s.base)
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, 0o640)
		if err != syscall.EINTR {
			if err != nil {
				return -1, &os.PathError{Op: "open", Path: path, Err: err}
			}
			return fd, nil
		}
	}
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("short write")
		}
		b = b[n:]
	}
	return nil
}

// detach writes what is buffered and closes the file but keeps the
// session writable.
func (s *Session) detach() {
	s.writeOut(false)
	s.closeFile()
	if s.listed {
		s.set.unlink(s)
	}
	s.releaseBuffer()
}

func (s *Session) closeFile() {
	if s.fd < 0 {
		return
	}
	err := syscall.Close(s.fd)
	s.fd = -1
	s.set.handles--
	if err != nil {
		s.fail(err)
	}
}

// releaseBuffer gives the session's buffer back to the set (what a
// failed session still held is dropped with it).
func (s *Session) releaseBuffer() {
	if s.buf == nil {
		return
	}
	s.set.give(s.buf)
	s.buf = nil
}

func (s *Session) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("store: session %s: %w", s.rel, err)
		s.set.st.errors.Add(1)
	}
	s.closeFile()
	if s.listed {
		s.set.unlink(s)
	}
	s.releaseBuffer()
}

// Flush writes the buffered packets to the file, so that a reader of the
// file sees every packet written so far, whole.
func (s *Session) Flush() error {
	if s.err != nil || (s.closed && s.buf == nil) {
		return s.err
	}
	s.writeOut(true)
	return s.err
}

// Close writes what is left and closes the file for good.
func (s *Session) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	s.detach()
	return s.err
}

// CloseIdle writes out and closes the sessions whose last packet is
// older than idle, and those holding packets captured before stale: their
// data reaches the disk (an analyst may fetch the pcap of a session that
// is still open) and their memory and handles are freed. They stay
// writable and reopen on their next write.
func (ss *Sessions) CloseIdle(idle, stale time.Time) int {
	n := 0
	for s := ss.head; s != nil; {
		next := s.next
		if s.last.Before(idle) || (!s.since.IsZero() && s.since.Before(stale)) {
			s.detach()
			n++
		}
		s = next
	}
	return n
}

// CloseAll writes out and closes every session file (for shutdown); the
// sessions stay writable and reopen on their next write.
func (ss *Sessions) CloseAll() {
	for ss.head != nil {
		ss.head.detach()
	}
}
