package openflow

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// TestDecodeCapturedFromOVS decodes replies a real Open vSwitch sent
// (capture_data_test.go), checks their contents, and requires that
// re-encoding gives back the very same bytes.
func TestDecodeCapturedFromOVS(t *testing.T) {
	tests := []struct {
		name  string
		hex   string
		check func(t *testing.T, h Header, m Message)
	}{
		{"features reply", capturedFeaturesReply, func(t *testing.T, h Header, m Message) {
			f := m.(*FeaturesReply)
			if f.DatapathID != 0x00009e45e6ec4d4b || f.NTables != 254 || f.NBuffers != 0 {
				t.Errorf("features = %+v", f)
			}
			if want := CapFlowStats | CapTableStats | CapPortStats | CapGroupStats | CapQueueStats; f.Capabilities != want {
				t.Errorf("capabilities = %s, want %s", f.Capabilities, want)
			}
		}},
		{"desc reply", capturedDescReply, func(t *testing.T, h Header, m Message) {
			d := m.(*MultipartReply).Body.(*DescReply)
			want := DescReply{Manufacturer: "Nicira, Inc.", Hardware: "Open vSwitch", Software: "3.1.0", SerialNumber: "None", Datapath: "None"}
			if *d != want {
				t.Errorf("desc = %+v, want %+v", *d, want)
			}
		}},
		{"port status", capturedPortStatus, func(t *testing.T, h Header, m Message) {
			ps := m.(*PortStatus)
			if ps.Reason != PortReasonAdd || ps.Port.PortNo != 5 || ps.Port.Name != "ofvb55295a" ||
				ps.Port.HWAddr.String() != "aa:76:15:17:41:00" || ps.Port.CurrSpeed != 10000000 {
				t.Errorf("port status = %s %s", ps.Reason, ps.Port)
			}
			if ps.Port.Curr != PortFeature10GbFD|PortFeatureCopper {
				t.Errorf("current features = %s", ps.Port.Curr)
			}
		}},
		{"port desc reply", capturedPortDescReply, func(t *testing.T, h Header, m Message) {
			ports := m.(*MultipartReply).Body.(*PortDescReply).Ports
			if len(ports) != 2 {
				t.Fatalf("%d ports, want 2", len(ports))
			}
			if p := ports[1]; p.PortNo != 5 || p.Name != "ofvb55295a" || p.State != PortStateLive {
				t.Errorf("port 1 = %s", p)
			}
			if p := ports[0]; p.PortNo != PortLocal || p.Name != "ofbrb55295" || p.Config != PortConfigDown || p.State != PortStateLinkDown {
				t.Errorf("port 0 = %s", p)
			}
		}},
		{"flow stats reply", capturedFlowStatsReply, func(t *testing.T, h Header, m Message) {
			mp := m.(*MultipartReply)
			flows := mp.Body.(*FlowStatsReply).Flows
			if mp.More() || len(flows) != 2 {
				t.Fatalf("flags %d, %d flows; want one part with 2 flows", mp.Flags, len(flows))
			}
			want := []string{
				"cookie=0x534d545000000019, duration=0.001s, table=0, n_packets=0, n_bytes=0, priority=100,tcp,tp_dst=25 actions=NORMAL,output:5",
				"cookie=0x0, duration=0.001s, table=0, n_packets=0, n_bytes=0, priority=0 actions=CONTROLLER:65535",
			}
			for i, f := range flows {
				if got := f.String(); got != want[i] {
					t.Errorf("flow %d = %q, want %q", i, got, want[i])
				}
			}
		}},
		{"packet in", capturedPacketIn, func(t *testing.T, h Header, m Message) {
			pi := m.(*PacketIn)
			port, _ := pi.InPort()
			if pi.Reason != PacketInNoMatch || pi.TableID != 0 || port != 5 || pi.BufferID != NoBuffer || pi.TotalLen != 42 || len(pi.Data) != 42 {
				t.Errorf("packet in = %s", pi)
			}
			if dst, src := net.HardwareAddr(pi.Data[0:6]), net.HardwareAddr(pi.Data[6:12]); dst.String() != "ff:ff:ff:ff:ff:ff" || src.String() != "02:77:00:00:00:01" {
				t.Errorf("frame %s > %s, want the namespace's ARP broadcast", src, dst)
			}
			if pi.Data[12] != 0x08 || pi.Data[13] != 0x06 {
				t.Errorf("ethertype %#x, want ARP", pi.Data[12:14])
			}
		}},
		{"error group exists", capturedErrorGroupExists, func(t *testing.T, h Header, m Message) {
			e := m.(*Error)
			if !errors.Is(e, GroupModFailedGroupExists) {
				t.Errorf("code = %s", e.Code)
			}
			if off, ok := e.Offending(); !ok || off.Type != TypeGroupMod || off.XID != h.XID {
				t.Errorf("offending = %+v", off)
			}
			if _, gm, err := Decode(e.Data); err != nil || gm.(*GroupMod).String() !=
				"group_id=1,type=select,bucket=weight:70,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:5,bucket=weight:30,actions=LOCAL" {
				t.Errorf("echoed group mod = %v, %v", gm, err)
			}
		}},
		{"error role stale", capturedErrorRoleStale, func(t *testing.T, h Header, m Message) {
			e := m.(*Error)
			if e.Code != RoleRequestFailedStale {
				t.Errorf("code = %s", e.Code)
			}
			if _, rr, err := Decode(e.Data); err != nil || rr.(*RoleRequest).Role != (Role{RoleMaster, 0}) {
				t.Errorf("echoed role request = %v, %v", rr, err)
			}
		}},
		{"error bad table id", capturedErrorBadTableID, func(t *testing.T, h Header, m Message) {
			if e := m.(*Error); e.Code != BadInstructionBadTableID {
				t.Errorf("code = %s", e.Code)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := unhex(t, tt.hex)
			h, m, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tt.check(t, h, m)
			again, err := Marshal(h.XID, m)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(again, raw) {
				t.Errorf("re-encoding differs from the switch's bytes\n got % x\nwant % x", again, raw)
			}
		})
	}
}

func BenchmarkDecodeCapturedFlowStats(b *testing.B) {
	raw, _ := hex.DecodeString(capturedFlowStatsReply)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
