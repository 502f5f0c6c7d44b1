// Package store keeps the IRS raw data in a data directory:
//
//   - sessions/YYYY/MM/DD/<protocol>-<connID>-<client>-<server>.pcap: the
//     packets of every intercepted session (a connection a parser
//     claimed), one pcap file per session, written with pcapgo in the
//     link type the capture gave, nanosecond timestamps;
//   - files/ab/abcdef...: restored files (emails, attachments, HTTP and
//     FTP transfers), content-addressed by SHA-256, so the same
//     attachment sent a thousand times is stored once.
//
// Events refer to both by paths relative to the data directory. No name
// that comes from the traffic ever becomes part of a path, and Resolve
// refuses any relative path that would leave the directory.
//
// Session files are written by one goroutine each (the worker owning the
// connection) through a Sessions set. A session's packets are gathered in
// memory and written in large pieces — when 64 KiB are waiting, when an
// event names the session, when it ends, when a packet has waited 5 s —
// so that most sessions cost one file creation and one write. The set
// bounds both the memory held and the file handles kept open between
// writes: the least recently written sessions are written out and closed,
// and reopened in append mode when written again.
package store

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sdnli/sdnli/irs/event"
)

// Store is a data directory. Its methods are safe for concurrent use.
type Store struct {
	dir string
	// md5s remembers content this process hashed, by SHA-256: its MD5,
	// and whether its file is known to be in the store (written or found
	// by this process; files are never removed). Content saved again (the
	// same attachment sent to many, the same page fetched again) skips
	// the second hash and the look on disk. Bounded: cleared when full.
	md5Mu sync.Mutex
	md5s  map[[sha256.Size]byte]knownContent
	// Counters.
	artifacts     atomic.Uint64
	artifactBytes atomic.Uint64
	duplicates    atomic.Uint64
	sessions      atomic.Uint64
	errors        atomic.Uint64
}

// Stats counts what the store wrote.
type Stats struct {
	Artifacts      uint64 `json:"artifacts"`
	ArtifactBytes  uint64 `json:"artifact_bytes"`
	DuplicateFiles uint64 `json:"duplicate_files"`
	Sessions       uint64 `json:"sessions"`
	WriteErrors    uint64 `json:"write_errors"`
}

// Open opens (creating it if needed) the data directory dir.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("store: no data directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", dir, err)
	}
	for _, sub := range []string{"sessions", "files", filepath.Join("files", "tmp")} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return &Store{dir: abs}, nil
}

// Dir returns the absolute path of the data directory.
func (s *Store) Dir() string { return s.dir }

// Stats returns the counters.
func (s *Store) Stats() Stats {
	return Stats{
		Artifacts:      s.artifacts.Load(),
		ArtifactBytes:  s.artifactBytes.Load(),
		DuplicateFiles: s.duplicates.Load(),
		Sessions:       s.sessions.Load(),
		WriteErrors:    s.errors.Load(),
	}
}

// ErrEscape is returned by Resolve for a path that leaves the data
// directory.
var ErrEscape = errors.New("path leaves the data directory")

// Resolve turns a path relative to the data directory (an event's RawRef
// or an artifact's Path) into an absolute one, refusing absolute paths,
// ".." components and symbolic links that lead outside.
func (s *Store) Resolve(rel string) (string, error) {
	if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || strings.Contains(rel, "\\") {
		return "", fmt.Errorf("store: %q: %w", rel, ErrEscape)
	}
	for _, part := range strings.Split(rel, "/") {
		if part == ".." || part == "." || part == "" {
			return "", fmt.Errorf("store: %q: %w", rel, ErrEscape)
		}
	}
	p := filepath.Join(s.dir, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	root, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	if !strings.HasPrefix(real, root+string(filepath.Separator)) {
		return "", fmt.Errorf("store: %q: %w", rel, ErrEscape)
	}
	return real, nil
}

// SaveArtifact stores data content-addressed under files/ and returns its
// description. kind is one of event.Kind*; name and contentType are only
// recorded (never used in the path). Saving the same content twice
// stores it once.
func (s *Store) SaveArtifact(kind, name, contentType string, data []byte) (event.Artifact, error) {
	sum := sha256.Sum256(data)
	m, stored := s.md5Of(sum, data)
	h := hex.EncodeToString(sum[:])
	rel := "files/" + h[:2] + "/" + h
	a := event.Artifact{
		Kind: kind, Name: name, ContentType: contentType, Size: int64(len(data)),
		SHA256: h, MD5: hex.EncodeToString(m[:]), Path: rel,
	}
	if stored {
		s.duplicates.Add(1)
		return a, nil
	}
	dst := filepath.Join(s.dir, "files", h[:2], h)
	if _, err := os.Stat(dst); err == nil {
		s.markStored(sum)
		s.duplicates.Add(1)
		return a, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		s.errors.Add(1)
		return a, fmt.Errorf("store: artifact %s: %w", h, err)
	}
	// Write under a temporary name, then rename: a reader never sees a
	// half-written file under its hash.
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "files", "tmp"), h[:16]+"-*")
	if err != nil {
		s.errors.Add(1)
		return a, fmt.Errorf("store: artifact %s: %w", h, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), dst)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		s.errors.Add(1)
		return a, fmt.Errorf("store: artifact %s: %w", h, werr)
	}
	s.markStored(sum)
	s.artifacts.Add(1)
	s.artifactBytes.Add(uint64(len(data)))
	return a, nil
}

// maxMD5s bounds the SHA-256 → MD5 table (about 100 bytes an entry).
const maxMD5s = 1 << 16

// knownContent is what the table holds for one content.
type knownContent struct {
	md5    [md5.Size]byte
	stored bool // its file is in the store
}

// md5Of returns the MD5 of data, whose SHA-256 is sum, from the table when
// this content was seen before, and whether its file is known stored.
func (s *Store) md5Of(sum [sha256.Size]byte, data []byte) ([md5.Size]byte, bool) {
	s.md5Mu.Lock()
	k, ok := s.md5s[sum]
	s.md5Mu.Unlock()
	if ok {
		return k.md5, k.stored
	}
	m := md5.Sum(data)
	s.md5Mu.Lock()
	if s.md5s == nil || len(s.md5s) >= maxMD5s {
		s.md5s = make(map[[sha256.Size]byte]knownContent)
	}
	s.md5s[sum] = knownContent{md5: m}
	s.md5Mu.Unlock()
	return m, false
}

// markStored records that the file of the content whose SHA-256 is sum
// is in the store (if the table still holds the content).
func (s *Store) markStored(sum [sha256.Size]byte) {
	s.md5Mu.Lock()
	if k, ok := s.md5s[sum]; ok {
		k.stored = true
		s.md5s[sum] = k
	}
	s.md5Mu.Unlock()
}
