package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// Reading a plain pcap file through a memory mapping saves the copy of
// every byte from the page cache into a read buffer (and the read calls).
// Packets are handed out as slices of the mapping, valid, as for any
// Source, until the next call to Next. A consumer that wrongly kept one
// longer would read the right bytes until Close and fault after it (with
// the read buffer it read later packets' bytes instead). The engine, the
// reassembly and the session store copy what they keep and parsers may
// not keep data (parser.Parser): TestNothingKeepsPacketBytes in package
// engine checks it over every shared capture.
//
// The mapping is read-only, and each packet's capacity ends with it, so a
// consumer that appends to a packet gets a new array instead of a fault.
//
// A mapped file that shrinks (truncated while being read) makes the pages
// past its new end fault (SIGBUS). Next reads every page of a record
// before handing it out, with the goroutine set to panic on faults, and
// turns such a fault into the truncation error a short file gives, every
// packet before it delivered. Bytes past the new end within the last
// page read as zeros: a record header of zeros makes Next look at the
// file's size. The check makes the usual case safe, a file cut ahead of
// the reader. A file cut in the instant between Next and the packet's
// use faults in the consumer: the engine (engine.Run) takes such a fault
// as the same truncation; any other consumer would end the process.
//
// A file that grows while mapped (a capture still being written) is read
// on past the mapping's end through the read buffer, as it would have
// been without the mapping.

// openMapped maps name (opened as f) when it is a plain pcap regular
// file, or returns nil: the caller then reads it as a stream, which
// reports whatever is wrong with the file as before.
func openMapped(name string, f *os.File) *fileSource {
	var hdr [24]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return nil
	}
	switch [4]byte(hdr[:4]) {
	case magicPcapMicro, magicPcapMicroBE, magicPcapNano, magicPcapNanoBE:
	default:
		return nil
	}
	pr, err := pcapgo.NewReader(bytes.NewReader(hdr[:]))
	if err != nil || !Supported(pr.LinkType()) {
		return nil
	}
	m := mapFile(f)
	if m == nil {
		return nil
	}
	s := &fileSource{name: name, f: f, cr: &countingReader{r: f}, mapped: m, mapping: m, hdr: hdr,
		pcap: pr, lt: pr.LinkType(), off: 24, nanos: 1000, bigEnd: hdr[0] == 0xa1,
		maxLen: max(int(pr.Snaplen()), maxRecord)}
	if m := [4]byte(hdr[:4]); m == magicPcapNano || m == magicPcapNanoBE {
		s.nanos = 1
	}
	return s
}

// pageStride is at most the page size of any platform: touching one byte
// every pageStride bytes touches every page.
const pageStride = 4096

// prefetchAhead is how far past the current record the next records are
// asked into the processor's caches while the current packet is handled:
// reading the file is otherwise a wait for memory at every record, the
// processor's own prefetching stopping at each page boundary.
const prefetchAhead = 2048

// errShrunk is the cause of the truncation error for a mapped file that
// shrank under the reader.
var errShrunk = fmt.Errorf("the file shrank while being read: %w", io.ErrUnexpectedEOF)

// errGrown is mappedRecord's signal that the file grew past the mapping
// and is read on through the read buffer.
var errGrown = errors.New("capture: file grew")

// mappedRecord fills p with the next record of a mapped pcap, a slice of
// the mapping. A fault (the file shrank) becomes errShrunk.
func (s *fileSource) mappedRecord(p *Packet) (err error) {
	// Kept apart from nextMapped, whose many returns would make these
	// defers slow ones.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			p.Data, err = nil, errShrunk
		}
	}()
	return s.nextMapped(p)
}

func (s *fileSource) nextMapped(p *Packet) error {
	m, off := s.mapped, int(s.off)
	if len(m)-off < 16 {
		if s.grown() {
			return errGrown
		}
		if off == len(m) {
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	hdr := m[off : off+16 : off+16]
	sec, frac, capLen, length := s.u32(hdr[0:4]), s.u32(hdr[4:8]), int(s.u32(hdr[8:12])), int(s.u32(hdr[12:16]))
	if sec|frac == 0 && capLen|length == 0 && s.shrunk(off+16) {
		// Zeros past the end of a file cut within this page.
		return errShrunk
	}
	if capLen > s.maxLen {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", capLen, s.pcap.Snaplen())
	}
	if capLen > length {
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", capLen, length)
	}
	end := off + 16 + capLen
	if end > len(m) {
		if s.grown() {
			return errGrown
		}
		return io.ErrUnexpectedEOF
	}
	data := m[off+16 : end : end]
	// Fault here, not in the consumer, if a page of the record is gone.
	t := s.touch
	for i := pageStride; i < len(data); i += pageStride {
		t ^= data[i]
	}
	if len(data) > 0 {
		t ^= data[len(data)-1]
	}
	s.touch = t
	if from, to := max(s.prefetched, end), min(end+prefetchAhead, len(m)); from < to {
		prefetch(&m[from], to-from)
		s.prefetched = to
	}
	p.Data, p.Timestamp, p.Length, p.LinkType = data, time.Unix(int64(sec), int64(frac*s.nanos)).UTC(), length, s.lt
	return nil
}

// shrunk reports whether the file now ends before off.
func (s *fileSource) shrunk(off int) bool {
	fi, err := s.f.Stat()
	return err == nil && fi.Size() < int64(off)
}

// grown reports whether the file grew past the mapping; if so, the rest is
// read from the file from the current record on (the mapping is kept
// until Close: the last packet handed out may still be in use).
func (s *fileSource) grown() bool {
	fi, err := s.f.Stat()
	if err != nil || fi.Size() <= int64(len(s.mapped)) {
		return false
	}
	// pcapgo reads the file header from the buffer it is given (ours:
	// bufio does not wrap a large enough bufio.Reader), then records
	// continue at the current offset.
	rest := io.NewSectionReader(s.f, s.off, math.MaxInt64-s.off)
	s.cr = &countingReader{r: rest}
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(s.hdr[:]), s.cr), readBufferSize)
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return false
	}
	s.pcap, s.br, s.mapped = pr, br, nil
	return true
}

// countingReader counts the bytes read from a file, for progress reports.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
