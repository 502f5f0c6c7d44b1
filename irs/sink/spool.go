package sink

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sdnli/sdnli/irs/event"
)

// Spool layout inside Config.SpoolDir:
//
//	LOCK                       flock(2)ed by the Sink that owns the directory
//	spool-0000000000000042.jsonl  events waiting for the database, one
//	                           event.Event JSON object per line; the
//	                           number orders files oldest-first
//	rejected-...jsonl          events the database refused as invalid
//	                           (never replayed automatically; rename to
//	                           spool-... to retry after fixing the cause)
//
// A file is only ever appended to by the process that created it, and is
// deleted only after every event in it is committed. A crash mid-write
// leaves at most one truncated last line, which replay reports and skips.
const (
	spoolPrefix    = "spool-"
	rejectedPrefix = "rejected-"
	spoolSuffix    = ".jsonl"
	lockName       = "LOCK"

	// maxLine bounds one spooled event; events are shrunk below it before
	// they are written (see encodeEvent), so longer lines are corruption.
	maxLine = 16 << 20
)

// spool is the append-only on-disk queue.
type spool struct {
	dir     string
	maxSize int64

	mu       sync.Mutex
	lock     *os.File
	f        *os.File // active file, nil until the next append
	w        *bufio.Writer
	name     string // active file's base name
	size     int64
	nextSeq  uint64
	dirty    bool // written but not fsynced
	rejected string
	closed   bool
}

var errSpoolClosed = errors.New("sink: spool is closed")

// openSpool creates dir if needed, takes its lock, and prepares to append
// after the newest file a previous process left.
func openSpool(dir string, maxSize int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sink: spool dir %s: %w", dir, err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sink: spool lock %s: %w", dir, err)
	}
	// Two writers on one spool could replay (and delete) each other's
	// files half-written.
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("sink: spool dir %s is in use by another sink: %w", dir, err)
	}
	s := &spool{dir: dir, maxSize: maxSize, lock: lf}
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.unlock()
		return nil, fmt.Errorf("sink: read spool dir %s: %w", dir, err)
	}
	for _, e := range entries {
		for _, p := range []string{spoolPrefix, rejectedPrefix} {
			if seq, ok := parseSeq(e.Name(), p); ok && seq >= s.nextSeq {
				s.nextSeq = seq + 1
			}
		}
	}
	return s, nil
}

func seqName(prefix string, seq uint64) string {
	return fmt.Sprintf("%s%016d%s", prefix, seq, spoolSuffix)
}

func parseSeq(name, prefix string) (uint64, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, spoolSuffix) {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, prefix), spoolSuffix), 10, 64)
	return n, err == nil
}

func (s *spool) unlock() {
	_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
	_ = s.lock.Close()
}

// appendLines writes one line per element (each already newline-free) to
// the active file, and fsyncs if sync is set. It rotates to a new file
// once the active one reaches maxSize.
func (s *spool) appendLines(lines [][]byte, sync bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errSpoolClosed
	}
	for _, line := range lines {
		if s.f == nil {
			if err := s.createLocked(); err != nil {
				return err
			}
		}
		if _, err := s.w.Write(line); err != nil {
			return fmt.Errorf("sink: write spool %s: %w", s.name, err)
		}
		if err := s.w.WriteByte('\n'); err != nil {
			return fmt.Errorf("sink: write spool %s: %w", s.name, err)
		}
		s.size += int64(len(line)) + 1
		s.dirty = true
		if s.size >= s.maxSize {
			if err := s.closeActiveLocked(); err != nil {
				return err
			}
		}
	}
	if s.f == nil {
		return nil
	}
	// Hand the bytes to the kernel now: a crash of this process then
	// loses nothing; fsync additionally covers a crash of the machine.
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sink: write spool %s: %w", s.name, err)
	}
	if sync {
		return s.syncLocked()
	}
	return nil
}

func (s *spool) createLocked() error {
	name := seqName(spoolPrefix, s.nextSeq)
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sink: create spool file: %w", err)
	}
	s.nextSeq++
	s.f, s.w, s.name, s.size = f, bufio.NewWriterSize(f, 256<<10), name, 0
	// Make the new directory entry durable, or an fsynced file could
	// vanish with a machine crash.
	return syncDir(s.dir)
}

