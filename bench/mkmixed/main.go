// Command mkmixed writes the mixed capture the throughput comparison runs
// on (see package internal/mixed): every Ethernet frame of the captures
// under the given directories, repeated with shifted addresses until the
// output holds -packets packets.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/internal/mixed"
	"github.com/sdnli/sdnli/irs/capture"
)

func main() {
	out := flag.String("o", "mixed.pcap", "output pcap file")
	want := flag.Int("packets", 450000, "number of packets to write")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: mkmixed [-o FILE] [-packets N] DIR...\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *want, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkmixed:", err)
		os.Exit(1)
	}
}

func run(out string, want int, dirs []string) error {
	var files []string
	for _, d := range dirs {
		fs, err := mixed.Files(d)
		if err != nil {
			return err
		}
		files = append(files, fs...)
	}
	set, err := mixed.Load(files)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	src := &mixed.Source{Set: set, Limit: want}
	var p capture.Packet
	for src.Next(&p) == nil {
		ci := gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data))}
		if err := w.WritePacket(ci, p.Data); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Printf("%s: %d packets from %d files (%d distinct frames)\n", out, want, len(files), len(set))
	return nil
}
