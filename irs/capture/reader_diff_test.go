package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/capture"
)

// record is one packet as a reader gives it.
type record struct {
	data []byte
	ci   gopacket.CaptureInfo
}

// viaPcapgo reads a classic pcap with pcapgo alone: the reference.
func viaPcapgo(t *testing.T, raw []byte) ([]record, error) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("pcapgo: %v", err)
	}
	var out []record
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			return out, err
		}
		out = append(out, record{data, ci})
	}
}

// viaSource reads it through capture's file source (in-place records).
func viaSource(t *testing.T, name string, raw []byte) ([]record, error) {
	t.Helper()
	src, err := capture.NewReader(name, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("source: %v", err)
	}
	var out []record
	for {
		var p capture.Packet
		if err := src.Next(&p); err != nil {
			return out, err
		}
		out = append(out, record{bytes.Clone(p.Data),
			gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data), Length: p.Length}})
	}
}

// endsAfterHeader reports whether the classic pcap raw ends right after a
// record header whose data is missing: pcapgo reads a clean EOF there,
// where the file is in fact truncated.
// viaFile writes raw to a file and reads it with OpenFile: a plain pcap
// is then read through a memory mapping, which mapped must say.
func viaFile(t *testing.T, name string, raw []byte, mapped bool) ([]record, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.pcap")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("%s: open: %v", name, err)
	}
	defer src.Close()
	if got := capture.IsMapped(src); got != mapped {
		t.Errorf("%s: mapped = %v, want %v", name, got, mapped)
	}
	var out []record
	for {
		var p capture.Packet
		if err := src.Next(&p); err != nil {
			return out, err
		}
		if cap(p.Data) != len(p.Data) {
			t.Fatalf("%s: packet %d: capacity %d beyond its %d bytes (appending would write into the file's buffer)", name, len(out)+1, cap(p.Data), len(p.Data))
		}
		out = append(out, record{bytes.Clone(p.Data),
			gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data), Length: p.Length}})
	}
}

func endsAfterHeader(raw []byte) bool {
	order := binary.ByteOrder(binary.LittleEndian)
	if raw[0] == 0xa1 {
		order = binary.BigEndian
	}
	off := 24
	for off+16 <= len(raw) {
		next := off + 16 + int(order.Uint32(raw[off+8:off+12]))
		if off+16 == len(raw) && next > len(raw) {
			return true
		}
		off = next
	}
	return false
}

func sameRecords(t *testing.T, name string, raw []byte, want, got []record, wantErr, gotErr error) {
	t.Helper()
	if wantErr == io.EOF && endsAfterHeader(raw) {
		// The one place the source is stricter than pcapgo: it reports
		// the truncation.
		wantErr = io.ErrUnexpectedEOF
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, pcapgo reads %d", name, len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !bytes.Equal(w.data, g.data) || !w.ci.Timestamp.Equal(g.ci.Timestamp) ||
			w.ci.CaptureLength != g.ci.CaptureLength || w.ci.Length != g.ci.Length {
			t.Fatalf("%s: packet %d: got %d/%d bytes at %v, pcapgo %d/%d at %v (or the bytes differ)", name, i+1,
				g.ci.CaptureLength, g.ci.Length, g.ci.Timestamp, w.ci.CaptureLength, w.ci.Length, w.ci.Timestamp)
		}
	}
	switch {
	case wantErr == io.EOF:
		if gotErr != io.EOF {
			t.Errorf("%s: ends with %v, pcapgo with EOF", name, gotErr)
		}
	case errors.Is(wantErr, io.ErrUnexpectedEOF):
		if !errors.Is(gotErr, capture.ErrTruncated) {
			t.Errorf("%s: ends with %v, pcapgo with a truncation (%v)", name, gotErr, wantErr)
		}
	default:
		if gotErr == nil || gotErr == io.EOF {
			t.Errorf("%s: ends with %v, pcapgo with %v", name, gotErr, wantErr)
		}
	}
}

// TestRecordsAsPcapgo reads every classic pcap of the public captures, and
// each of them cut short, compressed and not, from a reader and from a
// file (mapped), and requires the packets pcapgo reads and the same end
// (EOF, truncation).
func TestRecordsAsPcapgo(t *testing.T) {
	n := 0
	for _, file := range golden.AllCaptures(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) < 4 || bytes.Equal(raw[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
			continue // pcapng: read by pcapgo's own reader
		}
		n++
		variants := map[string][]byte{"whole": raw}
		for _, cut := range []int{len(raw) - 1, len(raw) - 7, 24 + 8, len(raw) / 2} {
			if cut > 24 && cut < len(raw) {
				variants["cut at "+itoa(cut)] = raw[:cut]
			}
		}
		for vname, v := range variants {
			want, wantErr := viaPcapgo(t, v)
			got, gotErr := viaSource(t, file+" "+vname, v)
			sameRecords(t, file+" "+vname, v, want, got, wantErr, gotErr)
			got, gotErr = viaFile(t, file+" "+vname+" file", v, true)
			sameRecords(t, file+" "+vname+" file", v, want, got, wantErr, gotErr)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		want, wantErr := viaPcapgo(t, raw)
		got, gotErr := viaSource(t, file+" gzip", gz.Bytes())
		sameRecords(t, file+" gzip", raw, want, got, wantErr, gotErr)
		got, gotErr = viaFile(t, file+" gzip file", gz.Bytes(), false)
		sameRecords(t, file+" gzip file", raw, want, got, wantErr, gotErr)
	}
	if n < 20 {
		t.Fatalf("only %d classic pcap files among the public captures", n)
	}
}

// TestHugeRecord: a record longer than the read buffer (a writer that
// declared a 1 MiB snap length) is read whole, and the next one too.
func TestHugeRecord(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(1<<20, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1_700_000_000, 42).UTC()
	sizes := []int{900 << 10, 60, 700 << 10, 1500}
	for i, n := range sizes {
		data := bytes.Repeat([]byte{byte(i + 1)}, n)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: n, Length: n}, data); err != nil {
			t.Fatal(err)
		}
	}
	want, wantErr := viaPcapgo(t, buf.Bytes())
	for _, via := range []string{"reader", "file"} {
		var got []record
		var gotErr error
		if via == "reader" {
			got, gotErr = viaSource(t, "huge", buf.Bytes())
		} else {
			got, gotErr = viaFile(t, "huge", buf.Bytes(), true)
		}
		sameRecords(t, "huge "+via, buf.Bytes(), want, got, wantErr, gotErr)
		if len(got) != len(sizes) {
			t.Errorf("%s: %d packets, want %d", via, len(got), len(sizes))
		}
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}