func (s *spool) syncLocked() error {
	if !s.dirty || s.f == nil {
		s.dirty = false
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sink: flush spool %s: %w", s.name, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sink: fsync spool %s: %w", s.name, err)
	}
	s.dirty = false
	return nil
}

// sync fsyncs the active file if anything was written since the last sync.
func (s *spool) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

func (s *spool) closeActiveLocked() error {
	if s.f == nil {
		return nil
	}
	err := s.syncLocked()
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("sink: close spool %s: %w", s.name, cerr)
	}
	s.f, s.w, s.name, s.size = nil, nil, "", 0
	return err
}

// rotate closes the active file (if it holds anything) so that replay
// can take it.
func (s *spool) rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeActiveLocked()
}

// activeSize returns how many bytes the active file holds.
func (s *spool) activeSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// pending lists the files ready for replay (every spool file but the
// active one), oldest first.
func (s *spool) pending() ([]string, error) {
	s.mu.Lock()
	active := s.name
	s.mu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("sink: read spool dir %s: %w", s.dir, err)
	}
	type file struct {
		seq  uint64
		name string
	}
	var files []file
	for _, e := range entries {
		if seq, ok := parseSeq(e.Name(), spoolPrefix); ok && e.Name() != active && e.Type().IsRegular() {
			files = append(files, file{seq, e.Name()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].seq < files[j].seq })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	return out, nil
}

// usage returns the number of spool files and their total size,
// the active file included.
func (s *spool) usage() (files int, bytes int64) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if _, ok := parseSeq(e.Name(), spoolPrefix); !ok {
			continue
		}
		if info, err := e.Info(); err == nil {
			files++
			bytes += info.Size()
		}
	}
	return files, bytes
}

// remove deletes a fully replayed file.
func (s *spool) remove(name string) error {
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("sink: remove replayed spool %s: %w", name, err)
	}
	return syncDir(s.dir)
}

// reject appends lines to this process's rejected-... file.
func (s *spool) reject(lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejected == "" {
		s.rejected = seqName(rejectedPrefix, s.nextSeq)
		s.nextSeq++
	}
	path := filepath.Join(s.dir, s.rejected)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sink: open %s: %w", s.rejected, err)
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sink: write %s: %w", s.rejected, err)
	}
	return syncDir(s.dir)
}

// close fsyncs and closes the active file and releases the directory.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.closeActiveLocked()
	s.unlock()
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sink: open spool dir for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sink: fsync spool dir %s: %w", dir, err)
	}
	return nil
}

// spoolLine is one line read back from a spool file.
type spoolLine struct {
	no       int   // 1-based line number
	end      int64 // file offset just past the line
	data     []byte
	complete bool // ended with '\n'
	tooLong  bool // longer than maxLine; data is empty
}

// lineReader reads newline-terminated lines with a length cap, tracking
// line numbers and offsets so that replay can resume mid-file.
type lineReader struct {
	r   *bufio.Reader
	max int
	off int64
	no  int
	buf []byte
}

func newLineReader(r io.Reader, start int64, startLine, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max, off: start, no: startLine}
}

// next returns the next line, or io.EOF after the last one.
func (lr *lineReader) next() (spoolLine, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	read := 0
	for {
		chunk, err := lr.r.ReadSlice('\n')
		read += len(chunk)
		lr.off += int64(len(chunk))
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+1 {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			lr.no++
			return spoolLine{no: lr.no, end: lr.off, data: bytes.TrimSuffix(lr.buf, []byte{'\n'}), complete: true, tooLong: tooLong}, nil
		case errors.Is(err, io.EOF):
			if read == 0 {
				return spoolLine{}, io.EOF
			}
			lr.no++
			return spoolLine{no: lr.no, end: lr.off, data: lr.buf, tooLong: tooLong}, nil
		default:
			return spoolLine{}, err
		}
	}
}

// decodeLine turns a spool line into an event. A line whose event has no
// UID gets one derived from the line, so that replaying it twice still
// stores it once.
func decodeLine(data []byte) (*event.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	// Keep large integers in summaries exact through the round trip.
	dec.UseNumber()
	var ev event.Event
	if err := dec.Decode(&ev); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the event object")
	}
	if ev.UID == "" {
		sum := sha256.Sum256(data)
		ev.UID = hex.EncodeToString(sum[:16])
	}
	return &ev, nil
}
