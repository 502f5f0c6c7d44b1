package openflow

// String methods in ovs-ofctl syntax, as `ovs-ofctl dump-flows` prints
// flows: "priority=100,tcp,tp_dst=25 actions=NORMAL,output:3". They are
// meant for logs and tests; the exact spelling follows Open vSwitch 3.x.

import (
	"encoding/hex"
	"fmt"
	"net/netip"

	"strconv"
	"strings"
)

// matchNames are the keywords dump-flows uses for basic fields. Transport
// ports share tp_src/tp_dst and ICMPv4/v6 share icmp_type/icmp_code, as in
// Open vSwitch.
var matchNames = [numBasicFields]string{
	"in_port", "in_phy_port", "metadata", "dl_dst", "dl_src", "dl_type", "dl_vlan", "dl_vlan_pcp",
	"nw_tos", "nw_ecn", "nw_proto", "nw_src", "nw_dst", "tp_src", "tp_dst", "tp_src", "tp_dst",
	"tp_src", "tp_dst", "icmp_type", "icmp_code", "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
	"ipv6_src", "ipv6_dst", "ipv6_label", "icmp_type", "icmp_code", "nd_target", "nd_sll", "nd_tll",
	"mpls_label", "mpls_tc", "mpls_bos", "pbb_isid", "tun_id", "ipv6_exthdr",
}

// setFieldNames are the names Open vSwitch prints in set_field actions.
var setFieldNames = [numBasicFields]string{
	"in_port", "in_phy_port", "metadata", "eth_dst", "eth_src", "eth_type", "vlan_vid", "vlan_pcp",
	"ip_dscp", "nw_ecn", "nw_proto", "ip_src", "ip_dst", "tcp_src", "tcp_dst", "udp_src", "udp_dst",
	"sctp_src", "sctp_dst", "icmp_type", "icmp_code", "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
	"ipv6_src", "ipv6_dst", "ipv6_label", "icmpv6_type", "icmpv6_code", "nd_target", "nd_sll", "nd_tll",
	"mpls_label", "mpls_tc", "mpls_bos", "pbb_isid", "tun_id", "ipv6_exthdr",
}

// matchOrder is the order in which dump-flows prints match fields.
var matchOrder = []OXMField{
	OXMTunnelID, OXMMetadata, OXMInPort, OXMInPhyPort, OXMVLANVID, OXMVLANPCP, OXMEthSrc, OXMEthDst,
	OXMEthType, OXMIPv4Src, OXMIPv4Dst, OXMARPSPA, OXMARPTPA, OXMARPOp, OXMARPSHA, OXMARPTHA,
	OXMIPv6Src, OXMIPv6Dst, OXMIPv6FLabel, OXMIPProto, OXMIPDSCP, OXMIPECN, OXMMPLSLabel, OXMMPLSTC,
	OXMMPLSBOS, OXMTCPSrc, OXMUDPSrc, OXMSCTPSrc, OXMTCPDst, OXMUDPDst, OXMSCTPDst,
	OXMICMPv4Type, OXMICMPv6Type, OXMICMPv4Code, OXMICMPv6Code, OXMIPv6NDTarget, OXMIPv6NDSLL,
	OXMIPv6NDTLL, OXMPBBISID, OXMIPv6ExtHdr,
}

func hexOf(b []byte) string {
	return "0x" + strings.TrimLeft(hex.EncodeToString(b), "0") + zeroIfEmpty(b)
}

func zeroIfEmpty(b []byte) string {
	for _, c := range b {
		if c != 0 {
			return ""
		}
	}
	return "0"
}

