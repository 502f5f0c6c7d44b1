package openflow

import (
	"net"
	"net/netip"
	"testing"
)

// sample is one message used by the round-trip tests and by the
// ovs-ofctl referee (ofpprint_integration_test.go), which checks that
// Open vSwitch decodes the bytes and prints each of ovs.
type sample struct {
	name string
	msg  Message
	ovs  []string
	// ovsRejects, when set, is the error ovs-ofctl must report: Open
	// vSwitch implements neither copy_ttl_in/out nor PBB, in_phy_port or
	// ipv6_exthdr, so for those the referee checks that it parses up to
	// the feature and names it as unsupported.
	ovsRejects string
}

func mac(s string) net.HardwareAddr {
	a, err := net.ParseMAC(s)
	if err != nil {
		panic(err) // test fixture typo
	}
	return a
}

func mustMatch(t testing.TB, fields ...OXM) Match {
	t.Helper()
	m, err := NewMatch(fields...)
	if err != nil {
		t.Fatalf("NewMatch: %v", err)
	}
	return m
}

func samplePort(no uint32, name string) Port {
	return Port{PortNo: no, HWAddr: mac("02:00:00:00:00:01"), Name: name, Config: PortConfigNoPacketIn,
		State: PortStateLive, Curr: PortFeature1GbFD | PortFeatureCopper, Advertised: PortFeature1GbFD,
		Supported: PortFeature1GbFD | PortFeature10GbFD, Peer: 0, CurrSpeed: 1000000, MaxSpeed: 10000000}
}

// mirrorFlow is the flow sdnli's controller installs for one protocol:
// forward normally and copy, tagged with the mirror VLAN, to the IRS port.
func mirrorFlow(t testing.TB) *FlowMod {
	fm := NewFlowMod(FlowAdd)
	fm.Cookie = 0x5344000000000019
	fm.Priority = 100
	fm.Match = mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25))
	fm.Instructions = []Instruction{ApplyActions(Output(PortNormal), PushVLAN(EthTypeVLAN), SetField(VLANVID(100)), Output(3))}
	return fm
}

