package flows

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"

	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

// Packet is a packet for Walk: the header fields the flows match on.
type Packet struct {
	EthType          uint16
	VLAN             uint16 // 0: untagged
	IPProto          uint8
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // TCP or UDP
}

// WalkResult is where a packet went.
type WalkResult struct {
	// Delivered lists the host ports it left by (NORMAL forwarding, or a
	// copy leaking to a host, which Violations also reports).
	Delivered []topology.End
	// Copies counts copies per IRS name.
	Copies map[string]int
	// Controller counts packets sent to the controller.
	Controller int
	// Violations are breaches of the mirroring rules: a tagged copy
	// reaching NORMAL or a host, an untagged frame or a tagged one at an
	// IRS, a loop.
	Violations []string
	// Trace lists every hop: "switch in_port table priority -> actions".
	Trace []string
}

// Walk follows a packet entering switch port `in`, destined (for NORMAL
// forwarding) to the host port `dst`, through the desired tables. NORMAL
// is modelled as a learning switch that knows every host: it sends the
// packet out of the host port when dst is on this switch, else toward
// dst's switch on a shortest path. Select groups pick a bucket by a
// symmetric hash of addresses and ports, as Open vSwitch does.
func Walk(d Desired, g *topology.Graph, irs []IRSPort, in, dst topology.End, pkt Packet) WalkResult {
	res := WalkResult{Copies: map[string]int{}}
	irsAt := map[topology.End]string{}
	for _, r := range irs {
		if r.Port != 0 {
			irsAt[topology.End{DPID: r.DPID, Port: r.Port}] = r.Name
		}
	}
	mirrorVLAN := map[uint16]bool{}
	for _, r := range irs {
		mirrorVLAN[r.VLAN] = true
	}
	toDst := g.NextHops(dst.DPID)

	type hop struct {
		at    topology.End
		pkt   Packet
		depth int
	}
	queue := []hop{{in, pkt, 0}}
	// leave handles a packet leaving sw by port p.
	leave := func(sw topology.DPID, p uint32, pk Packet, depth int) {
		e := topology.End{DPID: sw, Port: p}
		if far, ok := g.Peer(e); ok {
			queue = append(queue, hop{far, pk, depth + 1})
			return
		}
		if name, ok := irsAt[e]; ok {
			res.Copies[name]++
			if pk.VLAN != 0 {
				res.Violations = append(res.Violations, fmt.Sprintf("copy reached irs %s still tagged with vlan %d", name, pk.VLAN))
			}
			return
		}
		res.Delivered = append(res.Delivered, e)
		if mirrorVLAN[pk.VLAN] {
			res.Violations = append(res.Violations, fmt.Sprintf("copy tagged %d leaked to host port %s", pk.VLAN, e))
		}
	}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h.depth > 32 {
			res.Violations = append(res.Violations, fmt.Sprintf("loop: still travelling at %s after 32 hops", h.at))
			continue
		}
		t := d[h.at.DPID]
		if t == nil {
			res.Violations = append(res.Violations, fmt.Sprintf("switch %s has no table", h.at.DPID))
			continue
		}
		table := uint8(0)
		pk := h.pkt
		for step := 0; step < 8; step++ {
			f := lookup(t, table, h.at.Port, pk)
			if f == nil {
				res.Trace = append(res.Trace, fmt.Sprintf("%s in_port=%d table=%d miss: drop", h.at.DPID, h.at.Port, table))
				break
			}
			res.Trace = append(res.Trace, fmt.Sprintf("%s in_port=%d table=%d priority=%d -> %s", h.at.DPID, h.at.Port, table, f.Priority, openflow.InstructionsString(f.Instructions)))
			next := -1
			for _, inst := range f.Instructions {
				switch in := inst.(type) {
				case openflow.InstructionApplyActions:
					run(t, in.Actions, h.at, pk, &res, mirrorVLAN, toDst, dst, func(p uint32, out Packet) { leave(h.at.DPID, p, out, h.depth) })
				case openflow.InstructionGotoTable:
					next = int(in.TableID)
				}
			}
			if next < 0 {
				break
			}
			table = uint8(next)
		}
	}
	sortEnds(res.Delivered)
	return res
}

// run applies an action list to a copy of the packet.
func run(t *Table, actions []openflow.Action, at topology.End, pk Packet, res *WalkResult, mirrorVLAN map[uint16]bool, toDst map[topology.DPID]uint32, dst topology.End, out func(uint32, Packet)) {
	for _, a := range actions {
		switch a := a.(type) {
		case openflow.ActionOutput:
			switch a.Port {
			case openflow.PortNormal:
				if mirrorVLAN[pk.VLAN] {
					res.Violations = append(res.Violations, fmt.Sprintf("copy tagged %d reached NORMAL on %s", pk.VLAN, at.DPID))
					continue
				}
				switch {
				case dst.DPID == at.DPID:
					if dst.Port != at.Port {
						out(dst.Port, pk)
					}
				default:
					if p, ok := toDst[at.DPID]; ok && p != at.Port {
						out(p, pk)
					}
				}
			case openflow.PortController:
				res.Controller++
			default:
				if a.Port == at.Port {
					continue // OpenFlow never outputs to the in_port this way
				}
				out(a.Port, pk)
			}
		case openflow.ActionPushVLAN:
			pk.VLAN = 0xffff // tagged, vid to be set
		case openflow.ActionPopVLAN:
			pk.VLAN = 0
		case openflow.ActionSetField:
			if a.Field.Is(openflow.OXMVLANVID) {
				pk.VLAN = uint16(a.Field.Uint()) & 0xfff
			}
		case openflow.ActionGroup:
			g := findGroup(t, a.GroupID)
			if g == nil {
				res.Violations = append(res.Violations, fmt.Sprintf("group %d missing on %s", a.GroupID, at.DPID))
				continue
			}
			switch g.GroupType {
			case openflow.GroupTypeSelect:
				if b := pickBucket(g.Buckets, pk); b != nil {
					run(t, b.Actions, at, pk, res, mirrorVLAN, toDst, dst, out)
				}
			default:
				for _, b := range g.Buckets {
					run(t, b.Actions, at, pk, res, mirrorVLAN, toDst, dst, out)
				}
			}
		}
	}
}

