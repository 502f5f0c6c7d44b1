package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// bigFrames returns n frames of 700..1499 bytes: a file of many pages.
func bigFrames(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 350+i%400)
	}
	return out
}

// recordEnds returns where each record of a pcap written by pcapBytes ends.
func recordEnds(fs [][]byte) []int {
	ends := make([]int, len(fs))
	off := 24
	for i, f := range fs {
		off += 16 + len(f)
		ends[i] = off
	}
	return ends
}

// TestMappedTruncated truncates a mapped capture in the middle of reading
// it: the packets before the cut are delivered intact, then Next returns
// the truncation error naming the file (again on every later call), and
// the process goes on: no SIGBUS.
func TestMappedTruncated(t *testing.T) {
	fs := bigFrames(3000)
	raw := pcapBytes(t, layers.LinkTypeEthernet, false, fs)
	ends := recordEnds(fs)
	page := os.Getpagesize()
	tests := []struct {
		name string
		cut  int // file size after the truncation
	}{
		{"at a page boundary", (len(raw) / 2 / page) * page},
		{"within a page, in a record's data", ends[2000] - 100},
		{"within a page, in a record's header", ends[2100] + 5},
		{"within a page, between records", ends[2200]},
		{"to nothing", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := writeFile(t, "cut.pcap", raw)
			src, err := OpenFile(name)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if !IsMapped(src) {
				t.Fatal("a plain pcap file is not mapped")
			}
			var got [][]byte
			var p Packet
			for len(got) < 100 {
				if err := src.Next(&p); err != nil {
					t.Fatalf("packet %d before the cut: %v", len(got)+1, err)
				}
				got = append(got, bytes.Clone(p.Data))
			}
			if err := os.Truncate(name, int64(tt.cut)); err != nil {
				t.Fatal(err)
			}
			for {
				err = src.Next(&p)
				if err != nil {
					break
				}
				got = append(got, bytes.Clone(p.Data))
			}
			// Records wholly before the cut are delivered; the one the
			// cut falls in may be too (its tail read as zeros, when the
			// cut is within its last page), nothing after it.
			whole := 0
			for whole < len(ends) && ends[whole] <= tt.cut {
				whole++
			}
			whole = max(whole, 100)
			if len(got) < whole || len(got) > whole+1 {
				t.Errorf("delivered %d packets, want %d (or one more)", len(got), whole)
			}
			for i := 0; i < min(len(got), whole); i++ {
				if !bytes.Equal(got[i], fs[i]) {
					t.Fatalf("packet %d differs from the file's", i+1)
				}
			}
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), name) {
				t.Errorf("error = %v, want a truncation error naming %s", err, name)
			}
			if err2 := src.Next(&p); err2 == nil || err2 == io.EOF {
				t.Errorf("Next after the error = %v, want the error again", err2)
			}
			if n := src.Stats().Packets; n != uint64(len(got)) {
				t.Errorf("Stats().Packets = %d, want %d", n, len(got))
			}
		})
	}
}

// TestMappedGrows: a file that grows after it was opened (a capture still
// being written) is read to its new end, as a read file would be, and a
// record cut by the mapping's end is read whole.
func TestMappedGrows(t *testing.T) {
	fs := bigFrames(400)
	raw := pcapBytes(t, layers.LinkTypeEthernet, true, fs)
	ends := recordEnds(fs)
	for _, first := range []int{ends[199], ends[199] + 30} {
		name := writeFile(t, "grow.pcap", raw[:first])
		src, err := OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !IsMapped(src) {
			t.Fatal("not mapped")
		}
		if err := os.WriteFile(name, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readAll(src)
		if err != nil {
			t.Fatalf("first %d bytes mapped: %v", first, err)
		}
		if len(got) != len(fs) {
			t.Fatalf("first %d bytes mapped: %d packets, want %d", first, len(got), len(fs))
		}
		for i, p := range got {
			if !bytes.Equal(p.Data, fs[i]) {
				t.Fatalf("first %d bytes mapped: packet %d differs", first, i+1)
			}
		}
		if r := src.(*fileSource).BytesRead(); r != int64(len(raw)) {
			t.Errorf("BytesRead = %d, want %d", r, len(raw))
		}
		src.Close()
	}
}

// TestBytesRead: progress reports and Stats follow the packets for every
// kind of file (published every publishEvery packets) and end at the
// file's size and its packet count.
func TestBytesRead(t *testing.T) {
	fs := bigFrames(3*publishEvery + 5)
	plain := pcapBytes(t, layers.LinkTypeEthernet, false, fs)
	tests := []struct {
		name string
		data []byte
	}{
		{"pcap", plain},
		{"gzip pcap", gz(t, plain)},
		{"pcapng", pcapngBytes(t, layers.LinkTypeEthernet, fs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := OpenFile(writeFile(t, "f", tt.data))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			br := src.(interface{ BytesRead() int64 })
			var p Packet
			for i := 0; i < publishEvery; i++ {
				if err := src.Next(&p); err != nil {
					t.Fatal(err)
				}
			}
			if got := src.Stats().Packets; got != publishEvery {
				t.Errorf("after %d packets: Stats().Packets = %d", publishEvery, got)
			}
			if tt.name == "pcap" {
				if got, want := br.BytesRead(), int64(recordEnds(fs)[publishEvery-1]); got != want {
					t.Errorf("after %d packets: BytesRead = %d, want %d", publishEvery, got, want)
				}
			}
			if _, err := readAll(src); err != nil {
				t.Fatal(err)
			}
			if got := br.BytesRead(); got != int64(len(tt.data)) {
				t.Errorf("at the end: BytesRead = %d, want %d", got, len(tt.data))
			}
			if got := src.Stats().Packets; got != uint64(len(fs)) {
				t.Errorf("at the end: Stats().Packets = %d, want %d", got, len(fs))
			}
		})
	}
}

// TestMappedClose: Close unmaps; Next afterwards is an error, not a fault.
func TestMappedClose(t *testing.T) {
	src, err := OpenFile(writeFile(t, "c.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, frames(3))))
	if err != nil {
		t.Fatal(err)
	}
	if !IsMapped(src) {
		t.Fatal("not mapped")
	}
	var p Packet
	if err := src.Next(&p); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := src.Next(&p); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close = %v, want %v", err, os.ErrClosed)
	}
}

// BenchmarkFileReadMapped measures reading a plain pcap file through its
// mapping, the packets' bytes touched as a decoder would.
func BenchmarkFileReadMapped(b *testing.B) {
	fs := make([][]byte, 10000)
	for i := range fs {
		fs[i] = bytes.Repeat([]byte{byte(i)}, 60+i%1400)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	for i, f := range fs {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i)), CaptureLength: len(f), Length: len(f)}, f)
	}
	name := filepath.Join(b.TempDir(), "bench.pcap")
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var p Packet
	var sum byte
	n := 0
	for n < b.N {
		src, err := OpenFile(name)
		if err != nil {
			b.Fatal(err)
		}
		for n < b.N && src.Next(&p) == nil {
			sum += p.Data[0]
			n++
		}
		src.Close()
	}
	_ = sum
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
