package openflow

import (
	"net/netip"
	"testing"
)

func TestFlowModString(t *testing.T) {
	withCookie := mirrorFlow(t)
	withCookie.Cookie, withCookie.TableID, withCookie.IdleTimeout = 0x19, 2, 60
	plain := NewFlowMod(FlowAdd)
	plain.Priority = 100
	plain.Match = mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25))
	plain.Instructions = []Instruction{ApplyActions(Output(PortNormal), Output(3))}
	miss := NewFlowMod(FlowAdd)
	miss.Priority = 0
	miss.Instructions = []Instruction{ApplyActions(Output(PortController))}
	empty := NewFlowMod(FlowAdd)
	flagged := NewFlowMod(FlowAdd)
	flagged.Flags = FlowFlagSendFlowRem
	flagged.Instructions = []Instruction{ApplyActions(Output(1))}
	del := NewFlowMod(FlowDeleteStrict)
	del.Priority = 100
	del.Match = plain.Match
	delCookie := NewFlowMod(FlowDelete)
	delCookie.TableID = TableAll
	delCookie.Cookie, delCookie.CookieMask = 0x5344000000000000, 0xffff000000000000
	delCookie.OutPort = 3
	mod := NewFlowMod(FlowModify)
	mod.Match = mustMatch(t, EthType(EthTypeIPv6), IPProto(IPProtoUDP), UDPDst(53))
	mod.Instructions = []Instruction{ApplyActions(Output(PortNormal)), GotoTable(1)}

	tests := []struct {
		name string
		fm   *FlowMod
		want string
	}{
		{"mirror example from the design", plain, "priority=100,tcp,tp_dst=25 actions=NORMAL,output:3"},
		{"cookie table timeout vlan copy", withCookie, "cookie=0x19, table=2, idle_timeout=60, priority=100,tcp,tp_dst=25 actions=NORMAL,push_vlan:0x8100,set_field:4196->vlan_vid,output:3"},
		{"table miss", miss, "priority=0 actions=CONTROLLER:65535"},
		{"empty", empty, "actions=drop"},
		{"flags", flagged, "send_flow_rem actions=output:1"},
		{"delete strict", del, "DEL_STRICT priority=100,tcp,tp_dst=25"},
		{"delete by cookie", delCookie, "DEL cookie=0x5344000000000000/0xffff000000000000, table=255, out_port=3"},
		{"modify", mod, "MOD udp6,tp_dst=53 actions=NORMAL,goto_table:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fm.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMatchString(t *testing.T) {
	tests := []struct {
		name   string
		fields []OXM
		want   string
	}{
		{"empty", nil, ""},
		{"tcp", []OXM{EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25)}, "tcp,tp_dst=25"},
		{"udp source", []OXM{EthType(EthTypeIPv4), IPProto(IPProtoUDP), UDPSrc(53)}, "udp,tp_src=53"},
		{"ip other proto", []OXM{EthType(EthTypeIPv4), IPProto(47)}, "ip,nw_proto=47"},
		{"ipv6 other proto", []OXM{EthType(EthTypeIPv6), IPProto(50)}, "ipv6,nw_proto=50"},
		{"icmp", []OXM{EthType(EthTypeIPv4), IPProto(IPProtoICMP), ICMPv4Type(8)}, "icmp,icmp_type=8"},
		{"icmp6", []OXM{EthType(EthTypeIPv6), IPProto(IPProtoICMPv6), ICMPv6Type(128)}, "icmp6,icmp_type=128"},
		{"tcp6", []OXM{EthType(EthTypeIPv6), IPProto(IPProtoTCP), TCPSrc(22)}, "tcp6,tp_src=22"},
		{"sctp", []OXM{EthType(EthTypeIPv4), IPProto(IPProtoSCTP)}, "sctp"},
		{"arp", []OXM{EthType(EthTypeARP), ARPOp(2)}, "arp,arp_op=2"},
		{"mplsm", []OXM{EthType(EthTypeMPLSMC)}, "mplsm"},
		{"lldp dl_type", []OXM{EthType(EthTypeLLDP)}, "dl_type=0x88cc"},
		{"in_port reserved", []OXM{InPort(PortLocal)}, "in_port=LOCAL"},
		{"vlan", []OXM{VLANVID(100), VLANPCP(5)}, "dl_vlan=100,dl_vlan_pcp=5"},
		{"no vlan", []OXM{NoVLAN()}, "vlan_tci=0x0000/0x1fff"},
		{"any vlan", []OXM{AnyVLAN()}, "vlan_tci=0x1000/0x1000"},
		{"ip prefix and mask", []OXM{EthType(EthTypeIPv4), IPv4SrcPrefix(netip.MustParsePrefix("10.1.0.0/16")), IPv4Dst(netip.MustParseAddr("10.0.0.9"))}, "ip,nw_src=10.1.0.0/16,nw_dst=10.0.0.9"},
		{"full prefix is exact", []OXM{EthType(EthTypeIPv4), IPv4SrcPrefix(netip.MustParsePrefix("10.1.2.3/32"))}, "ip,nw_src=10.1.2.3"},
		{"dscp as nw_tos", []OXM{EthType(EthTypeIPv4), IPDSCP(46)}, "ip,nw_tos=184"},
		{"metadata masked", []OXM{MetadataMasked(0x12, 0xff)}, "metadata=0x12/0xff"},
		{"tunnel", []OXM{TunnelID(0x64)}, "tun_id=0x64"},
		{"flow label", []OXM{EthType(EthTypeIPv6), IPv6FLabel(0x12345)}, "ipv6,ipv6_label=0x12345"},
		{"ipv6 prefix", []OXM{EthType(EthTypeIPv6), IPv6DstPrefix(netip.MustParsePrefix("2001:db8::/32"))}, "ipv6,ipv6_dst=2001:db8::/32"},
		{"mac", []OXM{EthSrc(mac("00:11:22:33:44:55"))}, "dl_src=00:11:22:33:44:55"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMatch(t, tt.fields...)
			if got := m.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		a    Action
		want string
	}{
		{Output(3), "output:3"},
		{Output(PortNormal), "NORMAL"},
		{Output(PortFlood), "FLOOD"},
		{Output(PortAll), "ALL"},
		{Output(PortInPort), "IN_PORT"},
		{Output(PortLocal), "LOCAL"},
		{Output(PortTable), "TABLE"},
		{Output(PortController), "CONTROLLER:65535"},
		{ActionOutput{Port: PortController, MaxLen: 128}, "CONTROLLER:128"},
		{CopyTTLOut(), "copy_ttl_out"},
		{CopyTTLIn(), "copy_ttl_in"},
		{SetMPLSTTL(3), "set_mpls_ttl(3)"},
		{DecMPLSTTL(), "dec_mpls_ttl"},
		{PushVLAN(EthTypeVLAN), "push_vlan:0x8100"},
		{PopVLAN(), "pop_vlan"},
		{PushMPLS(EthTypeMPLS), "push_mpls:0x8847"},
		{PopMPLS(EthTypeIPv4), "pop_mpls:0x0800"},
		{SetQueue(2), "set_queue:2"},
		{Group(7), "group:7"},
		{SetNWTTL(64), "mod_nw_ttl:64"},
		{DecNWTTL(), "dec_ttl"},
		{SetField(VLANVID(100)), "set_field:4196->vlan_vid"},
		{SetField(IPv4Dst(netip.MustParseAddr("10.0.0.1"))), "set_field:10.0.0.1->ip_dst"},
		{SetField(TCPDst(8080)), "set_field:8080->tcp_dst"},
		{SetField(EthSrc(mac("00:11:22:33:44:55"))), "set_field:00:11:22:33:44:55->eth_src"},
		{SetField(TunnelID(9)), "set_field:0x9->tun_id"},
		{PushPBB(EthTypePBB), "push_pbb:0x88e7"},
		{PopPBB(), "pop_pbb"},
		{ActionExperimenter{Experimenter: 0x2320, Data: []byte{1, 2}}, "experimenter(0x00002320,0x0102)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.a.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInstructionsString(t *testing.T) {
	tests := []struct {
		name  string
		insts []Instruction
		want  string
	}{
		{"none", nil, "drop"},
		{"empty apply", []Instruction{ApplyActions()}, "drop"},
		{"apply", []Instruction{ApplyActions(Output(PortNormal), Output(3))}, "NORMAL,output:3"},
		{"all kinds", []Instruction{Meter(2), ApplyActions(Output(1)), ClearActions(), WriteActions(Group(1)), WriteMetadata(1, 0xff), GotoTable(4)},
			"meter:2,output:1,clear_actions,write_actions(group:1),write_metadata:0x1/0xff,goto_table:4"},
		{"metadata full mask", []Instruction{WriteMetadata(0x10, ^uint64(0))}, "write_metadata:0x10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InstructionsString(tt.insts); got != tt.want {
				t.Errorf("InstructionsString() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGroupModString(t *testing.T) {
	tests := []struct {
		name string
		gm   *GroupMod
		want string
	}{
		{"select", &GroupMod{GroupType: GroupTypeSelect, GroupID: 1, Buckets: []Bucket{NewBucket(70, Output(3)), NewBucket(30, Output(4))}},
			"group_id=1,type=select,bucket=weight:70,actions=output:3,bucket=weight:30,actions=output:4"},
		{"fast failover", &GroupMod{GroupType: GroupTypeFastFailover, GroupID: 2, Buckets: []Bucket{NewFailoverBucket(3, Output(3))}},
			"group_id=2,type=ff,bucket=watch_port:3,actions=output:3"},
		{"modify", &GroupMod{Command: GroupModify, GroupType: GroupTypeAll, GroupID: 3, Buckets: []Bucket{NewBucket(0, Output(1))}},
			"MOD group_id=3,type=all,bucket=actions=output:1"},
		{"delete all", &GroupMod{Command: GroupDelete, GroupID: GroupAll}, "DEL group_id=ALL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.gm.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOtherStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"meter mod", (&MeterMod{Flags: MeterFlagKbps | MeterFlagBurst, MeterID: 1, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000, BurstSize: 100}}}).String(),
			"meter=1 kbps burst bands=type=drop rate=1000 burst_size=100"},
		{"packet out", NewPacketOut(make([]byte, 60), Output(2)).String(), "in_port=CONTROLLER actions=output:2 data_len=60"},
		{"packet in", (&PacketIn{BufferID: NoBuffer, TotalLen: 42, Match: mustMatch(t, InPort(1)), Data: make([]byte, 42)}).String(),
			"table_id=0 cookie=0x0 total_len=42 in_port=1 (via no_match) data_len=42"},
		{"flow stats", FlowStats{Cookie: 0x19, DurationSec: 3, Priority: 100, PacketCount: 1, ByteCount: 60,
			Match: mustMatch(t, EthType(EthTypeIPv4)), Instructions: []Instruction{ApplyActions(Output(PortNormal))}}.String(),
			"cookie=0x19, duration=3s, table=0, n_packets=1, n_bytes=60, priority=100,ip actions=NORMAL"},
		{"port", samplePort(1, "eth1").String(), "1(eth1): addr:02:00:00:00:00:01 config:NO_PACKET_IN state:LIVE speed:1000000/10000000 kbps"},
		{"msg type", TypeMultipartReply.String(), "OFPT_MULTIPART_REPLY"},
		{"unknown msg type", MsgType(99).String(), "OFPT_99"},
		{"multipart type", MultipartPortDesc.String(), "OFPMP_PORT_DESC"},
		{"capabilities", (CapFlowStats | CapPortBlocked).String(), "FLOW_STATS|PORT_BLOCKED"},
		{"port features", (PortFeature10GbFD | PortFeatureFiber | 1<<20).String(), "10GB_FD|FIBER|0x100000"},
		{"no flags", PortConfig(0).String(), "0"},
		{"role", RoleMaster.String(), "master"},
		{"config", ConfigFlags(FragReasm).String(), "frags=reassemble"},
		{"unknown oxm", OXM{Class: OXMClassExperimenter, Field: 3, Value: []byte{0, 0, 0x23, 0x20, 1}}.String(), "oxm(class=0xffff,field=3,value=0x0000232001)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
