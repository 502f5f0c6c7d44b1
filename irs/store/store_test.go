package store

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/irs/event"
)

func TestSaveArtifact(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("From: a@example.org\r\n\r\nhello\r\n")
	sum := sha256.Sum256(data)
	m := md5.Sum(data)
	wantSHA, wantMD5 := hex.EncodeToString(sum[:]), hex.EncodeToString(m[:])
	// A hostile name must not matter: it is recorded, never used as a path.
	a, err := st.SaveArtifact(event.KindEML, "../../etc/passwd", "message/rfc822", data)
	if err != nil {
		t.Fatal(err)
	}
	want := event.Artifact{Kind: "eml", Name: "../../etc/passwd", ContentType: "message/rfc822", Size: int64(len(data)),
		SHA256: wantSHA, MD5: wantMD5, Path: "files/" + wantSHA[:2] + "/" + wantSHA}
	if a != want {
		t.Errorf("artifact = %+v\nwant %+v", a, want)
	}
	got, err := os.ReadFile(filepath.Join(st.Dir(), a.Path))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("stored file: %q, %v; want the data", got, err)
	}
	// The same content again is stored once, with the same hashes.
	again, err := st.SaveArtifact(event.KindAttachment, "x.txt", "text/plain", data)
	if err != nil {
		t.Fatal(err)
	}
	if again.SHA256 != wantSHA || again.MD5 != wantMD5 {
		t.Errorf("saved again: sha256 %s md5 %s, want %s %s", again.SHA256, again.MD5, wantSHA, wantMD5)
	}
	s := st.Stats()
	if s.Artifacts != 1 || s.DuplicateFiles != 1 {
		t.Errorf("stats = %+v, want 1 artifact and 1 duplicate", s)
	}
	tmp, _ := os.ReadDir(filepath.Join(st.Dir(), "files", "tmp"))
	if len(tmp) != 0 {
		t.Errorf("%d temporary files left", len(tmp))
	}
}

// The SHA-256 → MD5 table answers for content seen before, stays
// bounded, and never answers for content it does not hold.
func TestMD5Table(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxMD5s+10; i++ {
		data := []byte(fmt.Sprintf("content %d", i))
		if got, _ := st.md5Of(sha256.Sum256(data), data); got != md5.Sum(data) {
			t.Fatalf("content %d: md5 %x, want %x", i, got, md5.Sum(data))
		}
	}
	if n := len(st.md5s); n == 0 || n > maxMD5s {
		t.Errorf("table holds %d entries, bound %d", n, maxMD5s)
	}
	data := []byte(fmt.Sprintf("content %d", maxMD5s+9)) // still in the table
	if got, _ := st.md5Of(sha256.Sum256(data), data); got != md5.Sum(data) {
		t.Errorf("remembered content: md5 %x, want %x", got, md5.Sum(data))
	}
}

