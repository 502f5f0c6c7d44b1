package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ErrNotCapture is wrapped by the error for a file that is neither pcap
// nor pcapng (after gzip decompression, if compressed).
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// ErrTruncated is wrapped by the error for a file that ends in the middle
// of a packet. Every packet before the damage has been delivered.
var ErrTruncated = errors.New("file truncated")

// Magic numbers, as they appear in the first four bytes of a file.
var (
	magicPcapMicro   = [4]byte{0xd4, 0xc3, 0xb2, 0xa1} // little-endian, µs
	magicPcapMicroBE = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNano    = [4]byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapNanoBE  = [4]byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapng      = [4]byte{0x0a, 0x0d, 0x0d, 0x0a} // section header block type
)

// readBufferSize holds the largest record pcap readers accept (a 16-byte
// header and 262,144 bytes) whole, so records are read in place.
const readBufferSize = 512 << 10

type fileSource struct {
	name string
	f    *os.File
	cr   *countingReader
	gz   *gzip.Reader
	// mapped is a plain pcap file mapped into memory (see openMapped);
	// nil once the rest of a file that grew is read through br.
	mapped     []byte
	mapping    []byte   // what to unmap on Close
	touch      byte     // sink for the loads that check a record is readable
	prefetched int      // mapped bytes before this offset were prefetched
	hdr        [24]byte // mapped pcap: the file header, to read on past the mapping
	off        int64    // pcap: offset of the next packet record
	pcap       *pcapgo.Reader
	br         *bufio.Reader // pcap: records are read from here in place
	bigEnd     bool          // pcap: record headers are big-endian
	nanos      uint32        // pcap: nanoseconds per timestamp fraction unit
	maxLen     int           // pcap: longest record taken
	ng         *pcapgo.NgReader
	lt         layers.LinkType
	gzipped    bool
	n          uint64 // packets delivered
	nbytes     uint64 // their bytes
	err        error  // sticky: once the file is damaged it stays so
	packets    atomic.Uint64
	bytes      atomic.Uint64
}

// OpenFile opens a pcap or pcapng file, plain or gzip-compressed, decided
// by the magic bytes and not by the file name. A plain pcap that is a
// regular file is mapped into memory and its packets handed out from the
// mapping, without a copy; other files (and pipes) are read.
func OpenFile(name string) (Source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if s := openMapped(name, f); s != nil {
		return s, nil
	}
	s, err := newFileSource(name, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// NewReader reads a capture (pcap or pcapng, plain or gzip) from r; name
// is used in errors. Close does not close r.
func NewReader(name string, r io.Reader) (Source, error) {
	return newFileSource(name, r)
}

func newFileSource(name string, r io.Reader) (*fileSource, error) {
	s := &fileSource{name: name}
	if f, ok := r.(*os.File); ok {
		s.f = f
	}
	s.cr = &countingReader{r: r}
	br := bufio.NewReaderSize(s.cr, readBufferSize)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, gerr := gzip.NewReader(br)
		if gerr != nil {
			return nil, fmt.Errorf("capture: %s: gzip: %w", name, gerr)
		}
		s.gz, s.gzipped = gz, true
		br = bufio.NewReaderSize(gz, readBufferSize)
		magic, err = br.Peek(4)
	}
	if len(magic) < 4 {
		if err == nil || err == io.EOF {
			if len(magic) == 0 {
				return nil, fmt.Errorf("capture: %s: empty file: %w", name, ErrNotCapture)
			}
			return nil, fmt.Errorf("capture: %s: %d bytes only: %w", name, len(magic), ErrNotCapture)
		}
		return nil, fmt.Errorf("capture: %s: %w", name, err)
	}
	// pcapgo wraps its reader in a bufio.Reader, which reuses ours (it
	// is larger than bufio's default): no second copy of every byte.
	var m [4]byte
	copy(m[:], magic)
	switch m {
	case magicPcapMicro, magicPcapMicroBE, magicPcapNano, magicPcapNanoBE:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("capture: %s: pcap header: %w", name, err)
		}
		s.pcap, s.lt, s.off, s.br = pr, pr.LinkType(), 24, br
		s.nanos = 1000
		s.bigEnd = m == magicPcapMicroBE || m == magicPcapNanoBE
		if m == magicPcapNano || m == magicPcapNanoBE {
			s.nanos = 1
		}
		// As pcapgo, tcpdump and Wireshark: records longer than the snap
		// length some writers declare are taken up to 262,144 bytes.
		s.maxLen = max(int(pr.Snaplen()), maxRecord)
		if !Supported(s.lt) {
			return nil, linkTypeError(name, s.lt)
		}
	case magicPcapng:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("capture: %s: pcapng header: %w", name, err)
		}
		s.ng = ng
	default:
		return nil, fmt.Errorf("capture: %s: %w (starts with % x)", name, ErrNotCapture, magic)
	}
	return s, nil
}