func allSamples(t testing.TB) []sample {
	ipv4 := netip.MustParseAddr("10.0.0.1")
	ipv6 := netip.MustParseAddr("2001:db8::1")
	everyMatch := NewFlowMod(FlowAdd)
	everyMatch.Match = mustMatch(t,
		InPort(1), Metadata(0x3), EthSrc(mac("00:11:22:33:44:55")), EthDstMasked(mac("01:00:00:00:00:00"), mac("01:00:00:00:00:00")),
		EthType(EthTypeIPv4), VLANVID(100), VLANPCP(3), IPDSCP(5), IPECN(1), IPProto(IPProtoUDP),
		IPv4SrcPrefix(netip.MustParsePrefix("10.0.0.0/8")), IPv4Dst(ipv4), UDPSrc(53), UDPDst(5353), TunnelIDMasked(5, 0xff))
	everyMatch.Instructions = []Instruction{ApplyActions(Output(1))}

	ipv6Flow := NewFlowMod(FlowAdd)
	ipv6Flow.Priority = 7
	ipv6Flow.Match = mustMatch(t, EthType(EthTypeIPv6), IPProto(IPProtoICMPv6), ICMPv6Type(135), ICMPv6Code(0),
		IPv6SrcPrefix(netip.MustParsePrefix("fe80::/10")), IPv6Dst(ipv6), IPv6FLabelMasked(5, 0xff),
		IPv6NDTarget(ipv6), IPv6NDSLL(mac("00:00:00:00:00:01")))
	ipv6Flow.Instructions = []Instruction{ApplyActions(SetField(IPv6Src(ipv6)), Output(2))}

	arpFlow := NewFlowMod(FlowAdd)
	arpFlow.Match = mustMatch(t, EthType(EthTypeARP), ARPOp(1), ARPSPA(ipv4), ARPTPAPrefix(netip.MustParsePrefix("10.0.0.0/24")),
		ARPSHA(mac("00:11:22:33:44:55")), ARPTHAMasked(mac("00:00:00:00:00:00"), mac("ff:00:00:00:00:00")))
	arpFlow.Instructions = []Instruction{ApplyActions(SetField(ARPSPA(ipv4)), SetField(ARPTHA(mac("00:11:22:33:44:66"))), Output(PortFlood))}

	mplsFlow := NewFlowMod(FlowAdd)
	mplsFlow.Match = mustMatch(t, EthType(EthTypeMPLS), MPLSLabel(5), MPLSTC(3), MPLSBOS(1))
	mplsFlow.Instructions = []Instruction{ApplyActions(SetMPLSTTL(5), DecMPLSTTL(), SetField(MPLSLabel(9)), PopMPLS(EthTypeIPv4))}

	sctpFlow := NewFlowMod(FlowAdd)
	sctpFlow.Match = mustMatch(t, EthType(EthTypeIPv6), IPProto(IPProtoSCTP), SCTPSrc(5), SCTPDst(6))
	sctpFlow.Instructions = []Instruction{ApplyActions(SetField(SCTPDst(7)), SetQueue(3), Output(PortController))}

	icmpFlow := NewFlowMod(FlowAdd)
	icmpFlow.Match = mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoICMP), ICMPv4Type(8), ICMPv4Code(0))
	icmpFlow.Instructions = []Instruction{ApplyActions(SetNWTTL(9), DecNWTTL(), Group(4), Output(PortInPort), Output(PortLocal), Output(PortAll), Output(PortTable), PushMPLS(EthTypeMPLS))}

	copyTTL := NewFlowMod(FlowAdd)
	copyTTL.Match = mustMatch(t, EthType(EthTypeMPLS))
	copyTTL.Instructions = []Instruction{ApplyActions(Output(1), CopyTTLOut(), CopyTTLIn())}

	pbb := NewFlowMod(FlowAdd)
	pbb.Instructions = []Instruction{ApplyActions(Output(1), PushPBB(EthTypePBB), PopPBB())}

	pbbMatch := NewFlowMod(FlowAdd)
	pbbMatch.Match = mustMatch(t, EthType(EthTypePBB), PBBISIDMasked(0x10000, 0xff0000))

	phyPort := NewFlowMod(FlowAdd)
	phyPort.Match = mustMatch(t, InPort(1), InPhyPort(1))

	extHdr := NewFlowMod(FlowAdd)
	extHdr.Match = mustMatch(t, EthType(EthTypeIPv6), IPv6ExtHdrMasked(0x100, 0x100))

	allInst := NewFlowMod(FlowAdd)
	allInst.TableID = 1
	allInst.Cookie = 0xabc
	allInst.IdleTimeout, allInst.HardTimeout = 30, 300
	allInst.Flags = FlowFlagSendFlowRem | FlowFlagCheckOverlap
	allInst.Priority = 200
	allInst.Match = mustMatch(t, InPort(2), VLANVID(10), EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPSrc(1024))
	allInst.Instructions = []Instruction{Meter(1), ApplyActions(PopVLAN(), SetField(EthDst(mac("00:11:22:33:44:55")))),
		ClearActions(), WriteActions(Output(5), Group(2)), WriteMetadata(0x5, 0xff), GotoTable(3)}

	del := NewFlowMod(FlowDeleteStrict)
	del.Priority = 100
	del.Cookie, del.CookieMask = 0x5344000000000019, ^uint64(0)
	del.Match = mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25))

	delAll := NewFlowMod(FlowDelete)
	delAll.TableID = TableAll
	delAll.OutPort = 3

	modify := NewFlowMod(FlowModify)
	modify.Match = mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25))
	modify.Instructions = []Instruction{ApplyActions(Output(PortNormal))}

	packetIn := &PacketIn{BufferID: NoBuffer, TotalLen: 60, Reason: PacketInNoMatch, TableID: 0, Cookie: 0,
		Match: mustMatch(t, InPort(7)), Data: lldpFrame()}
	flowRemoved := &FlowRemoved{Cookie: 0x19, Priority: 100, Reason: FlowRemovedIdleTimeout, TableID: 0, DurationSec: 12,
		DurationNsec: 5000, IdleTimeout: 10, PacketCount: 3, ByteCount: 180,
		Match: mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25))}

	flowStats := &FlowStatsReply{Flows: []FlowStats{
		{TableID: 0, DurationSec: 3, DurationNsec: 200000000, Priority: 100, Cookie: 0x19, PacketCount: 10, ByteCount: 1000,
			Match:        mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25)),
			Instructions: []Instruction{ApplyActions(Output(PortNormal), Output(3))}},
		{TableID: 0, Priority: 0, Instructions: []Instruction{ApplyActions(Output(PortController))}},
	}}

	return []sample{
		{"hello", NewHello(Version), []string{"OFPT_HELLO (OF1.3)", "version bitmap: 0x04"}, ""},
		{"hello several versions", NewHello(1, 4, 6), []string{"OFPT_HELLO", "version bitmap: 0x01, 0x04, 0x06"}, ""},
		{"error bad type", NewError(BadRequestBadType, mustBytes(t, 9, &FeaturesRequest{})), []string{"OFPT_ERROR (OF1.3)", "OFPBRC_BAD_TYPE", "OFPT_FEATURES_REQUEST"}, ""},
		{"error hello failed", NewError(HelloFailedIncompatible, []byte("no common version")), []string{"OFPHFC_INCOMPATIBLE", "no common version"}, ""},
		{"error flow mod table full", NewError(FlowModFailedTableFull, mustBytes(t, 5, mirrorFlow(t))[:64]), []string{"OFPFMFC_TABLE_FULL", "OFPT_FLOW_MOD"}, ""},
		{"error group exists", NewError(GroupModFailedGroupExists, nil), []string{"OFPGMFC_GROUP_EXISTS"}, ""},
		{"error experimenter", &Error{Code: MakeErrorCode(ErrTypeExperimenter, 7), Experimenter: 0x2320, Data: []byte("x")}, []string{"OFPT_ERROR"}, ""},
		{"echo request", &EchoRequest{Data: []byte("ping")}, []string{"OFPT_ECHO_REQUEST (OF1.3)", "4 bytes of payload"}, ""},
		{"echo reply", &EchoReply{Data: []byte("pong")}, []string{"OFPT_ECHO_REPLY (OF1.3)"}, ""},
		{"echo empty", &EchoRequest{}, []string{"OFPT_ECHO_REQUEST"}, ""},
		{"experimenter", &Experimenter{Experimenter: 0x2320, ExpType: 16, Data: []byte{0, 0, 0, 1}}, []string{"NXT_SET_PACKET_IN_FORMAT (OF1.3)", "format=nxt_packet_in"}, ""},
		{"features request", &FeaturesRequest{}, []string{"OFPT_FEATURES_REQUEST (OF1.3)"}, ""},
		{"features reply", &FeaturesReply{DatapathID: 0x0000aabbccddeeff, NBuffers: 256, NTables: 254, AuxiliaryID: 0,
			Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats | CapQueueStats},
			[]string{"OFPT_FEATURES_REPLY (OF1.3)", "dpid:0000aabbccddeeff", "n_tables:254, n_buffers:256", "FLOW_STATS", "GROUP_STATS"}, ""},
		{"get config request", &GetConfigRequest{}, []string{"OFPT_GET_CONFIG_REQUEST (OF1.3)"}, ""},
		{"get config reply", &GetConfigReply{SwitchConfig{Flags: FragNormal, MissSendLen: 128}}, []string{"OFPT_GET_CONFIG_REPLY (OF1.3)", "frags=normal miss_send_len=128"}, ""},
		{"set config", &SetConfig{SwitchConfig{Flags: FragDrop, MissSendLen: 0xffff}}, []string{"OFPT_SET_CONFIG (OF1.3)", "frags=drop", "miss_send_len=65535"}, ""},
		{"packet in", packetIn, []string{"OFPT_PACKET_IN (OF1.3)", "total_len=60", "in_port=7", "(via no_match)", "data_len=60"}, ""},
		{"flow removed", flowRemoved, []string{"OFPT_FLOW_REMOVED (OF1.3)", "priority=100,tcp,tp_dst=25", "reason=idle", "cookie:0x19", "pkts3", "bytes180"}, ""},
		{"port status", &PortStatus{Reason: PortReasonAdd, Port: samplePort(3, "irs0")}, []string{"OFPT_PORT_STATUS (OF1.3)", "ADD", "3(irs0): addr:02:00:00:00:00:01", "NO_PACKET_IN", "LIVE"}, ""},
		{"packet out", NewPacketOut(lldpFrame(), Output(2)), []string{"OFPT_PACKET_OUT (OF1.3)", "in_port=CONTROLLER", "actions=output:2", "data_len=60"}, ""},
		{"flow mod mirror", mirrorFlow(t), []string{"OFPT_FLOW_MOD (OF1.3)", "ADD", "priority=100,tcp,tp_dst=25", "cookie:0x5344000000000019",
			"actions=NORMAL,push_vlan:0x8100,set_field:4196->vlan_vid,output:3"}, ""},
		{"flow mod every ipv4 field", everyMatch, []string{"tun_id=0x5/0xff,metadata=0x3,in_port=1,dl_vlan=100,dl_vlan_pcp=3,dl_src=00:11:22:33:44:55,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_src=10.0.0.0/8,nw_dst=10.0.0.1,nw_tos=20,nw_ecn=1,tp_src=53,tp_dst=5353", "udp"}, ""},
		{"flow mod ipv6", ipv6Flow, []string{"priority=7,icmp6,ipv6_src=fe80::/10,ipv6_dst=2001:db8::1", "icmp_type=135,icmp_code=0,nd_target=2001:db8::1,nd_sll=00:00:00:00:00:01", "actions=set_field:2001:db8::1->ipv6_src,output:2"}, ""},
		{"flow mod arp", arpFlow, []string{"arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=1,arp_sha=00:11:22:33:44:55,arp_tha=00:00:00:00:00:00/ff:00:00:00:00:00", "actions=set_field:10.0.0.1->arp_spa,set_field:00:11:22:33:44:66->arp_tha,FLOOD"}, ""},
		{"flow mod mpls", mplsFlow, []string{"mpls,mpls_label=5,mpls_tc=3,mpls_bos=1", "actions=set_mpls_ttl(5),dec_mpls_ttl,set_field:9->mpls_label,pop_mpls:0x0800"}, ""},
		{"flow mod copy ttl", copyTTL, []string{"OFPBAC_BAD_TYPE", "vendor 0 and type 11", "bad action at offset 16"}, "OFPBAC_BAD_TYPE"},
		{"flow mod pbb actions", pbb, []string{"vendor 0 and type 26", "bad action at offset 16"}, "OFPBAC_BAD_TYPE"},
		{"flow mod pbb_isid", pbbMatch, nil, "OFPBMC_BAD_FIELD"},
		{"flow mod in_phy_port", phyPort, nil, "OFPBMC_BAD_FIELD"},
		{"flow mod ipv6_exthdr", extHdr, nil, "OFPBMC_BAD_FIELD"},
		{"flow mod sctp6", sctpFlow, []string{"sctp6,tp_src=5,tp_dst=6", "actions=set_field:7->sctp_dst,set_queue:3,CONTROLLER:65535"}, ""},
		{"flow mod icmp", icmpFlow, []string{"icmp,icmp_type=8,icmp_code=0", "push_mpls:0x8847", "actions=mod_nw_ttl:9,dec_ttl,group:4,IN_PORT,LOCAL,ALL,TABLE,push_mpls:0x8847"}, ""},
		{"flow mod every instruction", allInst, []string{"table:1", "cookie:0xabc", "idle:30 hard:300", "send_flow_rem check_overlap", "priority=200,tcp,in_port=2,dl_vlan=10,tp_src=1024",
			"actions=meter:1,pop_vlan,set_field:00:11:22:33:44:55->eth_dst,clear_actions,write_actions(output:5,group:2),write_metadata:0x5/0xff,goto_table:3"}, ""},
		{"flow mod delete strict", del, []string{"DEL_STRICT", "priority=100,tcp,tp_dst=25", "cookie:0x5344000000000019/0xffffffffffffffff"}, ""},
		{"flow mod delete all", delAll, []string{"DEL", "table:255", "out_port:3"}, ""},
		{"flow mod modify", modify, []string{"MOD", "tcp,tp_dst=25", "actions=NORMAL"}, ""},
		{"group mod select", &GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 1, Buckets: []Bucket{
			NewBucket(70, Output(3)), NewBucket(30, Output(4))}},
			[]string{"OFPT_GROUP_MOD (OF1.3)", "ADD group_id=1,type=select", "ADD group_id=1,type=select,bucket=weight:70,actions=output:3,bucket=weight:30,actions=output:4"}, ""},
		{"group mod fast failover", &GroupMod{Command: GroupAdd, GroupType: GroupTypeFastFailover, GroupID: 2, Buckets: []Bucket{
			NewFailoverBucket(3, Output(3)), NewFailoverBucket(4, Output(4))}},
			[]string{"group_id=2,type=ff", "watch_port:3,actions=output:3", "watch_port:4,actions=output:4"}, ""},
		{"group mod all", &GroupMod{Command: GroupModify, GroupType: GroupTypeAll, GroupID: 3, Buckets: []Bucket{
			NewBucket(0, Output(1)), NewBucket(0, PushVLAN(EthTypeVLAN), SetField(VLANVID(100)), Output(2))}},
			[]string{"MOD group_id=3,type=all", "actions=output:1", "actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2"}, ""},
		{"group mod indirect", &GroupMod{Command: GroupAdd, GroupType: GroupTypeIndirect, GroupID: 4, Buckets: []Bucket{
			{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{Output(9)}}}},
			[]string{"group_id=4,type=indirect", "actions=output:9"}, ""},
		{"group mod delete", &GroupMod{Command: GroupDelete, GroupID: GroupAll}, []string{"DEL group_id=4294967292"}, ""},
		{"port mod", &PortMod{PortNo: 3, HWAddr: mac("02:00:00:00:00:03"), Config: PortConfigNoFwd, Mask: PortConfigNoFwd | PortConfigDown},
			[]string{"OFPT_PORT_MOD (OF1.3)", "port: 3", "addr:02:00:00:00:00:03", "config: NO_FWD", "PORT_DOWN NO_FWD"}, ""},
		{"table mod", &TableMod{TableID: 1, Config: 0}, []string{"OFPT_TABLE_MOD (OF1.3)", "table_id=1"}, ""},
		{"meter mod", &MeterMod{Command: MeterAdd, Flags: MeterFlagKbps | MeterFlagBurst | MeterFlagStats, MeterID: 1, Bands: []MeterBand{
			{Type: MeterBandDrop, Rate: 10000, BurstSize: 1000}, {Type: MeterBandDSCPRemark, Rate: 5000, BurstSize: 500, PrecLevel: 1}}},
			[]string{"OFPT_METER_MOD (OF1.3)", "ADD meter=1 kbps burst stats bands=", "type=drop rate=10000 burst_size=1000", "type=dscp_remark rate=5000 burst_size=500 prec_level=1"}, ""},
		{"meter mod delete", &MeterMod{Command: MeterDelete, MeterID: 1}, []string{"DEL meter=1"}, ""},
		{"barrier request", &BarrierRequest{}, []string{"OFPT_BARRIER_REQUEST (OF1.3)"}, ""},
		{"barrier reply", &BarrierReply{}, []string{"OFPT_BARRIER_REPLY (OF1.3)"}, ""},
		{"queue get config request", &QueueGetConfigRequest{Port: 1}, []string{"OFPT_QUEUE_GET_CONFIG_REQUEST (OF1.3)", "port=1"}, ""},
		{"queue get config reply", &QueueGetConfigReply{Port: 1, Queues: []PacketQueue{{QueueID: 5, Port: 1, Properties: []QueueProperty{
			{Type: QueuePropMinRate, Rate: 100}, {Type: QueuePropMaxRate, Rate: 500}}}}},
			[]string{"OFPT_QUEUE_GET_CONFIG_REPLY (OF1.3)", "queue 5", "min_rate:10.0%", "max_rate:50.0%"}, ""},
		{"role request", &RoleRequest{Role{Role: RoleMaster, GenerationID: 7}}, []string{"OFPT_ROLE_REQUEST (OF1.3)", "role=primary generation_id=7"}, ""},
		{"role reply", &RoleReply{Role{Role: RoleSlave, GenerationID: 7}}, []string{"OFPT_ROLE_REPLY (OF1.3)", "role=secondary generation_id=7"}, ""},
		{"get async request", &GetAsyncRequest{}, []string{"OFPT_GET_ASYNC_REQUEST (OF1.3)"}, ""},
		{"get async reply", &GetAsyncReply{AsyncConfig{PacketInMask: [2]uint32{7, 0}, PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{15, 0}}},
			[]string{"OFPT_GET_ASYNC_REPLY (OF1.3)", "PACKET_IN:", "no_match action invalid_ttl", "PORT_STATUS:", "add delete modify", "FLOW_REMOVED:", "idle hard delete group_delete"}, ""},
		{"set async", &SetAsync{AsyncConfig{PacketInMask: [2]uint32{1, 0}, PortStatusMask: [2]uint32{7, 0}, FlowRemovedMask: [2]uint32{0, 0}}},
			[]string{"OFPT_SET_ASYNC (OF1.3)", "PACKET_IN:"}, ""},

		{"multipart desc request", &MultipartRequest{Body: &DescRequest{}}, []string{"OFPST_DESC request (OF1.3)"}, ""},
		{"multipart flow request", &MultipartRequest{Body: NewFlowStatsRequest()}, []string{"OFPST_FLOW request (OF1.3)"}, ""},
		{"multipart flow request filtered", &MultipartRequest{Body: &FlowStatsRequest{TableID: 0, OutPort: 3, OutGroup: GroupAny, Cookie: 0x19, CookieMask: 0xff,
			Match: mustMatch(t, EthType(EthTypeIPv4), IPProto(IPProtoTCP))}}, []string{"OFPST_FLOW request", "table=0", "out_port=3", "tcp"}, ""},
		{"multipart aggregate request", &MultipartRequest{Body: &AggregateStatsRequest{TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny}}, []string{"OFPST_AGGREGATE request (OF1.3)"}, ""},
		{"multipart table request", &MultipartRequest{Body: &TableStatsRequest{}}, []string{"OFPST_TABLE request (OF1.3)"}, ""},
		{"multipart port stats request", &MultipartRequest{Body: &PortStatsRequest{PortNo: PortAny}}, []string{"OFPST_PORT request (OF1.3)", "port_no=ANY"}, ""},
		{"multipart queue request", &MultipartRequest{Body: &QueueStatsRequest{PortNo: PortAny, QueueID: QueueAll}}, []string{"OFPST_QUEUE request (OF1.3)", "port=ANY queue=ALL"}, ""},
		{"multipart group request", &MultipartRequest{Body: &GroupStatsRequest{GroupID: GroupAll}}, []string{"OFPST_GROUP request (OF1.3)", "group_id=ALL"}, ""},
		{"multipart group desc request", &MultipartRequest{Body: &GroupDescRequest{}}, []string{"OFPST_GROUP_DESC request (OF1.3)"}, ""},
		{"multipart group features request", &MultipartRequest{Body: &GroupFeaturesRequest{}}, []string{"OFPST_GROUP_FEATURES request (OF1.3)"}, ""},
		{"multipart meter request", &MultipartRequest{Body: &MeterStatsRequest{MeterID: MeterAll}}, []string{"OFPST_METER request (OF1.3)", "meter=all"}, ""},
		{"multipart meter config request", &MultipartRequest{Body: &MeterConfigRequest{MeterID: 1}}, []string{"OFPST_METER_CONFIG request (OF1.3)", "meter=1"}, ""},
		{"multipart meter features request", &MultipartRequest{Body: &MeterFeaturesRequest{}}, []string{"OFPST_METER_FEATURES request (OF1.3)"}, ""},
		{"multipart table features request", &MultipartRequest{Body: &TableFeaturesRequest{}}, []string{"OFPST_TABLE_FEATURES request (OF1.3)"}, ""},
		{"multipart port desc request", &MultipartRequest{Body: &PortDescRequest{}}, []string{"OFPST_PORT_DESC request (OF1.3)"}, ""},

		{"multipart desc reply", &MultipartReply{Body: &DescReply{Manufacturer: "sdnli", Hardware: "test hw", Software: "3.1.0", SerialNumber: "42", Datapath: "br0"}},
			[]string{"OFPST_DESC reply (OF1.3)", "Manufacturer: sdnli", "Hardware: test hw", "Software: 3.1.0", "Serial Num: 42", "DP Description: br0"}, ""},
		{"multipart flow reply", &MultipartReply{Body: flowStats},
			[]string{"OFPST_FLOW reply (OF1.3)", "cookie=0x19, duration=3.200s, table=0, n_packets=10, n_bytes=1000, priority=100,tcp,tp_dst=25 actions=NORMAL,output:3",
				"cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, priority=0 actions=CONTROLLER:65535"}, ""},
		{"multipart flow reply more", &MultipartReply{Flags: MultipartMore, Body: &FlowStatsReply{Flows: flowStats.Flows[:1]}}, []string{"OFPST_FLOW reply (OF1.3)", "flags=[more]"}, ""},
		{"multipart aggregate reply", &MultipartReply{Body: &AggregateStatsReply{PacketCount: 10, ByteCount: 1000, FlowCount: 2}},
			[]string{"OFPST_AGGREGATE reply (OF1.3)", "packet_count=10 byte_count=1000 flow_count=2"}, ""},
		{"multipart table reply", &MultipartReply{Body: &TableStatsReply{Tables: []TableStats{{TableID: 0, ActiveCount: 2, LookupCount: 100, MatchedCount: 90}}}},
			[]string{"OFPST_TABLE reply (OF1.3)", "active=2, lookup=100, matched=90"}, ""},
		{"multipart port stats reply", &MultipartReply{Body: &PortStatsReply{Ports: []PortStats{{PortNo: 1, RxPackets: 5, TxPackets: 6, RxBytes: 500, TxBytes: 600,
			RxDropped: 1, TxDropped: 2, RxErrors: 3, TxErrors: 4, DurationSec: 9}}}},
			[]string{"OFPST_PORT reply (OF1.3)", "port  1: rx pkts=5, bytes=500, drop=1, errs=3", "tx pkts=6, bytes=600, drop=2, errs=4", "duration=9s"}, ""},
		{"multipart queue reply", &MultipartReply{Body: &QueueStatsReply{Queues: []QueueStats{{PortNo: 1, QueueID: 5, TxBytes: 100, TxPackets: 2, TxErrors: 0}}}},
			[]string{"OFPST_QUEUE reply (OF1.3)", "port 1 queue 5: bytes=100, pkts=2, errors=0"}, ""},
		{"multipart group reply", &MultipartReply{Body: &GroupStatsReply{Groups: []GroupStats{{GroupID: 1, RefCount: 2, PacketCount: 10, ByteCount: 1000,
			DurationSec: 1, Buckets: []BucketCounter{{7, 700}, {3, 300}}}}}},
			[]string{"OFPST_GROUP reply (OF1.3)", "group_id=1,duration=1s,ref_count=2,packet_count=10,byte_count=1000,bucket0:packet_count=7,byte_count=700,bucket1:packet_count=3,byte_count=300"}, ""},
		{"multipart group desc reply", &MultipartReply{Body: &GroupDescReply{Groups: []GroupDesc{{GroupType: GroupTypeSelect, GroupID: 1,
			Buckets: []Bucket{NewBucket(70, Output(3)), NewBucket(30, Output(4))}}}}},
			[]string{"OFPST_GROUP_DESC reply (OF1.3)", "group_id=1,type=select", "weight:70,actions=output:3", "weight:30,actions=output:4"}, ""},
		{"multipart group features reply", &MultipartReply{Body: &GroupFeaturesReply{Types: 0xf, Capabilities: GroupCapSelectWeight | GroupCapSelectLiveness,
			MaxGroups: [4]uint32{100, 100, 100, 100}, Actions: [4]uint32{1, 1, 1, 1}}},
			[]string{"OFPST_GROUP_FEATURES reply (OF1.3)", "Types:  0xf", "Capabilities:  0x3", "fast failover group:", "max_groups=0x64"}, ""},
		{"multipart meter reply", &MultipartReply{Body: &MeterStatsReply{Meters: []MeterStats{{MeterID: 1, FlowCount: 2, PacketInCount: 10, ByteInCount: 1000,
			DurationSec: 3, Bands: []MeterBandStats{{5, 500}}}}}},
			[]string{"OFPST_METER reply (OF1.3)", "meter:1 flow_count:2 packet_in_count:10 byte_in_count:1000 duration:3s bands:", "0: packet_count:5 byte_count:500"}, ""},
		{"multipart meter config reply", &MultipartReply{Body: &MeterConfigReply{Meters: []MeterConfig{{Flags: MeterFlagKbps, MeterID: 1,
			Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000}}}}}},
			[]string{"OFPST_METER_CONFIG reply (OF1.3)", "meter=1 kbps bands=", "type=drop rate=1000"}, ""},
		{"multipart meter features reply", &MultipartReply{Body: &MeterFeaturesReply{MaxMeter: 100, BandTypes: 1 << MeterBandDrop, Capabilities: uint32(MeterFlagKbps | MeterFlagPktps), MaxBands: 4, MaxColor: 0}},
			[]string{"OFPST_METER_FEATURES reply (OF1.3)", "max_meter:100", "max_bands:4", "band_types: drop", "capabilities: kbps pktps"}, ""},
		{"multipart port desc reply", &MultipartReply{Body: &PortDescReply{Ports: []Port{samplePort(1, "eth1"), samplePort(PortLocal, "br0")}}},
			[]string{"OFPST_PORT_DESC reply (OF1.3)", "1(eth1): addr:02:00:00:00:00:01", "LOCAL(br0): addr:02:00:00:00:00:01", "speed: 1000 Mbps now, 10000 Mbps max"}, ""},
	}
}

func mustBytes(t testing.TB, xid uint32, m Message) []byte {
	t.Helper()
	b, err := Marshal(xid, m)
	if err != nil {
		t.Fatalf("Marshal %s: %v", m.Type(), err)
	}
	return b
}

// lldpFrame is a 60-byte LLDP frame as a controller sends for discovery:
// chassis id, port id, TTL, end.
func lldpFrame() []byte {
	f := []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0xcc}
	f = append(f, 0x02, 0x07, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01) // chassis: MAC
	f = append(f, 0x04, 0x03, 0x02, 0x00, 0x07)                         // port: "7"
	f = append(f, 0x06, 0x02, 0x00, 0x78)                               // ttl 120
	f = append(f, 0x00, 0x00)                                           // end
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}
