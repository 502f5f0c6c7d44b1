// Package mixed builds the mixed capture sdnli's throughput is measured
// on: every Ethernet frame of the public captures, repeated as often as
// needed, with the IP addresses shifted on each repetition (so repeated
// conversations are new flows, as on a real network) and time moving
// forward 10 µs per packet. The Go benchmarks replay it from memory; the
// command bench/mkmixed writes it to a pcap for the comparison with other
// tools.
package mixed

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/sdnli/sdnli/irs/capture"
)

// Files lists the pcap and pcapng files under dir (the reference-output
// folder "refs" excepted), sorted.
func Files(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "refs" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng") || strings.HasSuffix(p, ".pcap.gz")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mixed: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("mixed: no captures under %s", dir)
	}
	sort.Strings(files)
	return files, nil
}

// Load reads the Ethernet frames of the files, in order. Frames of other
// link types are left out; a damaged file contributes the frames before
// the damage.
func Load(files []string) ([]capture.Packet, error) {
	var set []capture.Packet
	for _, f := range files {
		pkts, err := capture.ReadAll(f)
		if err != nil && len(pkts) == 0 {
			continue
		}
		for _, p := range pkts {
			if p.LinkType == layers.LinkTypeEthernet {
				set = append(set, p)
			}
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("mixed: no Ethernet frames in %d files", len(files))
	}
	return set, nil
}

// Source replays Set until Limit packets were delivered, shifting the
// addresses on each repetition. It is a capture.Source.
type Source struct {
	Set   []capture.Packet
	Limit int
	Start time.Time // timestamp of the first packet (default 2023-11-14)
	n     int
	buf   []byte
	ts    time.Time
}

// Next delivers the next frame, then io.EOF after Limit frames.
func (m *Source) Next(p *capture.Packet) error {
	if m.n >= m.Limit || len(m.Set) == 0 {
		return io.EOF
	}
	if m.n == 0 {
		m.ts = m.Start
		if m.ts.IsZero() {
			m.ts = time.Unix(1_700_000_000, 0)
		}
	}
	src := &m.Set[m.n%len(m.Set)]
	rep := m.n / len(m.Set)
	m.n++
	m.buf = append(m.buf[:0], src.Data...)
	ShiftAddresses(m.buf, rep)
	m.ts = m.ts.Add(10 * time.Microsecond)
	*p = capture.Packet{Data: m.buf, Timestamp: m.ts, Length: src.Length, LinkType: layers.LinkTypeEthernet}
	return nil
}

func (m *Source) Name() string         { return "mixed" }
func (m *Source) Live() bool           { return false }
func (m *Source) Stats() capture.Stats { return capture.Stats{Packets: uint64(m.n)} }
func (m *Source) Close() error         { return nil }

// ShiftAddresses adds rep to the last two bytes of both IP addresses of
// an Ethernet frame (after any VLAN tags), fixing the IPv4 header
// checksum.
func ShiftAddresses(f []byte, rep int) {
	if rep == 0 || len(f) < 14 {
		return
	}
	off := 12
	et := binary.BigEndian.Uint16(f[off:])
	for (et == 0x8100 || et == 0x88a8) && len(f) >= off+6 {
		off += 4
		et = binary.BigEndian.Uint16(f[off:])
	}
	ip := off + 2
	switch {
	case et == 0x0800 && len(f) >= ip+20:
		for _, at := range []int{ip + 14, ip + 18} {
			binary.BigEndian.PutUint16(f[at:], binary.BigEndian.Uint16(f[at:])+uint16(rep))
		}
		ihl := int(f[ip]&0x0f) * 4
		if ihl < 20 || len(f) < ip+ihl {
			return
		}
		f[ip+10], f[ip+11] = 0, 0
		var sum uint32
		for i := ip; i < ip+ihl; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(f[i:]))
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		binary.BigEndian.PutUint16(f[ip+10:], ^uint16(sum))
	case et == 0x86dd && len(f) >= ip+40:
		for _, at := range []int{ip + 22, ip + 38} {
			binary.BigEndian.PutUint16(f[at:], binary.BigEndian.Uint16(f[at:])+uint16(rep))
		}
	}
}