func (s *fileSource) Name() string { return s.name }
func (s *fileSource) Live() bool   { return false }

// Stats returns the counters as published: while a file is being read
// they may be up to publishEvery packets behind, and are exact once Next
// returned io.EOF or an error, and after Close.
func (s *fileSource) Stats() Stats {
	return Stats{Packets: s.packets.Load(), Bytes: s.bytes.Load()}
}

// BytesRead returns how much of the file has been consumed: up to the
// end of the last packet counted by Stats for plain pcap, the bytes read
// from the file (compressed ones for gzip) otherwise. It is for progress
// reports and may be called from any goroutine.
func (s *fileSource) BytesRead() int64 {
	if s.pcap != nil && !s.gzipped {
		// Every record is a 16-byte header and its data.
		return 24 + 16*int64(s.packets.Load()) + int64(s.bytes.Load())
	}
	return s.cr.n.Load()
}

func (s *fileSource) Close() error {
	s.publish()
	if s.gz != nil {
		s.gz.Close()
	}
	if s.mapping != nil {
		err := unmapFile(s.mapping)
		s.mapping, s.mapped = nil, nil
		if s.err == nil {
			s.err = fmt.Errorf("capture: %s: %w", s.name, os.ErrClosed)
		}
		if err != nil {
			if s.f != nil {
				s.f.Close()
			}
			return fmt.Errorf("capture: %s: munmap: %w", s.name, err)
		}
	}
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			return fmt.Errorf("capture: %s: %w", s.name, err)
		}
	}
	return nil
}

func (s *fileSource) Next(p *Packet) error {
	if s.err != nil {
		return s.err
	}
	if s.mapped != nil {
		err := s.mappedRecord(p)
		if err == nil {
			s.delivered(len(p.Data))
			return nil
		}
		if err != errGrown {
			return s.fail(s.wrap(err, s.off))
		}
		// The file grew past the mapping: read on.
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
		off  = s.off
		lt   = s.lt
	)
	if s.pcap != nil {
		data, ci, err = s.readRecord()
	} else {
		data, ci, err = s.ng.ZeroCopyReadPacketData()
		if err == nil && len(ci.AncillaryData) > 0 {
			if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				lt = l
			}
		}
	}
	if err != nil {
		return s.fail(s.wrap(err, off))
	}
	if !Supported(lt) {
		return s.fail(fmt.Errorf("capture: %s: packet %d: %w %d (%s)", s.name, s.n+1, ErrLinkType, uint16(lt), lt))
	}
	s.delivered(len(data))
	// Capacity ends with the packet: appending to it must not write over
	// the next records in the buffer (or fault on a read-only mapping).
	p.Data, p.Timestamp, p.Length, p.LinkType = data[:len(data):len(data)], ci.Timestamp, ci.Length, lt
	return nil
}

// publishEvery is how many packets the counters Stats reads may lag:
// two atomic additions per packet cost as much as the rest of Next.
const publishEvery = 64

// delivered counts a packet of n bytes handed out.
func (s *fileSource) delivered(n int) {
	s.n++
	s.nbytes += uint64(n)
	s.off += 16 + int64(n)
	if s.n%publishEvery == 0 {
		s.publish()
	}
}

// publish makes the counters visible to Stats.
func (s *fileSource) publish() {
	s.packets.Store(s.n)
	s.bytes.Store(s.nbytes)
}

