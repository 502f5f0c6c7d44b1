package decode

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/sdnli/sdnli/irs/capture"
)

// layerRun is what decoding a buffer gave: the layers decoded, the error,
// the truncation flag, or the panic.
type layerRun struct {
	decoded   []gopacket.LayerType
	err       string
	truncated bool
	panicked  string
}

func (r layerRun) String() string {
	return fmt.Sprintf("layers %v, error %q, truncated %v, panic %q", r.decoded, r.err, r.truncated, r.panicked)
}

func catch(r *layerRun) {
	if v := recover(); v != nil {
		r.panicked = fmt.Sprint(v)
	}
}

// viaRun decodes with the decoder's own loop.
func viaRun(d *Decoder, first gopacket.LayerType, data []byte) (r layerRun) {
	defer catch(&r)
	if err := d.run(first, data); err != nil {
		r.err = err.Error()
	}
	r.decoded, r.truncated = slices.Clone(d.decoded), bool(d.truncated)
	return r
}

// viaParser decodes with a gopacket DecodingLayerParser over the same
// kind of container, set up as the decoder's loop claims to behave.
func viaParser(d *Decoder, first gopacket.LayerType, data []byte) (r layerRun) {
	defer catch(&r)
	p := gopacket.NewDecodingLayerParser(first)
	p.SetDecodingLayerContainer(d.container)
	p.IgnoreUnsupported = true
	p.IgnorePanic = true
	var decoded []gopacket.LayerType
	if err := p.DecodeLayers(data, &decoded); err != nil {
		r.err = err.Error()
	}
	r.decoded, r.truncated = decoded, p.Truncated
	return r
}

// firsts are the layers decoding starts from: one per link type, and the
// transports a reassembled datagram starts with.
var firsts = []gopacket.LayerType{
	layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2, layers.LayerTypeLoopback,
	layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeGRE,
	layers.LayerTypeICMPv4, layers.LayerTypeICMPv6, layers.LayerTypeIPSecESP, layers.LayerTypeIPSecAH,
	layers.LayerTypeIPv6Destination,
}

// variants returns a frame, cut short in places and, when altered is
// set, with single bytes changed where headers keep lengths, types and
// versions.
func variants(f []byte, altered bool) [][]byte {
	out := [][]byte{f}
	for _, n := range []int{len(f) - 1, len(f) / 2, 14 + 10, 14 + 20 + 7} {
		if n > 0 && n < len(f) {
			out = append(out, f[:n])
		}
	}
	if !altered {
		return out
	}
	for _, i := range []int{0, 12, 13, 14, 16, 17, 20, 23, 26, 33, 34, 38, 46, 47, 54} {
		if i < len(f) {
			for _, v := range []byte{0x00, 0xff, f[i] ^ 0x40} {
				g := slices.Clone(f)
				g[i] = v
				out = append(out, g)
			}
		}
	}
	return out
}

// firstOf returns the layer a frame of link type lt starts with.
func firstOf(lt layers.LinkType, frame []byte) gopacket.LayerType {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	}
	if len(frame) > 0 && frame[0]>>4 == 6 {
		return layers.LayerTypeIPv6
	}
	return layers.LayerTypeIPv4
}

// sharedFrames returns the frames of every capture in ../shared/pcaps, by
// link type.
func sharedFrames(t *testing.T) []capture.Packet {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
	root := filepath.Join(dir, "..", "shared", "pcaps")
	var all []capture.Packet
	err = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !(strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			return nil
		}
		ps, err := capture.ReadAll(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, ps...)
		return nil
	})
	if err != nil {
		t.Fatalf("public captures (../shared/pcaps next to the repository): %v", err)
	}
	if len(all) < 10000 {
		t.Fatalf("only %d frames in %s", len(all), root)
	}
	return all
}

// TestRunAsDecodingLayerParser: the decoder's layer loop, which calls the
// common layers directly, decodes every frame of the public captures,
// cut short, and every fourth also altered in its headers, from its link
// layer, and every frame from every other starting layer, exactly as
// gopacket's DecodingLayerParser does: same layers, same error, same
// truncation, same panic.
func TestRunAsDecodingLayerParser(t *testing.T) {
	d1, d2 := NewDecoder(), NewDecoder()
	n := 0
	check := func(first gopacket.LayerType, data []byte) {
		t.Helper()
		got, want := viaRun(d1, first, data), viaParser(d2, first, data)
		n++
		if !slices.Equal(got.decoded, want.decoded) || got.err != want.err ||
			got.truncated != want.truncated || got.panicked != want.panicked {
			t.Fatalf("from %v over % x:\n got %v\nwant %v", first, data, got, want)
		}
	}
	for i, f := range sharedFrames(t) {
		first := firstOf(f.LinkType, f.Data)
		for _, v := range variants(f.Data, i%4 == 0) {
			check(first, v)
		}
		for _, other := range firsts {
			if other != first {
				check(other, f.Data)
			}
		}
	}
	if n < 200000 {
		t.Errorf("only %d decodings compared", n)
	}
}

// FuzzRunAsDecodingLayerParser is the same comparison on arbitrary bytes.
func FuzzRunAsDecodingLayerParser(f *testing.F) {
	for _, fr := range [][]byte{frameSYN, frameVLAN, frameQinQ, frameIPv6, frameIPv6Ext, frameGRE, frameEcho,
		frameEcho6, frameESP, frag0, frag1, frag6a, frameARP, frameIPIP} {
		f.Add(uint8(0), fr)
	}
	f.Add(uint8(4), rawUDP)
	d1, d2 := NewDecoder(), NewDecoder()
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		first := firsts[int(sel)%len(firsts)]
		got, want := viaRun(d1, first, data), viaParser(d2, first, data)
		if !slices.Equal(got.decoded, want.decoded) || got.err != want.err ||
			got.truncated != want.truncated || got.panicked != want.panicked {
			t.Fatalf("from %v over % x:\n got %v\nwant %v", first, data, got, want)
		}
	})
}
