// Command mkmixed builds the large mixed capture the benchmarks run on: it
// concatenates every Ethernet capture (pcap or pcapng, gzip or not) found
// under the given directories, rebasing timestamps so time only moves
// forward, and repeats the set until the output holds at least -packets
// packets. Each repetition shifts the IPv4/IPv6 addresses (the last octet
// of the source and destination, with the IPv4 header checksum fixed) so
// that repeated conversations are new flows, as on a real network.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type packet struct {
	ci   gopacket.CaptureInfo
	data []byte
}

func main() {
	out := flag.String("o", "mixed.pcap", "output pcap file")
	want := flag.Int("packets", 450000, "minimum number of packets to write")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: mkmixed [-o FILE] [-packets N] DIR...\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var files []string
	for _, dir := range flag.Args() {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng") || strings.HasSuffix(p, ".pcap.gz")) {
				files = append(files, p)
			}
			return nil
		})
	}
	sort.Strings(files)
	var set []packet
	for _, f := range files {
		pkts, err := readEthernet(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkmixed: skipping %s: %v\n", f, err)
			continue
		}
		set = append(set, pkts...)
	}
	if len(set) == 0 {
		fmt.Fprintln(os.Stderr, "mkmixed: no Ethernet packets found")
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkmixed:", err)
		os.Exit(1)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		fmt.Fprintln(os.Stderr, "mkmixed:", err)
		os.Exit(1)
	}
	ts := time.Unix(1_700_000_000, 0)
	n := 0
	for rep := 0; n < *want; rep++ {
		for _, p := range set {
			data := append([]byte(nil), p.data...)
			shiftAddresses(data, byte(rep))
			ts = ts.Add(10 * time.Microsecond)
			ci := p.ci
			ci.Timestamp = ts
			ci.CaptureLength = len(data)
			if err := w.WritePacket(ci, data); err != nil {
				fmt.Fprintln(os.Stderr, "mkmixed:", err)
				os.Exit(1)
			}
			n++
		}
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "mkmixed:", err)
		os.Exit(1)
	}
	f.Close()
	fmt.Printf("%s: %d packets from %d files (%d distinct packets)\n", *out, n, len(files), len(set))
}

// readEthernet reads every packet of an Ethernet capture.
func readEthernet(name string) ([]packet, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	br := r.(*bufio.Reader)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReader(gz)
	}
	magic, _ := br.Peek(4)
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var lt layers.LinkType
	if len(magic) == 4 && binary.BigEndian.Uint32(magic) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		src, lt = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, err
		}
		src, lt = pr, pr.LinkType()
	}
	if lt != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("link type %v, not Ethernet", lt)
	}
	var out []packet
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, nil // keep what came before the damage
		}
		out = append(out, packet{ci: ci, data: append([]byte(nil), data...)})
	}
}

// shiftAddresses adds k to the last byte of the source and destination
// address of an untagged IPv4 or IPv6 packet, fixing the IPv4 checksum.
func shiftAddresses(b []byte, k byte) {
	if k == 0 || len(b) < 14 {
		return
	}
	switch binary.BigEndian.Uint16(b[12:14]) {
	case 0x0800:
		ip := b[14:]
		if len(ip) < 20 {
			return
		}
		ip[15] += k
		ip[19] += k
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl {
			return
		}
		ip[10], ip[11] = 0, 0
		var sum uint32
		for i := 0; i < ihl; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	case 0x86dd:
		ip := b[14:]
		if len(ip) < 40 {
			return
		}
		ip[23] += k
		ip[39] += k
	}
}