// fail makes err the source's last word: every later Next returns it.
func (s *fileSource) fail(err error) error {
	s.err = err
	s.publish()
	return err
}

// maxRecord is the longest record taken whatever the snap length says.
const maxRecord = 262144

// readRecord reads the next pcap record in place from the read buffer:
// pcapgo's reader copies every packet out of it, through two reads, which
// costs more than the rest of reading. The data is valid until the next
// call.
func (s *fileSource) readRecord() ([]byte, gopacket.CaptureInfo, error) {
	var ci gopacket.CaptureInfo
	hdr, err := s.br.Peek(16)
	if len(hdr) < 16 {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ci, err
	}
	ci.Timestamp = time.Unix(int64(s.u32(hdr[0:4])), int64(s.u32(hdr[4:8])*s.nanos)).UTC()
	ci.CaptureLength = int(s.u32(hdr[8:12]))
	ci.Length = int(s.u32(hdr[12:16]))
	if ci.CaptureLength > s.maxLen {
		return nil, ci, fmt.Errorf("capture length exceeds snap length: %d > %d", ci.CaptureLength, s.pcap.Snaplen())
	}
	if ci.CaptureLength > ci.Length {
		return nil, ci, fmt.Errorf("capture length exceeds original packet length: %d > %d", ci.CaptureLength, ci.Length)
	}
	n := 16 + ci.CaptureLength
	if n > s.br.Size() {
		// A record longer than the buffer (a huge snap length): pcapgo
		// reads it from the same place, without trusting its length
		// for an allocation up front.
		return s.pcap.ZeroCopyReadPacketData()
	}
	rec, err := s.br.Peek(n)
	if len(rec) < n {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ci, err
	}
	// The bytes stay in the buffer until the next read.
	s.br.Discard(n)
	return rec[16:], ci, nil
}

// u32 reads a record header field (a direct call: binary.ByteOrder's
// methods through the interface cost more than the rest of the header).
func (s *fileSource) u32(b []byte) uint32 {
	if s.bigEnd {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *fileSource) wrap(err error, off int64) error {
	if err == io.EOF {
		return io.EOF
	}
	where := fmt.Sprintf("packet %d", s.n+1)
	if s.pcap != nil {
		// Record headers are 16 bytes, so the offset is exact (in the
		// decompressed stream for gzip files).
		if s.gzipped {
			where += fmt.Sprintf(" at uncompressed offset %d", off)
		} else {
			where += fmt.Sprintf(" at offset %d", off)
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("capture: %s: %s: %w after %d good packets: %w", s.name, where, ErrTruncated, s.n, err)
	}
	return fmt.Errorf("capture: %s: %s: %w", s.name, where, err)
}

// MemorySource replays frames held in memory, for tests and benchmarks.
type MemorySource struct {
	SourceName string
	Frames     []Packet
	i          int
	packets    atomic.Uint64
}

// Next returns the next frame, then io.EOF.
func (m *MemorySource) Next(p *Packet) error {
	if m.i >= len(m.Frames) {
		return io.EOF
	}
	*p = m.Frames[m.i]
	if p.Length == 0 {
		p.Length = len(p.Data)
	}
	m.i++
	m.packets.Add(1)
	return nil
}

// Rewind starts the replay again from the first frame.
func (m *MemorySource) Rewind() { m.i = 0 }

// Name returns SourceName.
func (m *MemorySource) Name() string {
	if m.SourceName == "" {
		return "memory"
	}
	return m.SourceName
}

// Live is false.
func (m *MemorySource) Live() bool { return false }

// Stats counts the frames delivered.
func (m *MemorySource) Stats() Stats { return Stats{Packets: m.packets.Load()} }

// Close does nothing.
func (m *MemorySource) Close() error { return nil }

// ReadAll reads every packet of a capture file into memory (copies), for
// tests and benchmarks. The error, if any, comes with the packets read
// before it.
func ReadAll(name string) ([]Packet, error) {
	src, err := OpenFile(name)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []Packet
	var p Packet
	for {
		err := src.Next(&p)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		cp := p
		cp.Data = append([]byte(nil), p.Data...)
		out = append(out, cp)
	}
}