func macString(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

// addrString prints an address with its mask as a prefix when it is one.
func addrString(v, mask []byte) string {
	a, ok := netip.AddrFromSlice(v)
	if !ok {
		return hexOf(v)
	}
	if mask == nil {
		return a.String()
	}
	m, _ := netip.AddrFromSlice(mask)
	bits, contiguous := 0, true
	for _, c := range mask {
		for i := 7; i >= 0; i-- {
			if c&(1<<i) != 0 {
				if !contiguous {
					return a.String() + "/" + m.String()
				}
				bits++
			} else {
				contiguous = false
			}
		}
	}
	return a.String() + "/" + strconv.Itoa(bits)
}

// valueString prints a basic field's value the way ovs-ofctl does.
func (o OXM) valueString() string {
	masked := func(f func([]byte) string) string {
		if o.Mask == nil {
			return f(o.Value)
		}
		return f(o.Value) + "/" + f(o.Mask)
	}
	switch o.Field {
	case OXMInPort, OXMInPhyPort:
		return PortName(uint32(o.Uint()))
	case OXMMetadata, OXMTunnelID, OXMPBBISID, OXMIPv6ExtHdr, OXMIPv6FLabel:
		return masked(hexOf)
	case OXMEthDst, OXMEthSrc, OXMARPSHA, OXMARPTHA, OXMIPv6NDSLL, OXMIPv6NDTLL:
		return masked(macString)
	case OXMEthType:
		return fmt.Sprintf("0x%04x", o.Uint())
	case OXMIPv4Src, OXMIPv4Dst, OXMARPSPA, OXMARPTPA, OXMIPv6Src, OXMIPv6Dst, OXMIPv6NDTarget:
		return addrString(o.Value, o.Mask)
	}
	if o.Mask != nil {
		return masked(hexOf)
	}
	return strconv.FormatUint(o.Uint(), 10)
}

// String prints the field as a match item, e.g. "tp_dst=25" or
// "nw_src=10.0.0.0/8".
func (o OXM) String() string {
	if !o.IsBasic() || int(o.Field) >= numBasicFields || o.check() != nil {
		s := fmt.Sprintf("oxm(class=0x%04x,field=%d,value=0x%x", uint16(o.Class), o.Field, o.Value)
		if o.Mask != nil {
			s += fmt.Sprintf(",mask=0x%x", o.Mask)
		}
		return s + ")"
	}
	switch o.Field {
	case OXMVLANVID:
		v := uint16(o.Uint())
		if o.Mask == nil && v&VLANPresent != 0 {
			return "dl_vlan=" + strconv.Itoa(int(v&0xfff))
		}
		return fmt.Sprintf("vlan_tci=0x%04x/0x%04x", v, uint16(o.MaskUint())&maxVLANVIDBits)
	case OXMIPDSCP:
		return "nw_tos=" + strconv.Itoa(int(o.Uint())<<2)
	case OXMIPv6FLabel:
		if o.Mask != nil {
			return fmt.Sprintf("ipv6_label=0x%05x/0x%05x", o.Uint(), o.MaskUint())
		}
		return fmt.Sprintf("ipv6_label=0x%05x", o.Uint())
	}
	return matchNames[o.Field] + "=" + o.valueString()
}

// shorthand returns the ovs-ofctl protocol keyword a match implies (tcp,
// udp6, arp, ...) and whether it absorbs eth_type and ip_proto.
func (m Match) shorthand() (string, bool, bool) {
	et, ok := m.exact(OXMEthType)
	if !ok {
		return "", false, false
	}
	proto, hasProto := m.exact(OXMIPProto)
	switch uint16(et) {
	case EthTypeIPv4, EthTypeIPv6:
		v6 := uint16(et) == EthTypeIPv6
		if hasProto {
			names := map[uint8]string{IPProtoTCP: "tcp", IPProtoUDP: "udp", IPProtoSCTP: "sctp"}
			if n, ok := names[uint8(proto)]; ok {
				if v6 {
					n += "6"
				}
				return n, true, true
			}
			if !v6 && uint8(proto) == IPProtoICMP {
				return "icmp", true, true
			}
			if v6 && uint8(proto) == IPProtoICMPv6 {
				return "icmp6", true, true
			}
		}
		if v6 {
			return "ipv6", true, false
		}
		return "ip", true, false
	case EthTypeARP:
		return "arp", true, false
	case 0x8035:
		return "rarp", true, false
	case EthTypeMPLS:
		return "mpls", true, false
	case EthTypeMPLSMC:
		return "mplsm", true, false
	}
	return "", false, false
}

// String prints the match as dump-flows does, e.g. "tcp,in_port=1,tp_dst=25".
// An empty match prints as "".
func (m Match) String() string {
	var parts []string
	sh, noEth, noProto := m.shorthand()
	if sh != "" {
		parts = append(parts, sh)
	}
	done := make([]bool, len(m.Fields))
	for _, f := range matchOrder {
		for i, o := range m.Fields {
			if done[i] || !o.Is(f) {
				continue
			}
			done[i] = true
			if (f == OXMEthType && noEth && o.Mask == nil) || (f == OXMIPProto && noProto && o.Mask == nil) {
				continue
			}
			parts = append(parts, o.String())
		}
	}
	for i, o := range m.Fields {
		if !done[i] {
			parts = append(parts, o.String())
		}
	}
	return strings.Join(parts, ",")
}

func (a ActionOutput) String() string {
	switch a.Port {
	case PortController:
		return "CONTROLLER:" + strconv.Itoa(int(a.MaxLen))
	case PortInPort, PortTable, PortNormal, PortFlood, PortAll, PortLocal:
		return PortName(a.Port)
	}
	return "output:" + PortName(a.Port)
}

func (ActionCopyTTLOut) String() string   { return "copy_ttl_out" }
func (ActionCopyTTLIn) String() string    { return "copy_ttl_in" }
func (a ActionSetMPLSTTL) String() string { return "set_mpls_ttl(" + strconv.Itoa(int(a.TTL)) + ")" }
func (ActionDecMPLSTTL) String() string   { return "dec_mpls_ttl" }
func (a ActionPushVLAN) String() string   { return fmt.Sprintf("push_vlan:0x%04x", a.EtherType) }
func (ActionPopVLAN) String() string      { return "pop_vlan" }
func (a ActionPushMPLS) String() string   { return fmt.Sprintf("push_mpls:0x%04x", a.EtherType) }
func (a ActionPopMPLS) String() string    { return fmt.Sprintf("pop_mpls:0x%04x", a.EtherType) }
func (a ActionSetQueue) String() string {
	return "set_queue:" + strconv.FormatUint(uint64(a.QueueID), 10)
}
func (a ActionGroup) String() string    { return "group:" + strconv.FormatUint(uint64(a.GroupID), 10) }
func (a ActionSetNWTTL) String() string { return "mod_nw_ttl:" + strconv.Itoa(int(a.TTL)) }
func (ActionDecNWTTL) String() string   { return "dec_ttl" }
func (a ActionPushPBB) String() string  { return fmt.Sprintf("push_pbb:0x%04x", a.EtherType) }
func (ActionPopPBB) String() string     { return "pop_pbb" }

func (a ActionSetField) String() string {
	o := a.Field
	if !o.IsBasic() || int(o.Field) >= numBasicFields || o.check() != nil {
		return "set_field:" + o.String()
	}
	var v string
	switch o.Field {
	case OXMVLANVID, OXMInPort, OXMInPhyPort:
		v = strconv.FormatUint(o.Uint(), 10) // vlan_vid with OFPVID_PRESENT: 100 -> 4196
	default:
		v = o.valueString()
	}
	return "set_field:" + v + "->" + setFieldNames[o.Field]
}

func (a ActionExperimenter) String() string {
	return fmt.Sprintf("experimenter(0x%08x,0x%x)", a.Experimenter, a.Data)
}

// ActionsString prints an action list; an empty list is "drop".
func ActionsString(actions []Action) string {
	if len(actions) == 0 {
		return "drop"
	}
	parts := make([]string, len(actions))
	for i, a := range actions {
		if a == nil {
			parts[i] = "<nil>"
			continue
		}
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

func (i InstructionGotoTable) String() string { return "goto_table:" + strconv.Itoa(int(i.TableID)) }

func (i InstructionWriteMetadata) String() string {
	if i.Mask == ^uint64(0) {
		return fmt.Sprintf("write_metadata:0x%x", i.Metadata)
	}
	return fmt.Sprintf("write_metadata:0x%x/0x%x", i.Metadata, i.Mask)
}

func (i InstructionWriteActions) String() string {
	return "write_actions(" + ActionsString(i.Actions) + ")"
}

func (i InstructionApplyActions) String() string { return ActionsString(i.Actions) }
func (InstructionClearActions) String() string   { return "clear_actions" }
func (i InstructionMeter) String() string {
	return "meter:" + strconv.FormatUint(uint64(i.MeterID), 10)
}

func (i InstructionExperimenter) String() string {
	return fmt.Sprintf("experimenter(0x%08x,0x%x)", i.Experimenter, i.Data)
}

// InstructionsString prints an instruction list as the text after
// "actions=": apply-actions inline, the others as ovs-ofctl spells them.
// An empty list (or empty apply-actions alone) is "drop".
func InstructionsString(insts []Instruction) string {
	var parts []string
	for _, in := range insts {
		if in == nil {
			parts = append(parts, "<nil>")
			continue
		}
		if a, ok := in.(InstructionApplyActions); ok && len(a.Actions) == 0 {
			continue
		}
		parts = append(parts, in.String())
	}
	if len(parts) == 0 {
		return "drop"
	}
	return strings.Join(parts, ",")
}

func flowFlagsString(f FlowModFlags) []string {
	var out []string
	for i, n := range flowFlagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// flowText joins the comma-separated head ("cookie=0x1, table=2"), the
// flags (space-separated, as dump-flows prints them), priority and match,
// and the instructions.
func flowText(head []string, flags FlowModFlags, priority uint16, match Match, insts []Instruction, withActions bool) string {
	s := strings.Join(head, ", ")
	if f := flowFlagsString(flags); len(f) > 0 {
		if s != "" {
			s += ", "
		}
		s += strings.Join(f, " ") + " "
	}
	var m []string
	if priority != DefaultPriority {
		m = append(m, "priority="+strconv.Itoa(int(priority)))
	}
	if ms := match.String(); ms != "" {
		m = append(m, ms)
	}
	ms := strings.Join(m, ",")
	if ms != "" {
		if s != "" && !strings.HasSuffix(s, " ") {
			s += ", "
		}
		s += ms
	}
	if !withActions {
		return strings.TrimSpace(s)
	}
	act := "actions=" + InstructionsString(insts)
	switch {
	case ms != "":
		return s + " " + act
	case s == "" || strings.HasSuffix(s, " "):
		return s + act
	}
	return s + ", " + act
}

// String prints the flow mod in ovs-ofctl syntax, e.g.
// "cookie=0x5, table=1, priority=100,tcp,tp_dst=25 actions=NORMAL,output:3".
// Commands other than ADD are prefixed (MOD, MOD_STRICT, DEL, DEL_STRICT);
// deletes print no actions.
func (m *FlowMod) String() string {
	var head []string
	if m.Cookie != 0 || m.CookieMask != 0 {
		c := fmt.Sprintf("cookie=0x%x", m.Cookie)
		if m.CookieMask != 0 && m.CookieMask != ^uint64(0) {
			c += fmt.Sprintf("/0x%x", m.CookieMask)
		}
		head = append(head, c)
	}
	if m.TableID != 0 {
		head = append(head, "table="+strconv.Itoa(int(m.TableID)))
	}
	if m.IdleTimeout != 0 {
		head = append(head, "idle_timeout="+strconv.Itoa(int(m.IdleTimeout)))
	}
	if m.HardTimeout != 0 {
		head = append(head, "hard_timeout="+strconv.Itoa(int(m.HardTimeout)))
	}
	if m.BufferID != NoBuffer {
		head = append(head, fmt.Sprintf("buffer=0x%x", m.BufferID))
	}
	del := m.Command == FlowDelete || m.Command == FlowDeleteStrict
	if del && m.OutPort != PortAny {
		head = append(head, "out_port="+PortName(m.OutPort))
	}
	if del && m.OutGroup != GroupAny {
		head = append(head, "out_group="+strconv.FormatUint(uint64(m.OutGroup), 10))
	}
	s := flowText(head, m.Flags, m.Priority, m.Match, m.Instructions, !del)
	if m.Command != FlowAdd {
		s = strings.TrimSpace(m.Command.String() + " " + s)
	}
	return s
}

// durationString prints seconds as ovs-ofctl does: "3.200s", or "3s"
// when there is no fraction.
func durationString(sec, nsec uint32) string {
	if nsec == 0 {
		return strconv.FormatUint(uint64(sec), 10) + "s"
	}
	return fmt.Sprintf("%d.%03ds", sec, nsec/1e6)
}

// String prints the entry like one line of `ovs-ofctl dump-flows`.
func (f FlowStats) String() string {
	head := []string{
		fmt.Sprintf("cookie=0x%x", f.Cookie),
		"duration=" + durationString(f.DurationSec, f.DurationNsec),
		"table=" + strconv.Itoa(int(f.TableID)),
		"n_packets=" + strconv.FormatUint(f.PacketCount, 10),
		"n_bytes=" + strconv.FormatUint(f.ByteCount, 10),
	}
	if f.IdleTimeout != 0 {
		head = append(head, "idle_timeout="+strconv.Itoa(int(f.IdleTimeout)))
	}
	if f.HardTimeout != 0 {
		head = append(head, "hard_timeout="+strconv.Itoa(int(f.HardTimeout)))
	}
	return flowText(head, f.Flags, f.Priority, f.Match, f.Instructions, true)
}

// String prints the bucket as ovs-ofctl does: "weight:50,actions=output:1".
func (b Bucket) String() string {
	var parts []string
	if b.Weight != 0 {
		parts = append(parts, "weight:"+strconv.Itoa(int(b.Weight)))
	}
	if b.WatchPort != PortAny {
		parts = append(parts, "watch_port:"+PortName(b.WatchPort))
	}
	if b.WatchGroup != GroupAny {
		parts = append(parts, "watch_group:"+strconv.FormatUint(uint64(b.WatchGroup), 10))
	}
	parts = append(parts, "actions="+ActionsString(b.Actions))
	return strings.Join(parts, ",")
}

func groupIDString(id uint32) string {
	switch id {
	case GroupAll:
		return "ALL"
	case GroupAny:
		return "ANY"
	}
	return strconv.FormatUint(uint64(id), 10)
}

func groupText(id uint32, t GroupType, buckets []Bucket) string {
	parts := []string{"group_id=" + groupIDString(id), "type=" + t.String()}
	for _, b := range buckets {
		parts = append(parts, "bucket="+b.String())
	}
	return strings.Join(parts, ",")
}

// String prints the group mod in ovs-ofctl syntax, e.g.
// "group_id=1,type=select,bucket=weight:50,actions=output:1". Commands
// other than ADD are prefixed (MOD, DEL).
func (m *GroupMod) String() string {
	s := groupText(m.GroupID, m.GroupType, m.Buckets)
	if m.Command == GroupDelete {
		s = "group_id=" + groupIDString(m.GroupID)
	}
	if m.Command != GroupAdd {
		s = m.Command.String() + " " + s
	}
	return s
}

// String prints the group like `ovs-ofctl dump-groups`.
func (g GroupDesc) String() string { return groupText(g.GroupID, g.GroupType, g.Buckets) }

// String prints the band like ovs-ofctl: "type=drop rate=1000 burst_size=100".
func (b MeterBand) String() string {
	s := fmt.Sprintf("type=%s rate=%d", b.Type, b.Rate)
	if b.BurstSize != 0 {
		s += fmt.Sprintf(" burst_size=%d", b.BurstSize)
	}
	if b.Type == MeterBandDSCPRemark {
		s += fmt.Sprintf(" prec_level=%d", b.PrecLevel)
	}
	return s
}

// String prints the meter mod, e.g. "meter=1 kbps burst bands=type=drop rate=1000".
func (m *MeterMod) String() string {
	parts := []string{"meter=" + strconv.FormatUint(uint64(m.MeterID), 10)}
	if m.Flags != 0 {
		parts = append(parts, strings.ReplaceAll(m.Flags.String(), "|", " "))
	}
	if len(m.Bands) > 0 {
		bands := make([]string, len(m.Bands))
		for i, b := range m.Bands {
			bands[i] = b.String()
		}
		parts = append(parts, "bands="+strings.Join(bands, " "))
	}
	s := strings.Join(parts, " ")
	if m.Command != MeterAdd {
		s = m.Command.String() + " " + s
	}
	return s
}

// String prints the packet-out, e.g. "in_port=CONTROLLER actions=output:1 data_len=60".
func (m *PacketOut) String() string {
	s := "in_port=" + PortName(m.InPort) + " actions=" + ActionsString(m.Actions)
	if m.BufferID != NoBuffer {
		s += fmt.Sprintf(" buffer=0x%x", m.BufferID)
	}
	return s + " data_len=" + strconv.Itoa(len(m.Data))
}

// String summarises the packet-in, e.g.
// "table_id=0 cookie=0x0 total_len=42 in_port=1 (via no_match) data_len=42".
func (m *PacketIn) String() string {
	parts := []string{fmt.Sprintf("table_id=%d", m.TableID), fmt.Sprintf("cookie=0x%x", m.Cookie),
		fmt.Sprintf("total_len=%d", m.TotalLen)}
	if s := m.Match.String(); s != "" {
		parts = append(parts, s)
	}
	parts = append(parts, "(via "+m.Reason.String()+")", "data_len="+strconv.Itoa(len(m.Data)))
	if m.BufferID != NoBuffer {
		parts = append(parts, fmt.Sprintf("buffer=0x%08x", m.BufferID))
	}
	return strings.Join(parts, " ")
}
