package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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

var base = time.Unix(1_700_000_000, 123456000).UTC()

// frames returns n small distinct frames.
func frames(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, bytes.Repeat([]byte{byte(i + 1)}, 60+i))
	}
	return out
}

func pcapBytes(t *testing.T, lt layers.LinkType, nanos bool, fs [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Second), CaptureLength: len(f), Length: len(f) + 10}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func pcapngBytes(t *testing.T, lt layers.LinkType, fs [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, lt)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Second), CaptureLength: len(f), Length: len(f) + 10}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll drains a source.
func readAll(src Source) ([]Packet, error) {
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

func TestFormats(t *testing.T) {
	fs := frames(3)
	tests := []struct {
		name string
		file string // deliberately misleading names: the magic decides
		data []byte
		lt   layers.LinkType
	}{
		{"pcap µs", "a.pcapng", pcapBytes(t, layers.LinkTypeEthernet, false, fs), layers.LinkTypeEthernet},
		{"pcap ns", "b.cap", pcapBytes(t, layers.LinkTypeLinuxSLL, true, fs), layers.LinkTypeLinuxSLL},
		{"pcapng", "c.pcap", pcapngBytes(t, layers.LinkTypeRaw, fs), layers.LinkTypeRaw},
		{"gzip pcap", "d.pcap", gz(t, pcapBytes(t, layers.LinkTypeNull, false, fs)), layers.LinkTypeNull},
		{"gzip pcapng", "e", gz(t, pcapngBytes(t, layers.LinkTypeLinuxSLL2, fs)), layers.LinkTypeLinuxSLL2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := OpenFile(writeFile(t, tt.file, tt.data))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got, err := readAll(src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(fs) {
				t.Fatalf("got %d packets, want %d", len(got), len(fs))
			}
			for i, p := range got {
				if !bytes.Equal(p.Data, fs[i]) {
					t.Errorf("packet %d data = % x, want % x", i, p.Data, fs[i])
				}
				if want := base.Add(time.Duration(i) * time.Second); !p.Timestamp.Equal(want) {
					t.Errorf("packet %d time = %v, want %v", i, p.Timestamp, want)
				}
				if p.Length != len(fs[i])+10 {
					t.Errorf("packet %d length = %d, want %d", i, p.Length, len(fs[i])+10)
				}
				if p.LinkType != tt.lt {
					t.Errorf("packet %d link type = %v, want %v", i, p.LinkType, tt.lt)
				}
			}
			if st := src.Stats(); st.Packets != 3 {
				t.Errorf("Stats().Packets = %d, want 3", st.Packets)
			}
		})
	}
}

func TestDamagedFiles(t *testing.T) {
	fs := frames(3)
	whole := pcapBytes(t, layers.LinkTypeEthernet, false, fs)
	// File header 24 bytes; packet records 16 + 60, 16 + 61, 16 + 62.
	third := 24 + 16 + 60 + 16 + 61
	unknown := pcapBytes(t, layers.LinkType(147), false, fs) // DLT_USER0
	ng := pcapngBytes(t, layers.LinkTypeEthernet, fs)
	tests := []struct {
		name      string
		data      []byte
		openErr   []string // substrings of the error from OpenFile
		wantGood  int      // packets delivered before the error
		readErr   []string // substrings of the error from Next
		wantIsErr error
	}{
		{name: "truncated in a packet's data", data: whole[:third+16+30], wantGood: 2,
			readErr: []string{"packet 3", fmt.Sprintf("offset %d", third)}, wantIsErr: ErrTruncated},
		{name: "truncated right after a packet header", data: whole[:third+16], wantGood: 2,
			readErr: []string{"packet 3", fmt.Sprintf("offset %d", third)}, wantIsErr: ErrTruncated},
		{name: "record longer than its wire length", data: func() []byte {
			b := bytes.Clone(whole)
			b[third+12] = 1 // orig_len 1 < incl_len 62
			return b
		}(), wantGood: 2, readErr: []string{"packet 3", "exceeds original packet length"}},
		{name: "truncated in a packet header", data: whole[:third+7], wantGood: 2,
			readErr: []string{"packet 3", fmt.Sprintf("offset %d", third)}, wantIsErr: ErrTruncated},
		{name: "truncated gzip", data: gz(t, whole)[:60], wantGood: -1, readErr: []string{"uncompressed offset"}},
		{name: "truncated pcapng", data: ng[:len(ng)-20], wantGood: 2, readErr: []string{"packet 3"}, wantIsErr: ErrTruncated},
		{name: "not a capture", data: []byte("Subject: hello\r\n\r\nthis is mail\r\n"), openErr: []string{"not a pcap or pcapng file"}, wantIsErr: ErrNotCapture},
		{name: "empty", data: nil, openErr: []string{"empty file"}, wantIsErr: ErrNotCapture},
		{name: "short", data: []byte{0xd4, 0xc3}, openErr: []string{"2 bytes only"}, wantIsErr: ErrNotCapture},
		{name: "bad pcap header", data: whole[:10], openErr: []string{"pcap header"}},
		{name: "unknown link type", data: unknown, openErr: []string{"unsupported link type 147"}, wantIsErr: ErrLinkType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := writeFile(t, "damaged.pcap", tt.data)
			src, err := OpenFile(name)
			if tt.openErr != nil {
				if err == nil {
					src.Close()
					t.Fatal("OpenFile succeeded, want an error")
				}
				checkErr(t, err, name, tt.openErr, tt.wantIsErr)
				return
			}
			if err != nil {
				t.Fatalf("OpenFile: %v", err)
			}
			defer src.Close()
			got, err := readAll(src)
			if tt.wantGood >= 0 && len(got) != tt.wantGood {
				t.Errorf("delivered %d packets before the damage, want %d", len(got), tt.wantGood)
			}
			for i, p := range got {
				if !bytes.Equal(p.Data, fs[i]) {
					t.Errorf("packet %d = % x, want % x", i, p.Data, fs[i])
				}
			}
			if err == nil {
				t.Fatal("no error at the damage")
			}
			checkErr(t, err, name, tt.readErr, tt.wantIsErr)
			var p Packet
			if err2 := src.Next(&p); err2 == nil || err2 == io.EOF {
				t.Errorf("Next after the error = %v, want the same error again", err2)
			}
		})
	}
}

func checkErr(t *testing.T, err error, name string, subs []string, is error) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, name) {
		t.Errorf("error %q does not name the file %s", msg, name)
	}
	for _, s := range subs {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %q is not %v", msg, is)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := OpenFile(filepath.Join(t.TempDir(), "nope.pcap"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.pcap") {
		t.Errorf("OpenFile(missing) = %v, want a not-exist error naming the file", err)
	}
}

func TestMemorySource(t *testing.T) {
	m := &MemorySource{Frames: []Packet{{Data: []byte{1}}, {Data: []byte{2, 3}}}}
	got, err := readAll(m)
	if err != nil || len(got) != 2 || got[1].Length != 2 {
		t.Fatalf("got %v, %v; want 2 packets, the second of length 2", got, err)
	}
	m.Rewind()
	if got, _ := readAll(m); len(got) != 2 {
		t.Errorf("after Rewind: %d packets, want 2", len(got))
	}
}

// BenchmarkFileRead measures reading a pcap file with the zero-copy path.
func BenchmarkFileRead(b *testing.B) {
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
	data := buf.Bytes()
	b.ReportAllocs()
	b.ResetTimer()
	var p Packet
	n := 0
	for n < b.N {
		src, err := NewReader("bench", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for n < b.N && src.Next(&p) == nil {
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
