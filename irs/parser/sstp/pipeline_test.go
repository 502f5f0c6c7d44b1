package sstp

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/http"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// writePcap writes the conversation as a TCP connection (handshake,
// one segment per piece, FINs) between 10.62.0.1:50000 and
// 10.62.0.2:port.
func writePcap(t *testing.T, path string, port uint16, segs []parsertest.Segment) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ips := [2]net.IP{net.IP{10, 62, 0, 1}, net.IP{10, 62, 0, 2}}
	ports := [2]layers.TCPPort{50000, layers.TCPPort(port)}
	seq := [2]uint32{1000, 5000}
	ts := time.Unix(1700000000, 0)
	send := func(from int, syn, ack, fin bool, payload []byte) {
		to := 1 - from
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(from + 1)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(to + 1)}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ips[from], DstIP: ips[to]}
		tcp := &layers.TCP{SrcPort: ports[from], DstPort: ports[to], Seq: seq[from], Ack: seq[to], SYN: syn, ACK: ack, FIN: fin, PSH: len(payload) > 0, Window: 65535}
		tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}, sb.Bytes()); err != nil {
			t.Fatal(err)
		}
		seq[from] += uint32(len(payload))
		if syn || fin {
			seq[from]++
		}
	}
	send(0, true, false, false, nil)
	send(1, true, true, false, nil)
	send(0, false, true, false, nil)
	for _, s := range segs {
		send(int(s.Dir), false, true, false, s.Data)
	}
	send(0, false, true, true, nil)
	send(1, false, true, true, nil)
	send(0, false, true, false, nil)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPipeline runs the scripted conversation through the whole IRS
// pipeline with the HTTP parser registered first (as in the binary,
// where parsers register in name order): the SSTP request must reach
// the SSTP parser.
func TestPipeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sstp.pcap")
	writePcap(t, path, 443, Conversation())
	reg := parser.NewRegistry()
	reg.Add(http.Detector{})
	reg.Add(Detector{})
	res := golden.Run(t, reg, parser.Options{}, path)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Events) != 1 {
		t.Fatalf("%d events: %s", len(res.Events), parsertest.Normalize(res.Events))
	}
	ev := res.Events[0]
	if ev.Protocol != protocol || ev.Type != TypeSession || ev.Summary.Get("host") != "vpn.example.org" || ev.Server.String() != "10.62.0.2:443" {
		t.Errorf("event %s", parsertest.Normalize(res.Events))
	}
	golden.Check(t, "scripted-conversation", res.Events)
}
