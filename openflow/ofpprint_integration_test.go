//go:build integration

package openflow

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// ovsOfctl returns the path of ovs-ofctl or fails the test: the referee
// tests must not pass silently on a machine without Open vSwitch.
func ovsOfctl(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		t.Fatalf("ovs-ofctl not found (install openvswitch-common): %v", err)
	}
	return p
}

// ofpPrint runs `ovs-ofctl ofp-print HEX` and returns its output.
func ofpPrint(t *testing.T, b []byte) string {
	t.Helper()
	out, err := exec.Command(ovsOfctl(t), "ofp-print", hex.EncodeToString(b)).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl ofp-print %x: %v\n%s", b, err, out)
	}
	return string(out)
}

// TestOVSDecodesEveryMessage uses Open vSwitch's own decoder as referee:
// every message sdnli encodes must decode without error and print what
// the sample expects.
func TestOVSDecodesEveryMessage(t *testing.T) {
	for _, s := range allSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			b := mustBytes(t, 0x2a, s.msg)
			out := ofpPrint(t, b)
			var problems []string
			if s.ovsRejects != "" {
				if want := "decode error: " + s.ovsRejects; !strings.Contains(out, want) {
					problems = append(problems, "lacks "+want)
				}
			} else {
				for _, bad := range []string{"decode error", "|WARN|", "|ERR|"} {
					if strings.Contains(out, bad) {
						problems = append(problems, "reports "+bad)
					}
				}
			}
			for _, want := range append([]string{"xid=0x2a"}, s.ovs...) {
				if !strings.Contains(out, want) {
					problems = append(problems, "lacks "+want)
				}
			}
			if len(problems) > 0 {
				t.Errorf("ovs-ofctl ofp-print %x:\n  %s\noutput:\n%s", b, strings.Join(problems, "\n  "), out)
			}
		})
	}
}

// TestFormatMatchesOVS checks the ovs-ofctl syntax of String against Open
// vSwitch itself: every flow-mod sample is turned into a flow stats entry,
// and the line `ovs-ofctl ofp-print` prints for it must equal
// FlowStats.String exactly. Group descriptions are checked the same way.
func TestFormatMatchesOVS(t *testing.T) {
	for _, s := range allSamples(t) {
		fm, ok := s.msg.(*FlowMod)
		if !ok || s.ovsRejects != "" || fm.Command != FlowAdd {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			fs := FlowStats{TableID: fm.TableID, DurationSec: 5, DurationNsec: 250000000, Priority: fm.Priority,
				IdleTimeout: fm.IdleTimeout, HardTimeout: fm.HardTimeout, Flags: fm.Flags, Cookie: fm.Cookie,
				PacketCount: 4, ByteCount: 400, Match: fm.Match, Instructions: fm.Instructions}
			out := ofpPrint(t, mustBytes(t, 1, &MultipartReply{Body: &FlowStatsReply{Flows: []FlowStats{fs}}}))
			lines := strings.Split(strings.TrimSpace(out), "\n")
			got := strings.TrimSpace(lines[len(lines)-1])
			if want := fs.String(); got != want {
				t.Errorf("FlowStats.String() differs from ovs-ofctl\n  ovs: %s\n  got: %s", got, want)
			}
		})
	}
	for _, s := range allSamples(t) {
		gm, ok := s.msg.(*GroupMod)
		if !ok || gm.Command == GroupDelete {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			gd := GroupDesc{GroupType: gm.GroupType, GroupID: gm.GroupID, Buckets: gm.Buckets}
			out := ofpPrint(t, mustBytes(t, 1, &MultipartReply{Body: &GroupDescReply{Groups: []GroupDesc{gd}}}))
			lines := strings.Split(strings.TrimSpace(out), "\n")
			got := strings.TrimSpace(lines[len(lines)-1])
			if want := gd.String(); got != want {
				t.Errorf("GroupDesc.String() differs from ovs-ofctl\n  ovs: %s\n  got: %s", got, want)
			}
		})
	}
}
