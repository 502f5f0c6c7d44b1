package store

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// snapLen is the snap length written in session pcap headers: the IRS
// keeps whole frames.
const snapLen = 262144

const sessionBuffer = 8 << 10

// SessionInfo names a session file.
type SessionInfo struct {
	Protocol string // the parser's name
	ID       uint64 // the connection's ID
	Client   netip.AddrPort
	Server   netip.AddrPort
	Start    time.Time // first packet: decides the day directory (UTC)
	LinkType layers.LinkType
}

// Sessions writes session pcaps for one goroutine, with at most maxOpen
// files open at once. It is not safe for concurrent use; each worker has
// its own.
type Sessions struct {
	st         *Store
	maxOpen    int
	open       int
	head, tail *Session // open sessions, least recently written first
	madeDir    string   // the last day directory created
	// Reopens counts files closed for the handle cap and opened again.
	Reopens uint64
}

// NewSessions returns a session writer bounded to maxOpen open files
// (default 64).
func (s *Store) NewSessions(maxOpen int) *Sessions {
	if maxOpen <= 0 {
		maxOpen = 64
	}
	return &Sessions{st: s, maxOpen: maxOpen}
}

// Open returns the number of session files currently open.
func (ss *Sessions) Open() int { return ss.open }

// Session is one session's pcap file.
type Session struct {
	set        *Sessions
	rel, abs   string
	lt         layers.LinkType
	f          *os.File
	bw         *bufio.Writer
	pw         *pcapgo.Writer
	prev, next *Session
	closed     bool
	err        error
	last       time.Time // timestamp of the last packet written
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

// Create makes a new session file and writes its pcap header. The file
// name is unique: if a file of that name exists (an earlier run of the
// IRS used the same connection ID), a numeric suffix is added.
func (ss *Sessions) Create(info SessionInfo) (*Session, error) {
	day := info.Start.UTC()
	if info.Start.IsZero() {
		day = time.Now().UTC()
	}
	dirRel := fmt.Sprintf("sessions/%04d/%02d/%02d", day.Year(), int(day.Month()), day.Day())
	base := fmt.Sprintf("%s-%d-%s-%s", safeName(info.Protocol), info.ID, endpointName(info.Client), endpointName(info.Server))
	dirAbs := filepath.Join(ss.st.dir, filepath.FromSlash(dirRel))
	if dirAbs != ss.madeDir {
		if err := os.MkdirAll(dirAbs, 0o750); err != nil {
			ss.st.errors.Add(1)
			return nil, fmt.Errorf("store: session %s: %w", base, err)
		}
		ss.madeDir = dirAbs
	}
	ss.makeRoom()
	var (
		f   *os.File
		rel string
		err error
	)
	for i := 1; i <= 100; i++ {
		name := base + ".pcap"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.pcap", base, i)
		}
		rel = dirRel + "/" + name
		f, err = os.OpenFile(filepath.Join(dirAbs, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if err == nil || !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		ss.st.errors.Add(1)
		return nil, fmt.Errorf("store: session %s: %w", base, err)
	}
	s := &Session{set: ss, rel: rel, abs: f.Name(), lt: info.LinkType}
	s.attach(f)
	if err := s.pw.WriteFileHeader(snapLen, info.LinkType); err != nil {
		s.fail(err)
		return nil, s.err
	}
	ss.st.sessions.Add(1)
	return s, nil
}

func (s *Session) attach(f *os.File) {
	s.f = f
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(f, sessionBuffer)
	} else {
		s.bw.Reset(f)
	}
	s.pw = pcapgo.NewWriterNanos(s.bw)
	s.set.pushBack(s)
	s.set.open++
}

// makeRoom closes the least recently written session if the cap is hit.
func (ss *Sessions) makeRoom() {
	for ss.open >= ss.maxOpen && ss.head != nil {
		ss.head.detach()
	}
}

func (ss *Sessions) pushBack(s *Session) {
	s.prev, s.next = ss.tail, nil
	if ss.tail != nil {
		ss.tail.next = s
	} else {
		ss.head = s
	}
	ss.tail = s
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
	s.prev, s.next = nil, nil
}

// detach flushes and closes the file but keeps the session writable.
func (s *Session) detach() {
	if s.f == nil {
		return
	}
	err := s.bw.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	s.set.unlink(s)
	s.set.open--
	if err != nil {
		s.fail(err)
	}
}

func (s *Session) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("store: session %s: %w", s.rel, err)
		s.set.st.errors.Add(1)
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
		s.set.unlink(s)
		s.set.open--
	}
}

// Path returns the file's path relative to the data directory (the
// events' RawRef).
func (s *Session) Path() string { return s.rel }

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
	if s.f == nil {
		s.set.makeRoom()
		f, err := os.OpenFile(s.abs, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			s.fail(err)
			return s.err
		}
		s.set.Reopens++
		s.attach(f)
	} else if s.set.tail != s {
		s.set.unlink(s)
		s.set.pushBack(s)
	}
	if len(data) > snapLen {
		data = data[:snapLen]
	}
	if length < len(data) {
		length = len(data)
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: length}
	if err := s.pw.WritePacket(ci, data); err != nil {
		s.fail(err)
		return s.err
	}
	s.Packets++
	if ts.After(s.last) {
		s.last = ts
	}
	return nil
}

// Flush writes the buffered packets to the file, so that a reader of the
// file sees every packet written so far, whole. A session whose file is
// closed (for the handle cap, or for good) has nothing buffered.
func (s *Session) Flush() error {
	if s.err != nil || s.f == nil {
		return s.err
	}
	if err := s.bw.Flush(); err != nil {
		s.fail(err)
	}
	return s.err
}

// Close flushes and closes the file for good.
func (s *Session) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	s.detach()
	return s.err
}

// CloseIdle closes the files of sessions whose last packet is older than
// before: their data reaches the disk (an analyst may fetch the pcap of a
// session that is still open) and their handles are freed. They stay
// writable and reopen on their next write.
func (ss *Sessions) CloseIdle(before time.Time) int {
	n := 0
	for s := ss.head; s != nil; {
		next := s.next
		if s.last.Before(before) {
			s.detach()
			n++
		}
		s = next
	}
	return n
}

// CloseAll closes every open session file (for shutdown); the sessions
// stay writable and reopen on their next write.
func (ss *Sessions) CloseAll() {
	for ss.head != nil {
		ss.head.detach()
	}
}