func findGroup(t *Table, id uint32) *openflow.GroupMod {
	for _, g := range t.Groups {
		if g.GroupID == id {
			return g
		}
	}
	return nil
}

// SymmetricHash hashes a packet's addresses and ports so that both
// directions of a connection give the same value.
func SymmetricHash(pk Packet) uint32 {
	a := append(pk.Src.AsSlice(), byte(pk.SrcPort>>8), byte(pk.SrcPort))
	b := append(pk.Dst.AsSlice(), byte(pk.DstPort>>8), byte(pk.DstPort))
	if string(a) > string(b) {
		a, b = b, a
	}
	h := fnv.New32a()
	h.Write(a)
	h.Write(b)
	h.Write([]byte{pk.IPProto})
	return h.Sum32()
}

// pickBucket chooses a bucket by weight from the symmetric hash.
func pickBucket(buckets []openflow.Bucket, pk Packet) *openflow.Bucket {
	total := 0
	for _, b := range buckets {
		total += int(b.Weight)
	}
	if total == 0 {
		return nil
	}
	x := int(SymmetricHash(pk) % uint32(total))
	for i := range buckets {
		x -= int(buckets[i].Weight)
		if x < 0 {
			return &buckets[i]
		}
	}
	return nil
}

// lookup returns the highest-priority flow of table that matches.
func lookup(t *Table, table uint8, inPort uint32, pk Packet) *openflow.FlowMod {
	var best *openflow.FlowMod
	for _, f := range t.Flows {
		if f.TableID != table || (best != nil && f.Priority <= best.Priority) {
			continue
		}
		if matches(f.Match, inPort, pk) {
			best = f
		}
	}
	return best
}

// matches evaluates a match against the packet (fields Walk models;
// any other field never matches).
func matches(m openflow.Match, inPort uint32, pk Packet) bool {
	for _, o := range m.Fields {
		v, ok := fieldValue(o.Field, inPort, pk)
		if !ok || !o.IsBasic() || len(v) != len(o.Value) {
			return false
		}
		for i := range v {
			mask := byte(0xff)
			if o.Mask != nil {
				mask = o.Mask[i]
			}
			if v[i]&mask != o.Value[i]&mask {
				return false
			}
		}
	}
	return true
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func fieldValue(f openflow.OXMField, inPort uint32, pk Packet) ([]byte, bool) {
	isIP := pk.EthType == openflow.EthTypeIPv4 || pk.EthType == openflow.EthTypeIPv6
	l4 := func(want uint8, v uint16) ([]byte, bool) {
		if !isIP || pk.IPProto != want {
			return nil, false
		}
		return be16(v), true
	}
	switch f {
	case openflow.OXMInPort:
		return binary.BigEndian.AppendUint32(nil, inPort), true
	case openflow.OXMEthType:
		return be16(pk.EthType), true
	case openflow.OXMVLANVID:
		if pk.VLAN == 0 {
			return be16(openflow.VLANNone), true
		}
		return be16(openflow.VLANPresent | pk.VLAN&0xfff), true
	case openflow.OXMIPProto:
		if !isIP {
			return nil, false
		}
		return []byte{pk.IPProto}, true
	case openflow.OXMIPv4Src, openflow.OXMIPv4Dst:
		if pk.EthType != openflow.EthTypeIPv4 {
			return nil, false
		}
		if f == openflow.OXMIPv4Src {
			return pk.Src.AsSlice(), true
		}
		return pk.Dst.AsSlice(), true
	case openflow.OXMIPv6Src, openflow.OXMIPv6Dst:
		if pk.EthType != openflow.EthTypeIPv6 {
			return nil, false
		}
		if f == openflow.OXMIPv6Src {
			return pk.Src.AsSlice(), true
		}
		return pk.Dst.AsSlice(), true
	case openflow.OXMTCPSrc:
		return l4(6, pk.SrcPort)
	case openflow.OXMTCPDst:
		return l4(6, pk.DstPort)
	case openflow.OXMUDPSrc:
		return l4(17, pk.SrcPort)
	case openflow.OXMUDPDst:
		return l4(17, pk.DstPort)
	}
	return nil, false
}

// Reverse returns the packet of the other direction.
func (pk Packet) Reverse() Packet {
	pk.Src, pk.Dst = pk.Dst, pk.Src
	pk.SrcPort, pk.DstPort = pk.DstPort, pk.SrcPort
	return pk
}

// sortEnds orders ends for stable test output.
func sortEnds(e []topology.End) {
	slices.SortFunc(e, func(a, b topology.End) int {
		if a.DPID != b.DPID {
			if a.DPID < b.DPID {
				return -1
			}
			return 1
		}
		return int(a.Port) - int(b.Port)
	})
}