// Content saved again is counted a duplicate and stored once, whether this
// store wrote it, another store on the same directory did, or the table was
// cleared in between.
func TestSaveAgain(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("the same attachment")
	save := func(st *Store) event.Artifact {
		t.Helper()
		a, err := st.SaveArtifact(event.KindFile, "a.txt", "text/plain", data)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1 := save(first)
	if !first.md5s[sha256.Sum256(data)].stored {
		t.Error("after the save, the table does not know the file is stored: saving again would look on disk")
	}
	if a2 := save(first); a2 != a1 {
		t.Errorf("saved again: %+v, want %+v", a2, a1)
	}
	second, err := Open(dir) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	save(second)
	second.md5s = nil // the table cleared: the file is found on disk again
	save(second)
	for _, c := range []struct {
		name                  string
		st                    *Store
		artifacts, duplicates uint64
	}{{"first", first, 1, 1}, {"second", second, 0, 2}} {
		got := c.st.Stats()
		if got.Artifacts != c.artifacts || got.DuplicateFiles != c.duplicates {
			t.Errorf("%s store: %d written, %d duplicates; want %d, %d", c.name, got.Artifacts, got.DuplicateFiles, c.artifacts, c.duplicates)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "files", "??", "*"))
	if err != nil || len(files) != 1 {
		t.Errorf("files in the store: %v (%v), want one", files, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, a1.Path)); err != nil || string(b) != string(data) {
		t.Errorf("stored file: %q, %v", b, err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.SaveArtifact(event.KindFile, "f", "", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(dir, "secret")
	if err := os.WriteFile(outside, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(st.Dir(), "files", "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel string
		ok  bool
	}{
		{a.Path, true},
		{"../secret", false},
		{"files/../../secret", false},
		{"/etc/passwd", false},
		{"files/link", false}, // a symlink leading outside
		{"", false},
		{"files//x", false},
		{`files\..\..\secret`, false},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			p, err := st.Resolve(tt.rel)
			if tt.ok && err != nil {
				t.Errorf("Resolve(%q) = %v, want ok", tt.rel, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("Resolve(%q) = %q, want an error", tt.rel, p)
			}
			if !tt.ok && err != nil && !errors.Is(err, ErrEscape) && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Resolve(%q) error = %v, want ErrEscape", tt.rel, err)
			}
		})
	}
}

func TestSessionNames(t *testing.T) {
	st, ss := newSet(t, 4)
	start := time.Date(2026, 11, 21, 23, 59, 0, 0, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		info SessionInfo
		want string
	}{
		{"ipv4", SessionInfo{Protocol: "smtp", ID: 42, Client: netip.MustParseAddrPort("10.0.0.1:40000"),
			Server: netip.MustParseAddrPort("10.0.0.2:25"), Start: start, LinkType: layers.LinkTypeEthernet},
			"sessions/2026/11/21/smtp-42-10.0.0.1_40000-10.0.0.2_25.pcap"},
		{"same again gets a suffix", SessionInfo{Protocol: "smtp", ID: 42, Client: netip.MustParseAddrPort("10.0.0.1:40000"),
			Server: netip.MustParseAddrPort("10.0.0.2:25"), Start: start, LinkType: layers.LinkTypeEthernet},
			"sessions/2026/11/21/smtp-42-10.0.0.1_40000-10.0.0.2_25-2.pcap"},
		{"ipv6", SessionInfo{Protocol: "imap", ID: 7, Client: netip.MustParseAddrPort("[2001:db8::1]:5000"),
			Server: netip.MustParseAddrPort("[2001:db8::2]:143"), Start: start, LinkType: layers.LinkTypeEthernet},
			"sessions/2026/11/21/imap-7-2001.db8..1_5000-2001.db8..2_143.pcap"},
		{"hostile protocol name", SessionInfo{Protocol: "../../x/y", ID: 1, Start: start},
			"sessions/2026/11/21/______x_y-1-none-none.pcap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ss.Create(tt.info)
			if err != nil {
				t.Fatal(err)
			}
			if s.Path() != tt.want {
				t.Errorf("path = %q, want %q", s.Path(), tt.want)
			}
			if _, err := st.Resolve(s.Path()); err != nil {
				t.Errorf("Resolve(own path) = %v", err)
			}
			s.Close()
		})
	}
}

// TestSessionHandleCap writes to more sessions than may be open at once:
// every file must still hold every packet, in order.
func TestSessionHandleCap(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const open, sessions, packets = 2, 5, 7
	ss := st.NewSessions(open)
	var all []*Session
	for i := 0; i < sessions; i++ {
		s, err := ss.Create(SessionInfo{Protocol: "t", ID: uint64(i), Start: time.Unix(0, 0), LinkType: layers.LinkTypeRaw})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	base := time.Unix(1_700_000_000, 0)
	for p := 0; p < packets; p++ {
		for i, s := range all {
			if ss.Open() > open {
				t.Fatalf("%d files open, cap %d", ss.Open(), open)
			}
			data := []byte{0x45, byte(i), byte(p)}
			if err := s.WritePacket(base.Add(time.Duration(p)*time.Second), 100, data); err != nil {
				t.Fatal(err)
			}
			// As an event naming the session would: the packets go to
			// the file, which needs a handle.
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range all {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if ss.Reopens == 0 {
		t.Error("no reopen: the handle cap did not bite")
	}
	for i, s := range all {
		f, err := os.Open(filepath.Join(st.Dir(), s.Path()))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if r.LinkType() != layers.LinkTypeRaw {
			t.Errorf("session %d: link type %v, want raw", i, r.LinkType())
		}
		for p := 0; p < packets; p++ {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				t.Fatalf("session %d packet %d: %v", i, p, err)
			}
			if want := []byte{0x45, byte(i), byte(p)}; !bytes.Equal(data, want) || ci.Length != 100 ||
				!ci.Timestamp.Equal(base.Add(time.Duration(p)*time.Second)) {
				t.Errorf("session %d packet %d = % x len %d at %v, want % x", i, p, data, ci.Length, ci.Timestamp, want)
			}
		}
		if _, _, err := r.ReadPacketData(); err != io.EOF {
			t.Errorf("session %d: after the last packet: %v, want EOF", i, err)
		}
		f.Close()
	}
	if err := all[0].WritePacket(base, 1, []byte{1}); err == nil || !strings.Contains(err.Error(), "after close") {
		t.Errorf("write after Close = %v, want an error", err)
	}
}

func TestSessionCloseIdle(t *testing.T) {
	st, ss := newSet(t, 10)
	base := time.Unix(1_700_000_000, 0)
	var all []*Session
	for i := 0; i < 3; i++ {
		s, err := ss.Create(SessionInfo{Protocol: "t", ID: uint64(i), Start: base, LinkType: layers.LinkTypeRaw})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WritePacket(base.Add(time.Duration(i)*time.Minute), 1, []byte{0x45}); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	// Sessions 0 and 1 wrote before base+90s: their files close, and
	// their packets are on disk already.
	if n := ss.CloseIdle(base.Add(90*time.Second), base.Add(-time.Hour)); n != 2 || ss.Active() != 1 {
		t.Fatalf("CloseIdle closed %d, %d active; want 2 and 1", n, ss.Active())
	}
	fi, err := os.Stat(filepath.Join(st.Dir(), all[0].Path()))
	if err != nil || fi.Size() != 24+16+1 {
		t.Errorf("closed idle session file: %v, size %d; want header and one packet", err, fi.Size())
	}
	// A closed-for-idleness session still takes packets.
	if err := all[0].WritePacket(base.Add(3*time.Minute), 1, []byte{0x46}); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		s.Close()
	}
	fi, _ = os.Stat(filepath.Join(st.Dir(), all[0].Path()))
	if fi.Size() != 24+2*(16+1) {
		t.Errorf("after reopening: size %d, want two packets", fi.Size())
	}
}

// After Flush every packet written so far is in the file, whole: an
// analyst may fetch the pcap of a session that is still open.
func TestSessionFlush(t *testing.T) {
	st, ss := newSet(t, 4)
	s, err := ss.Create(SessionInfo{Protocol: "t", ID: 1, Start: time.Unix(1_700_000_000, 0), LinkType: layers.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 1000)
	for i := 0; i < 20; i++ { // 20 records of 1016 bytes: more than the write buffer
		if err := s.WritePacket(time.Unix(1_700_000_000, int64(i)), len(pkt), pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(st.Dir(), s.Path()))
	if err != nil || fi.Size() != 24+20*(16+1000) {
		t.Errorf("after Flush: %v, size %d; want the header and 20 whole packets (%d bytes)", err, fi.Size(), 24+20*(16+1000))
	}
	s.Close()
	if err := s.Flush(); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
}

func TestWholePcapSize(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.NewSessions(1).Create(SessionInfo{Protocol: "t", ID: 1, Start: time.Unix(1_700_000_000, 0), LinkType: layers.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := s.WritePacket(time.Unix(1_700_000_000, 0), 100, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	data, err := os.ReadFile(filepath.Join(st.Dir(), s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	whole := int64(24 + 3*116)
	for _, tc := range []struct {
		cut, want int64
	}{
		{whole, whole},            // complete
		{whole - 1, 24 + 2*116},   // last record cut by one byte
		{24 + 116 + 10, 24 + 116}, // cut inside the second record's header
		{24, 24},                  // header only
	} {
		got, err := WholePcapSize(bytes.NewReader(data[:tc.cut]), tc.cut)
		if err != nil || got != tc.want {
			t.Errorf("WholePcapSize(%d bytes) = %d, %v; want %d", tc.cut, got, err, tc.want)
		}
	}
	if _, err := WholePcapSize(bytes.NewReader([]byte("not a pcap at all, no no no")), 27); err == nil {
		t.Error("a non-pcap file gives no error")
	}
}

// TestSessionMemoryBound writes more than the set may buffer: the least
// recently written sessions go to disk, memory stays bounded, and every
// file holds every packet.
func TestSessionMemoryBound(t *testing.T) {
	st, ss := newSet(t, 64)
	ss.maxBuffered = 2 * largeBuffer
	const sessions, packets, size = 6, 40, 3000
	var all []*Session
	for i := 0; i < sessions; i++ {
		s, err := ss.Create(SessionInfo{Protocol: "t", ID: uint64(i), Start: time.Unix(0, 0), LinkType: layers.LinkTypeRaw})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	base := time.Unix(1_700_000_000, 0)
	for p := 0; p < packets; p++ {
		for _, s := range all {
			if err := s.WritePacket(base, size, make([]byte, size)); err != nil {
				t.Fatal(err)
			}
			// The session just written may keep its buffer over the bound.
			if ss.Buffered() > ss.maxBuffered+largeBuffer {
				t.Fatalf("%d bytes held, bound %d", ss.Buffered(), ss.maxBuffered)
			}
		}
	}
	for _, s := range all {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if ss.Buffered() != 0 || ss.Active() != 0 || ss.Open() != 0 {
		t.Errorf("after Close: %d bytes buffered, %d active, %d open; want none", ss.Buffered(), ss.Active(), ss.Open())
	}
	for i, s := range all {
		fi, err := os.Stat(filepath.Join(st.Dir(), s.Path()))
		if want := int64(24 + packets*(16+size)); err != nil || fi.Size() != want {
			t.Errorf("session %d: %v, size %d, want %d", i, err, fi.Size(), want)
		}
	}
}

// A session that ends without a single packet still leaves a valid,
// empty pcap, and nothing exists on disk before the first write.
func TestSessionLazyFile(t *testing.T) {
	st, ss := newSet(t, 4)
	s, err := ss.Create(SessionInfo{Protocol: "t", ID: 9, Start: time.Unix(1_700_000_000, 0), LinkType: layers.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(st.Dir(), "sessions", "2023", "11", "14", "t-9-none-none.pcap")
	if _, err := os.Stat(abs); !os.IsNotExist(err) {
		t.Fatalf("file exists before any write: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(abs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet || r.Resolution().ToDuration() != time.Nanosecond {
		t.Errorf("link type %v, resolution %v; want Ethernet, ns", r.LinkType(), r.Resolution())
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Errorf("first read: %v, want EOF", err)
	}
}

// A session that keeps receiving never idles, but what it buffered longer
// than the stale bound goes to disk.
func TestSessionStaleWriteOut(t *testing.T) {
	st, ss := newSet(t, 4)
	base := time.Unix(1_700_000_000, 0)
	s, err := ss.Create(SessionInfo{Protocol: "t", ID: 1, Start: base, LinkType: layers.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(filepath.Join(st.Dir(), "sessions", "2023", "11", "14", "t-1-none-none.pcap"))
		if err != nil {
			return -1
		}
		return fi.Size()
	}
	for i := 0; i < 10; i++ { // one packet a second
		now := base.Add(time.Duration(i) * time.Second)
		if err := s.WritePacket(now, 1, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		ss.CloseIdle(now.Add(-30*time.Second), now.Add(-5*time.Second))
	}
	// At second 6 packet 0 has waited more than 5 s: packets 0..6 go to
	// the file; 7..9 have not waited that long and stay in memory.
	if got := size(); got != 24+7*17 {
		t.Fatalf("file size %d after 10 s of packets, want %d (header and 7 packets)", got, 24+7*17)
	}
	s.Close()
	if got := size(); got != 24+10*17 {
		t.Errorf("after Close: size %d, want %d", got, 24+10*17)
	}
}

// Frames larger than any buffer, between small ones, come out whole and in
// order.
func TestSessionHugeFrames(t *testing.T) {
	st, ss := newSet(t, 4)
	s, err := ss.Create(SessionInfo{Protocol: "t", ID: 1, Start: time.Unix(1_700_000_000, 0), LinkType: layers.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{100, 200 << 10, 60, snapLen, 1500, 150 << 10}
	for i, n := range sizes {
		if err := s.WritePacket(time.Unix(1_700_000_000, int64(i)), n, bytes.Repeat([]byte{byte(i + 1)}, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ss.Buffered() != 0 {
		t.Errorf("after Close %d bytes held", ss.Buffered())
	}
	f, err := os.Open(filepath.Join(st.Dir(), s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		data, _, err := r.ReadPacketData()
		if err != nil || len(data) != n || data[0] != byte(i+1) || data[n-1] != byte(i+1) {
			t.Fatalf("packet %d: %d bytes, %v; want %d bytes of %d", i, len(data), err, n, i+1)
		}
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Errorf("after the last packet: %v, want EOF", err)
	}
}

// A session whose file cannot be written reports the error, holds no
// memory and keeps the set's accounting right.
func TestSessionWriteError(t *testing.T) {
	st, ss := newSet(t, 4)
	s, err := ss.Create(SessionInfo{Protocol: "t", ID: 1, Start: time.Unix(1_700_000_000, 0), LinkType: layers.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	// The day directory cannot be made: a file stands in its way.
	if err := os.WriteFile(filepath.Join(st.Dir(), "sessions", "2023"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 5 && werr == nil; i++ {
		werr = s.WritePacket(time.Unix(1_700_000_000, 0), 200<<10, make([]byte, 200<<10))
	}
	if werr == nil || !strings.Contains(werr.Error(), "t-1-none-none") {
		t.Fatalf("write error = %v, want one naming the session", werr)
	}
	if ss.Buffered() != 0 {
		t.Errorf("the failed session still holds %d bytes", ss.Buffered())
	}
	if err := s.WritePacket(time.Unix(1_700_000_001, 0), 10, make([]byte, 10)); err == nil {
		t.Error("a failed session took another packet")
	}
	if err := s.Close(); err == nil {
		t.Error("Close of a failed session: no error")
	}
	if ss.Buffered() != 0 || ss.Active() != 0 || ss.Open() != 0 {
		t.Errorf("after a failed session: %d bytes held, %d active, %d open; want none", ss.Buffered(), ss.Active(), ss.Open())
	}
	if s.Path() != "" {
		t.Errorf("Path of a session never created = %q, want empty", s.Path())
	}
	if st.Stats().WriteErrors == 0 {
		t.Error("no write error counted")
	}
}

// newSet opens a store in a temporary directory and a session set on it.
func newSet(t *testing.T, maxOpen int) (*Store, *Sessions) {
	t.Helper()
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st, st.NewSessions(maxOpen)
}
