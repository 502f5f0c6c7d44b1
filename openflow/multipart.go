package openflow

import (
	"fmt"
	"strconv"
)

// MultipartType is ofp_multipart_type.
type MultipartType uint16

// Multipart types.
const (
	MultipartDesc          MultipartType = 0
	MultipartFlow          MultipartType = 1
	MultipartAggregate     MultipartType = 2
	MultipartTable         MultipartType = 3
	MultipartPortStats     MultipartType = 4
	MultipartQueue         MultipartType = 5
	MultipartGroup         MultipartType = 6
	MultipartGroupDesc     MultipartType = 7
	MultipartGroupFeatures MultipartType = 8
	MultipartMeter         MultipartType = 9
	MultipartMeterConfig   MultipartType = 10
	MultipartMeterFeatures MultipartType = 11
	MultipartTableFeatures MultipartType = 12
	MultipartPortDesc      MultipartType = 13
	MultipartExperimenter  MultipartType = 0xffff
)

var multipartNames = [...]string{"OFPMP_DESC", "OFPMP_FLOW", "OFPMP_AGGREGATE", "OFPMP_TABLE",
	"OFPMP_PORT_STATS", "OFPMP_QUEUE", "OFPMP_GROUP", "OFPMP_GROUP_DESC", "OFPMP_GROUP_FEATURES",
	"OFPMP_METER", "OFPMP_METER_CONFIG", "OFPMP_METER_FEATURES", "OFPMP_TABLE_FEATURES", "OFPMP_PORT_DESC"}

func (t MultipartType) String() string {
	if int(t) < len(multipartNames) {
		return multipartNames[t]
	}
	if t == MultipartExperimenter {
		return "OFPMP_EXPERIMENTER"
	}
	return "OFPMP_" + strconv.Itoa(int(t))
}

// MultipartMore is OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE: more parts follow.
const MultipartMore uint16 = 1

// MultipartRequestBody is the typed body of a MULTIPART_REQUEST; the
// concrete types are the *Request structs below (pointers).
type MultipartRequestBody interface {
	MultipartType() MultipartType
	appendBody(b []byte) ([]byte, error)
	decode(b []byte) error
}

// MultipartReplyBody is the typed body of a MULTIPART_REPLY; the concrete
// types are the *Reply structs below (pointers).
type MultipartReplyBody interface {
	MultipartType() MultipartType
	appendBody(b []byte) ([]byte, error)
	decode(b []byte) error
	// merge appends the entries of a later part (REPLY_MORE reassembly).
	merge(next MultipartReplyBody) error
}

// MultipartRequest (OFPT_MULTIPART_REQUEST).
type MultipartRequest struct {
	Flags uint16
	Body  MultipartRequestBody
}

// MultipartReply (OFPT_MULTIPART_REPLY). A reply with Flags&MultipartMore
// is one part of several; Reassemble (or Conn) joins them.
type MultipartReply struct {
	Flags uint16
	Body  MultipartReplyBody
}

// Type implements Message.
func (*MultipartRequest) Type() MsgType { return TypeMultipartRequest }

// Type implements Message.
func (*MultipartReply) Type() MsgType { return TypeMultipartReply }

// More reports whether more parts follow.
func (m *MultipartReply) More() bool { return m.Flags&MultipartMore != 0 }

func appendMultipartHeader(b []byte, t MultipartType, flags uint16) []byte {
	b = be.AppendUint16(b, uint16(t))
	b = be.AppendUint16(b, flags)
	return pad4(b)
}

// AppendBody implements Message.
func (m *MultipartRequest) AppendBody(b []byte) ([]byte, error) {
	if m.Body == nil {
		return b, fmt.Errorf("%w: multipart request without body", ErrInvalid)
	}
	b = appendMultipartHeader(b, m.Body.MultipartType(), m.Flags)
	return m.Body.appendBody(b)
}

// AppendBody implements Message.
func (m *MultipartReply) AppendBody(b []byte) ([]byte, error) {
	if m.Body == nil {
		return b, fmt.Errorf("%w: multipart reply without body", ErrInvalid)
	}
	b = appendMultipartHeader(b, m.Body.MultipartType(), m.Flags)
	return m.Body.appendBody(b)
}

// UnmarshalBody implements Message.
func (m *MultipartRequest) UnmarshalBody(body []byte) error {
	if len(body) < 8 {
		return short("multipart request", 8, len(body))
	}
	t := MultipartType(be.Uint16(body))
	var req MultipartRequestBody
	switch t {
	case MultipartDesc:
		req = new(DescRequest)
	case MultipartFlow:
		req = new(FlowStatsRequest)
	case MultipartAggregate:
		req = new(AggregateStatsRequest)
	case MultipartTable:
		req = new(TableStatsRequest)
	case MultipartPortStats:
		req = new(PortStatsRequest)
	case MultipartQueue:
		req = new(QueueStatsRequest)
	case MultipartGroup:
		req = new(GroupStatsRequest)
	case MultipartGroupDesc:
		req = new(GroupDescRequest)
	case MultipartGroupFeatures:
		req = new(GroupFeaturesRequest)
	case MultipartMeter:
		req = new(MeterStatsRequest)
	case MultipartMeterConfig:
		req = new(MeterConfigRequest)
	case MultipartMeterFeatures:
		req = new(MeterFeaturesRequest)
	case MultipartTableFeatures:
		req = new(TableFeaturesRequest)
	case MultipartPortDesc:
		req = new(PortDescRequest)
	case MultipartExperimenter:
		req = new(ExperimenterMultipartRequest)
	default:
		return fmt.Errorf("%w: multipart request type %d", ErrUnknownType, uint16(t))
	}
	if err := req.decode(body[8:]); err != nil {
		return fmt.Errorf("%s request: %w", t, err)
	}
	*m = MultipartRequest{Flags: be.Uint16(body[2:]), Body: req}
	return nil
}

func newReplyBody(t MultipartType) (MultipartReplyBody, error) {
	switch t {
	case MultipartDesc:
		return new(DescReply), nil
	case MultipartFlow:
		return new(FlowStatsReply), nil
	case MultipartAggregate:
		return new(AggregateStatsReply), nil
	case MultipartTable:
		return new(TableStatsReply), nil
	case MultipartPortStats:
		return new(PortStatsReply), nil
	case MultipartQueue:
		return new(QueueStatsReply), nil
	case MultipartGroup:
		return new(GroupStatsReply), nil
	case MultipartGroupDesc:
		return new(GroupDescReply), nil
	case MultipartGroupFeatures:
		return new(GroupFeaturesReply), nil
	case MultipartMeter:
		return new(MeterStatsReply), nil
	case MultipartMeterConfig:
		return new(MeterConfigReply), nil
	case MultipartMeterFeatures:
		return new(MeterFeaturesReply), nil
	case MultipartTableFeatures:
		return new(TableFeaturesReply), nil
	case MultipartPortDesc:
		return new(PortDescReply), nil
	case MultipartExperimenter:
		return new(ExperimenterMultipartReply), nil
	}
	return nil, fmt.Errorf("%w: multipart reply type %d", ErrUnknownType, uint16(t))
}

// UnmarshalBody implements Message.
func (m *MultipartReply) UnmarshalBody(body []byte) error {
	if len(body) < 8 {
		return short("multipart reply", 8, len(body))
	}
	t := MultipartType(be.Uint16(body))
	rep, err := newReplyBody(t)
	if err != nil {
		return err
	}
	if err := rep.decode(body[8:]); err != nil {
		return fmt.Errorf("%s reply: %w", t, err)
	}
	*m = MultipartReply{Flags: be.Uint16(body[2:]), Body: rep}
	return nil
}

// Reassemble joins the parts of one multipart reply (all but the last
// flagged MultipartMore) into a single reply without the flag.
func Reassemble(parts []*MultipartReply) (*MultipartReply, error) {
	if len(parts) == 0 || parts[0] == nil || parts[0].Body == nil {
		return nil, fmt.Errorf("openflow: %w: no multipart reply to reassemble", ErrInvalid)
	}
	t := parts[0].Body.MultipartType()
	out, err := newReplyBody(t)
	if err != nil {
		return nil, fmt.Errorf("openflow: %w", err)
	}
	for i, p := range parts {
		if p == nil || p.Body == nil || p.Body.MultipartType() != t {
			return nil, fmt.Errorf("openflow: %w: multipart part %d is not %s", ErrInvalid, i, t)
		}
		if last := i == len(parts)-1; p.More() == last {
			return nil, fmt.Errorf("openflow: %w: multipart part %d of %d has REPLY_MORE=%v", ErrInvalid, i+1, len(parts), p.More())
		}
		if i == 0 {
			out = p.Body
			if len(parts) > 1 {
				// Copy the first body so merging leaves the parts untouched.
				out, _ = newReplyBody(t)
				if err := out.merge(p.Body); err != nil {
					return nil, fmt.Errorf("openflow: %s: %w", t, err)
				}
			}
			continue
		}
		if err := out.merge(p.Body); err != nil {
			return nil, fmt.Errorf("openflow: %s part %d: %w", t, i+1, err)
		}
	}
	return &MultipartReply{Body: out}, nil
}

func errMergeType(a, b MultipartReplyBody) error {
	return fmt.Errorf("%w: cannot merge %s with %T", ErrInvalid, a.MultipartType(), b)
}

func errNoMerge(t MultipartType) error {
	return fmt.Errorf("%w: %s replies do not come in parts", ErrInvalid, t)
}

// decodeList decodes consecutive entries, each at least minLen bytes;
// entry returns the decoded value and the bytes it used. The minimum
// length bounds the slice by the input size.
func decodeList[T any](b []byte, minLen int, what string, entry func([]byte) (T, int, error)) ([]T, error) {
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]T, 0, min(len(b)/minLen, 256))
	for i := 0; len(b) > 0; i++ {
		if len(b) < minLen {
			return nil, short(fmt.Sprintf("%s %d", what, i), minLen, len(b))
		}
		v, n, err := entry(b)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, i, err)
		}
		out = append(out, v)
		b = b[n:]
	}
	return out, nil
}

// entryLen reads a 16-bit entry length at b[at:] and checks it against
// the minimum, alignment and what remains.
func entryLen(b []byte, at, minLen int) (int, error) {
	n := int(be.Uint16(b[at:]))
	if n < minLen || n%8 != 0 || n > len(b) {
		return 0, fmt.Errorf("%w: length %d (minimum %d) with %d bytes left", ErrBadLength, n, minLen, len(b))
	}
	return n, nil
}

func expectLen(b []byte, n int, what string) error {
	if len(b) != n {
		return fmt.Errorf("%w: %s body is %d bytes, want %d", ErrBadLength, what, len(b), n)
	}
	return nil
}

// ---- requests ----

// DescRequest asks for the switch description (OFPMP_DESC).
type DescRequest struct{}

// FlowStatsRequest asks for individual flow statistics (OFPMP_FLOW).
// Use TableAll, PortAny, GroupAny and a zero CookieMask to select all.
type FlowStatsRequest struct {
	TableID    uint8
	OutPort    uint32
	OutGroup   uint32
	Cookie     uint64
	CookieMask uint64
	Match      Match
}

// NewFlowStatsRequest selects every flow of every table.
func NewFlowStatsRequest() *FlowStatsRequest {
	return &FlowStatsRequest{TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny}
}

// AggregateStatsRequest asks for totals over the selected flows
// (OFPMP_AGGREGATE); same fields as FlowStatsRequest.
type AggregateStatsRequest FlowStatsRequest

// TableStatsRequest asks for per-table statistics (OFPMP_TABLE).
type TableStatsRequest struct{}

// PortStatsRequest asks for port counters (OFPMP_PORT_STATS); PortAny for all.
type PortStatsRequest struct{ PortNo uint32 }

// QueueStatsRequest asks for queue counters (OFPMP_QUEUE).
type QueueStatsRequest struct{ PortNo, QueueID uint32 }

// GroupStatsRequest asks for group counters (OFPMP_GROUP); GroupAll for all.
type GroupStatsRequest struct{ GroupID uint32 }

// GroupDescRequest asks for group definitions (OFPMP_GROUP_DESC).
type GroupDescRequest struct{}

// GroupFeaturesRequest asks for group capabilities (OFPMP_GROUP_FEATURES).
type GroupFeaturesRequest struct{}

// MeterStatsRequest asks for meter counters (OFPMP_METER); MeterAll for all.
type MeterStatsRequest struct{ MeterID uint32 }

// MeterConfigRequest asks for meter definitions (OFPMP_METER_CONFIG).
type MeterConfigRequest struct{ MeterID uint32 }

// MeterFeaturesRequest asks for meter capabilities (OFPMP_METER_FEATURES).
type MeterFeaturesRequest struct{}

// TableFeaturesRequest (OFPMP_TABLE_FEATURES): empty Data queries; Data
// otherwise holds raw ofp_table_features entries.
type TableFeaturesRequest struct{ Data []byte }

// PortDescRequest asks for the port list (OFPMP_PORT_DESC).
type PortDescRequest struct{}

// ExperimenterMultipartRequest (OFPMP_EXPERIMENTER).
type ExperimenterMultipartRequest struct {
	Experimenter, ExpType uint32
	Data                  []byte
}

func (*DescRequest) MultipartType() MultipartType                  { return MultipartDesc }
func (*FlowStatsRequest) MultipartType() MultipartType             { return MultipartFlow }
func (*AggregateStatsRequest) MultipartType() MultipartType        { return MultipartAggregate }
func (*TableStatsRequest) MultipartType() MultipartType            { return MultipartTable }
func (*PortStatsRequest) MultipartType() MultipartType             { return MultipartPortStats }
func (*QueueStatsRequest) MultipartType() MultipartType            { return MultipartQueue }
func (*GroupStatsRequest) MultipartType() MultipartType            { return MultipartGroup }
func (*GroupDescRequest) MultipartType() MultipartType             { return MultipartGroupDesc }
func (*GroupFeaturesRequest) MultipartType() MultipartType         { return MultipartGroupFeatures }
func (*MeterStatsRequest) MultipartType() MultipartType            { return MultipartMeter }
func (*MeterConfigRequest) MultipartType() MultipartType           { return MultipartMeterConfig }
func (*MeterFeaturesRequest) MultipartType() MultipartType         { return MultipartMeterFeatures }
func (*TableFeaturesRequest) MultipartType() MultipartType         { return MultipartTableFeatures }
func (*PortDescRequest) MultipartType() MultipartType              { return MultipartPortDesc }
func (*ExperimenterMultipartRequest) MultipartType() MultipartType { return MultipartExperimenter }

func (*DescRequest) appendBody(b []byte) ([]byte, error)          { return b, nil }
func (*TableStatsRequest) appendBody(b []byte) ([]byte, error)    { return b, nil }
func (*GroupDescRequest) appendBody(b []byte) ([]byte, error)     { return b, nil }
func (*GroupFeaturesRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*MeterFeaturesRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*PortDescRequest) appendBody(b []byte) ([]byte, error)      { return b, nil }

func (*DescRequest) decode(b []byte) error          { return expectLen(b, 0, "desc request") }
func (*TableStatsRequest) decode(b []byte) error    { return expectLen(b, 0, "table request") }
func (*GroupDescRequest) decode(b []byte) error     { return expectLen(b, 0, "group desc request") }
func (*GroupFeaturesRequest) decode(b []byte) error { return expectLen(b, 0, "group features request") }
func (*MeterFeaturesRequest) decode(b []byte) error { return expectLen(b, 0, "meter features request") }
func (*PortDescRequest) decode(b []byte) error      { return expectLen(b, 0, "port desc request") }

func (r *FlowStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = append(b, r.TableID, 0, 0, 0)
	b = be.AppendUint32(b, r.OutPort)
	b = be.AppendUint32(b, r.OutGroup)
	b = pad4(b)
	b = be.AppendUint64(b, r.Cookie)
	b = be.AppendUint64(b, r.CookieMask)
	return r.Match.appendMatch(b)
}

func (r *FlowStatsRequest) decode(b []byte) error {
	if len(b) < 32 {
		return short("flow stats request", 32, len(b))
	}
	m, n, err := decodeMatch(b[32:])
	if err != nil {
		return err
	}
	if 32+n != len(b) {
		return fmt.Errorf("%w: %d bytes after the match", ErrBadLength, len(b)-32-n)
	}
	*r = FlowStatsRequest{TableID: b[0], OutPort: be.Uint32(b[4:]), OutGroup: be.Uint32(b[8:]),
		Cookie: be.Uint64(b[16:]), CookieMask: be.Uint64(b[24:]), Match: m}
	return nil
}

func (r *AggregateStatsRequest) appendBody(b []byte) ([]byte, error) {
	return (*FlowStatsRequest)(r).appendBody(b)
}
func (r *AggregateStatsRequest) decode(b []byte) error { return (*FlowStatsRequest)(r).decode(b) }

func (r *PortStatsRequest) appendBody(b []byte) ([]byte, error) {
	return pad4(be.AppendUint32(b, r.PortNo)), nil
}

func (r *PortStatsRequest) decode(b []byte) error {
	if err := expectLen(b, 8, "port stats request"); err != nil {
		return err
	}
	r.PortNo = be.Uint32(b)
	return nil
}

func (r *QueueStatsRequest) appendBody(b []byte) ([]byte, error) {
	return be.AppendUint32(be.AppendUint32(b, r.PortNo), r.QueueID), nil
}

func (r *QueueStatsRequest) decode(b []byte) error {
	if err := expectLen(b, 8, "queue stats request"); err != nil {
		return err
	}
	r.PortNo, r.QueueID = be.Uint32(b), be.Uint32(b[4:])
	return nil
}

func (r *GroupStatsRequest) appendBody(b []byte) ([]byte, error) {
	return pad4(be.AppendUint32(b, r.GroupID)), nil
}

func (r *GroupStatsRequest) decode(b []byte) error {
	if err := expectLen(b, 8, "group stats request"); err != nil {
		return err
	}
	r.GroupID = be.Uint32(b)
	return nil
}

func (r *MeterStatsRequest) appendBody(b []byte) ([]byte, error) {
	return pad4(be.AppendUint32(b, r.MeterID)), nil
}

func (r *MeterStatsRequest) decode(b []byte) error {
	if err := expectLen(b, 8, "meter stats request"); err != nil {
		return err
	}
	r.MeterID = be.Uint32(b)
	return nil
}

func (r *MeterConfigRequest) appendBody(b []byte) ([]byte, error) {
	return pad4(be.AppendUint32(b, r.MeterID)), nil
}

func (r *MeterConfigRequest) decode(b []byte) error {
	if err := expectLen(b, 8, "meter config request"); err != nil {
		return err
	}
	r.MeterID = be.Uint32(b)
	return nil
}

func (r *TableFeaturesRequest) appendBody(b []byte) ([]byte, error) { return append(b, r.Data...), nil }
func (r *TableFeaturesRequest) decode(b []byte) error {
	r.Data = cloneBytes(b)
	return nil
}

func (r *ExperimenterMultipartRequest) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, r.Experimenter)
	b = be.AppendUint32(b, r.ExpType)
	return append(b, r.Data...), nil
}

func (r *ExperimenterMultipartRequest) decode(b []byte) error {
	if len(b) < 8 {
		return short("experimenter multipart", 8, len(b))
	}
	*r = ExperimenterMultipartRequest{Experimenter: be.Uint32(b), ExpType: be.Uint32(b[4:]), Data: cloneBytes(b[8:])}
	return nil
}

// ---- replies ----

// DescReply describes the switch (OFPMP_DESC).
type DescReply struct {
	Manufacturer string
	Hardware     string
	Software     string
	SerialNumber string
	Datapath     string
}

// FlowStats is one ofp_flow_stats entry.
type FlowStats struct {
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        FlowModFlags
	Cookie       uint64
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
	Instructions []Instruction
}

// FlowStatsReply (OFPMP_FLOW).
type FlowStatsReply struct{ Flows []FlowStats }

// AggregateStatsReply (OFPMP_AGGREGATE).
type AggregateStatsReply struct {
	PacketCount uint64
	ByteCount   uint64
	FlowCount   uint32
}

// TableStats is one ofp_table_stats entry.
type TableStats struct {
	TableID      uint8
	ActiveCount  uint32
	LookupCount  uint64
	MatchedCount uint64
}

// TableStatsReply (OFPMP_TABLE).
type TableStatsReply struct{ Tables []TableStats }

// PortStats is one ofp_port_stats entry.
type PortStats struct {
	PortNo                    uint32
	RxPackets, TxPackets      uint64
	RxBytes, TxBytes          uint64
	RxDropped, TxDropped      uint64
	RxErrors, TxErrors        uint64
	RxFrameErr, RxOverErr     uint64
	RxCRCErr, Collisions      uint64
	DurationSec, DurationNsec uint32
}

// PortStatsReply (OFPMP_PORT_STATS).
type PortStatsReply struct{ Ports []PortStats }

// QueueStats is one ofp_queue_stats entry.
type QueueStats struct {
	PortNo, QueueID              uint32
	TxBytes, TxPackets, TxErrors uint64
	DurationSec, DurationNsec    uint32
}

// QueueStatsReply (OFPMP_QUEUE).
type QueueStatsReply struct{ Queues []QueueStats }

// BucketCounter counts the packets and bytes a group bucket processed.
type BucketCounter struct{ PacketCount, ByteCount uint64 }

// GroupStats is one ofp_group_stats entry.
type GroupStats struct {
	GroupID                   uint32
	RefCount                  uint32
	PacketCount, ByteCount    uint64
	DurationSec, DurationNsec uint32
	Buckets                   []BucketCounter
}

// GroupStatsReply (OFPMP_GROUP).
type GroupStatsReply struct{ Groups []GroupStats }

// GroupDesc is one ofp_group_desc entry.
type GroupDesc struct {
	GroupType GroupType
	GroupID   uint32
	Buckets   []Bucket
}

// GroupDescReply (OFPMP_GROUP_DESC).
type GroupDescReply struct{ Groups []GroupDesc }

// GroupFeaturesReply (OFPMP_GROUP_FEATURES). Index i of MaxGroups and
// Actions is group type i; Types and Actions are bitmaps of type numbers.
type GroupFeaturesReply struct {
	Types        uint32
	Capabilities uint32
	MaxGroups    [4]uint32
	Actions      [4]uint32
}

// Group capability flags (GroupFeaturesReply.Capabilities).
const (
	GroupCapSelectWeight   uint32 = 1 << 0
	GroupCapSelectLiveness uint32 = 1 << 1
	GroupCapChaining       uint32 = 1 << 2
	GroupCapChainingChecks uint32 = 1 << 3
)

// MeterBandStats counts what one meter band processed.
type MeterBandStats struct{ PacketBandCount, ByteBandCount uint64 }

// MeterStats is one ofp_meter_stats entry.
type MeterStats struct {
	MeterID                   uint32
	FlowCount                 uint32
	PacketInCount             uint64
	ByteInCount               uint64
	DurationSec, DurationNsec uint32
	Bands                     []MeterBandStats
}

// MeterStatsReply (OFPMP_METER).
type MeterStatsReply struct{ Meters []MeterStats }

// MeterConfig is one ofp_meter_config entry.
type MeterConfig struct {
	Flags   MeterFlags
	MeterID uint32
	Bands   []MeterBand
}

// MeterConfigReply (OFPMP_METER_CONFIG).
type MeterConfigReply struct{ Meters []MeterConfig }

// MeterFeaturesReply (OFPMP_METER_FEATURES).
type MeterFeaturesReply struct {
	MaxMeter     uint32
	BandTypes    uint32
	Capabilities uint32
	MaxBands     uint8
	MaxColor     uint8
}

// TableFeaturesReply (OFPMP_TABLE_FEATURES) keeps the raw
// ofp_table_features entries.
type TableFeaturesReply struct{ Data []byte }

// PortDescReply (OFPMP_PORT_DESC) lists the switch's ports.
type PortDescReply struct{ Ports []Port }

// ExperimenterMultipartReply (OFPMP_EXPERIMENTER).
type ExperimenterMultipartReply struct {
	Experimenter, ExpType uint32
	Data                  []byte
}

func (*DescReply) MultipartType() MultipartType                  { return MultipartDesc }
func (*FlowStatsReply) MultipartType() MultipartType             { return MultipartFlow }
func (*AggregateStatsReply) MultipartType() MultipartType        { return MultipartAggregate }
func (*TableStatsReply) MultipartType() MultipartType            { return MultipartTable }
func (*PortStatsReply) MultipartType() MultipartType             { return MultipartPortStats }
func (*QueueStatsReply) MultipartType() MultipartType            { return MultipartQueue }
func (*GroupStatsReply) MultipartType() MultipartType            { return MultipartGroup }
func (*GroupDescReply) MultipartType() MultipartType             { return MultipartGroupDesc }
func (*GroupFeaturesReply) MultipartType() MultipartType         { return MultipartGroupFeatures }
func (*MeterStatsReply) MultipartType() MultipartType            { return MultipartMeter }
func (*MeterConfigReply) MultipartType() MultipartType           { return MultipartMeterConfig }
func (*MeterFeaturesReply) MultipartType() MultipartType         { return MultipartMeterFeatures }
func (*TableFeaturesReply) MultipartType() MultipartType         { return MultipartTableFeatures }
func (*PortDescReply) MultipartType() MultipartType              { return MultipartPortDesc }
func (*ExperimenterMultipartReply) MultipartType() MultipartType { return MultipartExperimenter }

const descStrLen, serialNumLen = 256, 32

func (r *DescReply) appendBody(b []byte) ([]byte, error) {
	var err error
	for _, f := range []struct {
		s    string
		n    int
		what string
	}{{r.Manufacturer, descStrLen, "mfr_desc"}, {r.Hardware, descStrLen, "hw_desc"}, {r.Software, descStrLen, "sw_desc"},
		{r.SerialNumber, serialNumLen, "serial_num"}, {r.Datapath, descStrLen, "dp_desc"}} {
		if b, err = appendCString(b, f.s, f.n, f.what); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (r *DescReply) decode(b []byte) error {
	if err := expectLen(b, 4*descStrLen+serialNumLen, "desc reply"); err != nil {
		return err
	}
	*r = DescReply{
		Manufacturer: cString(b[0:256]),
		Hardware:     cString(b[256:512]),
		Software:     cString(b[512:768]),
		SerialNumber: cString(b[768:800]),
		Datapath:     cString(b[800:1056]),
	}
	return nil
}

func (*DescReply) merge(MultipartReplyBody) error { return errNoMerge(MultipartDesc) }

func (r *FlowStatsReply) appendBody(b []byte) ([]byte, error) {
	for i := range r.Flows {
		f := &r.Flows[i]
		start := len(b)
		b = append(b, 0, 0, f.TableID, 0)
		b = be.AppendUint32(b, f.DurationSec)
		b = be.AppendUint32(b, f.DurationNsec)
		b = be.AppendUint16(b, f.Priority)
		b = be.AppendUint16(b, f.IdleTimeout)
		b = be.AppendUint16(b, f.HardTimeout)
		b = be.AppendUint16(b, uint16(f.Flags))
		b = pad4(b)
		b = be.AppendUint64(b, f.Cookie)
		b = be.AppendUint64(b, f.PacketCount)
		b = be.AppendUint64(b, f.ByteCount)
		var err error
		if b, err = f.Match.appendMatch(b); err != nil {
			return b, fmt.Errorf("flow %d: %w", i, err)
		}
		if b, err = appendInstructions(b, f.Instructions); err != nil {
			return b, fmt.Errorf("flow %d: %w", i, err)
		}
		if err := putLen16(b, start, start, "flow stats"); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (r *FlowStatsReply) decode(b []byte) error {
	flows, err := decodeList(b, 56, "flow", func(b []byte) (FlowStats, int, error) {
		n, err := entryLen(b, 0, 56)
		if err != nil {
			return FlowStats{}, 0, err
		}
		f := FlowStats{
			TableID:      b[2],
			DurationSec:  be.Uint32(b[4:]),
			DurationNsec: be.Uint32(b[8:]),
			Priority:     be.Uint16(b[12:]),
			IdleTimeout:  be.Uint16(b[14:]),
			HardTimeout:  be.Uint16(b[16:]),
			Flags:        FlowModFlags(be.Uint16(b[18:])),
			Cookie:       be.Uint64(b[24:]),
			PacketCount:  be.Uint64(b[32:]),
			ByteCount:    be.Uint64(b[40:]),
		}
		m, used, err := decodeMatch(b[48:n])
		if err != nil {
			return f, 0, err
		}
		f.Match = m
		if f.Instructions, err = decodeInstructions(b[48+used : n]); err != nil {
			return f, 0, err
		}
		return f, n, nil
	})
	r.Flows = flows
	return err
}

func (r *FlowStatsReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*FlowStatsReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Flows = append(r.Flows, n.Flows...)
	return nil
}

func (r *AggregateStatsReply) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, r.PacketCount)
	b = be.AppendUint64(b, r.ByteCount)
	return pad4(be.AppendUint32(b, r.FlowCount)), nil
}

func (r *AggregateStatsReply) decode(b []byte) error {
	if err := expectLen(b, 24, "aggregate reply"); err != nil {
		return err
	}
	*r = AggregateStatsReply{PacketCount: be.Uint64(b), ByteCount: be.Uint64(b[8:]), FlowCount: be.Uint32(b[16:])}
	return nil
}

func (*AggregateStatsReply) merge(MultipartReplyBody) error { return errNoMerge(MultipartAggregate) }

func (r *TableStatsReply) appendBody(b []byte) ([]byte, error) {
	for _, t := range r.Tables {
		b = append(b, t.TableID, 0, 0, 0)
		b = be.AppendUint32(b, t.ActiveCount)
		b = be.AppendUint64(b, t.LookupCount)
		b = be.AppendUint64(b, t.MatchedCount)
	}
	return b, nil
}

func (r *TableStatsReply) decode(b []byte) error {
	tables, err := decodeList(b, 24, "table", func(b []byte) (TableStats, int, error) {
		return TableStats{TableID: b[0], ActiveCount: be.Uint32(b[4:]), LookupCount: be.Uint64(b[8:]), MatchedCount: be.Uint64(b[16:])}, 24, nil
	})
	r.Tables = tables
	return err
}

func (r *TableStatsReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*TableStatsReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Tables = append(r.Tables, n.Tables...)
	return nil
}

func (r *PortStatsReply) appendBody(b []byte) ([]byte, error) {
	for _, p := range r.Ports {
		b = pad4(be.AppendUint32(b, p.PortNo))
		for _, v := range []uint64{p.RxPackets, p.TxPackets, p.RxBytes, p.TxBytes, p.RxDropped, p.TxDropped,
			p.RxErrors, p.TxErrors, p.RxFrameErr, p.RxOverErr, p.RxCRCErr, p.Collisions} {
			b = be.AppendUint64(b, v)
		}
		b = be.AppendUint32(b, p.DurationSec)
		b = be.AppendUint32(b, p.DurationNsec)
	}
	return b, nil
}

func (r *PortStatsReply) decode(b []byte) error {
	ports, err := decodeList(b, 112, "port stats", func(b []byte) (PortStats, int, error) {
		c := func(i int) uint64 { return be.Uint64(b[8+8*i:]) }
		return PortStats{
			PortNo: be.Uint32(b), RxPackets: c(0), TxPackets: c(1), RxBytes: c(2), TxBytes: c(3),
			RxDropped: c(4), TxDropped: c(5), RxErrors: c(6), TxErrors: c(7), RxFrameErr: c(8),
			RxOverErr: c(9), RxCRCErr: c(10), Collisions: c(11),
			DurationSec: be.Uint32(b[104:]), DurationNsec: be.Uint32(b[108:]),
		}, 112, nil
	})
	r.Ports = ports
	return err
}

func (r *PortStatsReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*PortStatsReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Ports = append(r.Ports, n.Ports...)
	return nil
}

func (r *QueueStatsReply) appendBody(b []byte) ([]byte, error) {
	for _, q := range r.Queues {
		b = be.AppendUint32(b, q.PortNo)
		b = be.AppendUint32(b, q.QueueID)
		b = be.AppendUint64(b, q.TxBytes)
		b = be.AppendUint64(b, q.TxPackets)
		b = be.AppendUint64(b, q.TxErrors)
		b = be.AppendUint32(b, q.DurationSec)
		b = be.AppendUint32(b, q.DurationNsec)
	}
	return b, nil
}

func (r *QueueStatsReply) decode(b []byte) error {
	queues, err := decodeList(b, 40, "queue stats", func(b []byte) (QueueStats, int, error) {
		return QueueStats{PortNo: be.Uint32(b), QueueID: be.Uint32(b[4:]), TxBytes: be.Uint64(b[8:]),
			TxPackets: be.Uint64(b[16:]), TxErrors: be.Uint64(b[24:]),
			DurationSec: be.Uint32(b[32:]), DurationNsec: be.Uint32(b[36:])}, 40, nil
	})
	r.Queues = queues
	return err
}

func (r *QueueStatsReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*QueueStatsReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Queues = append(r.Queues, n.Queues...)
	return nil
}

func (r *GroupStatsReply) appendBody(b []byte) ([]byte, error) {
	for _, g := range r.Groups {
		start := len(b)
		b = append(b, 0, 0, 0, 0)
		b = be.AppendUint32(b, g.GroupID)
		b = be.AppendUint32(b, g.RefCount)
		b = pad4(b)
		b = be.AppendUint64(b, g.PacketCount)
		b = be.AppendUint64(b, g.ByteCount)
		b = be.AppendUint32(b, g.DurationSec)
		b = be.AppendUint32(b, g.DurationNsec)
		for _, c := range g.Buckets {
			b = be.AppendUint64(b, c.PacketCount)
			b = be.AppendUint64(b, c.ByteCount)
		}
		if err := putLen16(b, start, start, "group stats"); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (r *GroupStatsReply) decode(b []byte) error {
	groups, err := decodeList(b, 40, "group stats", func(b []byte) (GroupStats, int, error) {
		n, err := entryLen(b, 0, 40)
		if err != nil {
			return GroupStats{}, 0, err
		}
		if (n-40)%16 != 0 {
			return GroupStats{}, 0, fmt.Errorf("%w: group stats length %d leaves a partial bucket counter", ErrBadLength, n)
		}
		g := GroupStats{GroupID: be.Uint32(b[4:]), RefCount: be.Uint32(b[8:]), PacketCount: be.Uint64(b[16:]),
			ByteCount: be.Uint64(b[24:]), DurationSec: be.Uint32(b[32:]), DurationNsec: be.Uint32(b[36:])}
		g.Buckets, _ = decodeList(b[40:n], 16, "bucket counter", func(b []byte) (BucketCounter, int, error) {
			return BucketCounter{be.Uint64(b), be.Uint64(b[8:])}, 16, nil
		})
		return g, n, nil
	})
	r.Groups = groups
	return err
}

func (r *GroupStatsReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*GroupStatsReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Groups = append(r.Groups, n.Groups...)
	return nil
}

func (r *GroupDescReply) appendBody(b []byte) ([]byte, error) {
	for i, g := range r.Groups {
		start := len(b)
		b = append(b, 0, 0, byte(g.GroupType), 0)
		b = be.AppendUint32(b, g.GroupID)
		var err error
		if b, err = appendBuckets(b, g.Buckets); err != nil {
			return b, fmt.Errorf("group %d: %w", i, err)
		}
		if err := putLen16(b, start, start, "group desc"); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (r *GroupDescReply) decode(b []byte) error {
	groups, err := decodeList(b, 8, "group desc", func(b []byte) (GroupDesc, int, error) {
		n, err := entryLen(b, 0, 8)
		if err != nil {
			return GroupDesc{}, 0, err
		}
		buckets, err := decodeBuckets(b[8:n])
		return GroupDesc{GroupType: GroupType(b[2]), GroupID: be.Uint32(b[4:]), Buckets: buckets}, n, err
	})
	r.Groups = groups
	return err
}

func (r *GroupDescReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*GroupDescReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Groups = append(r.Groups, n.Groups...)
	return nil
}

func (r *GroupFeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, r.Types)
	b = be.AppendUint32(b, r.Capabilities)
	for _, v := range r.MaxGroups {
		b = be.AppendUint32(b, v)
	}
	for _, v := range r.Actions {
		b = be.AppendUint32(b, v)
	}
	return b, nil
}

func (r *GroupFeaturesReply) decode(b []byte) error {
	if err := expectLen(b, 40, "group features reply"); err != nil {
		return err
	}
	w := func(i int) uint32 { return be.Uint32(b[4*i:]) }
	*r = GroupFeaturesReply{Types: w(0), Capabilities: w(1),
		MaxGroups: [4]uint32{w(2), w(3), w(4), w(5)}, Actions: [4]uint32{w(6), w(7), w(8), w(9)}}
	return nil
}

func (*GroupFeaturesReply) merge(MultipartReplyBody) error { return errNoMerge(MultipartGroupFeatures) }

func (r *MeterStatsReply) appendBody(b []byte) ([]byte, error) {
	for _, m := range r.Meters {
		start := len(b)
		b = be.AppendUint32(b, m.MeterID)
		b = append(b, 0, 0)
		b = appendZeros(b, 6)
		b = be.AppendUint32(b, m.FlowCount)
		b = be.AppendUint64(b, m.PacketInCount)
		b = be.AppendUint64(b, m.ByteInCount)
		b = be.AppendUint32(b, m.DurationSec)
		b = be.AppendUint32(b, m.DurationNsec)
		for _, s := range m.Bands {
			b = be.AppendUint64(b, s.PacketBandCount)
			b = be.AppendUint64(b, s.ByteBandCount)
		}
		if err := putLen16(b, start+4, start, "meter stats"); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (r *MeterStatsReply) decode(b []byte) error {
	meters, err := decodeList(b, 40, "meter stats", func(b []byte) (MeterStats, int, error) {
		n, err := entryLen(b, 4, 40)
		if err != nil {
			return MeterStats{}, 0, err
		}
		if (n-40)%16 != 0 {
			return MeterStats{}, 0, fmt.Errorf("%w: meter stats length %d leaves a partial band counter", ErrBadLength, n)
		}
		m := MeterStats{MeterID: be.Uint32(b), FlowCount: be.Uint32(b[12:]), PacketInCount: be.Uint64(b[16:]),
			ByteInCount: be.Uint64(b[24:]), DurationSec: be.Uint32(b[32:]), DurationNsec: be.Uint32(b[36:])}
		m.Bands, _ = decodeList(b[40:n], 16, "band counter", func(b []byte) (MeterBandStats, int, error) {
			return MeterBandStats{be.Uint64(b), be.Uint64(b[8:])}, 16, nil
		})
		return m, n, nil
	})
	r.Meters = meters
	return err
}

func (r *MeterStatsReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*MeterStatsReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Meters = append(r.Meters, n.Meters...)
	return nil
}

func (r *MeterConfigReply) appendBody(b []byte) ([]byte, error) {
	for i, m := range r.Meters {
		start := len(b)
		b = append(b, 0, 0)
		b = be.AppendUint16(b, uint16(m.Flags))
		b = be.AppendUint32(b, m.MeterID)
		var err error
		if b, err = appendBands(b, m.Bands); err != nil {
			return b, fmt.Errorf("meter %d: %w", i, err)
		}
		if err := putLen16(b, start, start, "meter config"); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (r *MeterConfigReply) decode(b []byte) error {
	meters, err := decodeList(b, 8, "meter config", func(b []byte) (MeterConfig, int, error) {
		n, err := entryLen(b, 0, 8)
		if err != nil {
			return MeterConfig{}, 0, err
		}
		bands, err := decodeBands(b[8:n])
		return MeterConfig{Flags: MeterFlags(be.Uint16(b[2:])), MeterID: be.Uint32(b[4:]), Bands: bands}, n, err
	})
	r.Meters = meters
	return err
}

func (r *MeterConfigReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*MeterConfigReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Meters = append(r.Meters, n.Meters...)
	return nil
}

func (r *MeterFeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, r.MaxMeter)
	b = be.AppendUint32(b, r.BandTypes)
	b = be.AppendUint32(b, r.Capabilities)
	return append(b, r.MaxBands, r.MaxColor, 0, 0), nil
}

func (r *MeterFeaturesReply) decode(b []byte) error {
	if err := expectLen(b, 16, "meter features reply"); err != nil {
		return err
	}
	*r = MeterFeaturesReply{MaxMeter: be.Uint32(b), BandTypes: be.Uint32(b[4:]), Capabilities: be.Uint32(b[8:]),
		MaxBands: b[12], MaxColor: b[13]}
	return nil
}

func (*MeterFeaturesReply) merge(MultipartReplyBody) error { return errNoMerge(MultipartMeterFeatures) }

func (r *TableFeaturesReply) appendBody(b []byte) ([]byte, error) { return append(b, r.Data...), nil }
func (r *TableFeaturesReply) decode(b []byte) error               { r.Data = cloneBytes(b); return nil }
func (r *TableFeaturesReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*TableFeaturesReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Data = append(r.Data, n.Data...)
	return nil
}

func (r *PortDescReply) appendBody(b []byte) ([]byte, error) {
	var err error
	for i := range r.Ports {
		if b, err = r.Ports[i].appendPort(b); err != nil {
			return b, fmt.Errorf("port %d: %w", i, err)
		}
	}
	return b, nil
}

func (r *PortDescReply) decode(b []byte) error {
	ports, err := decodeList(b, portLen, "port", func(b []byte) (Port, int, error) {
		p, err := decodePort(b)
		return p, portLen, err
	})
	r.Ports = ports
	return err
}

func (r *PortDescReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*PortDescReply)
	if !ok {
		return errMergeType(r, next)
	}
	r.Ports = append(r.Ports, n.Ports...)
	return nil
}

func (r *ExperimenterMultipartReply) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, r.Experimenter)
	b = be.AppendUint32(b, r.ExpType)
	return append(b, r.Data...), nil
}

func (r *ExperimenterMultipartReply) decode(b []byte) error {
	if len(b) < 8 {
		return short("experimenter multipart", 8, len(b))
	}
	*r = ExperimenterMultipartReply{Experimenter: be.Uint32(b), ExpType: be.Uint32(b[4:]), Data: cloneBytes(b[8:])}
	return nil
}

func (r *ExperimenterMultipartReply) merge(next MultipartReplyBody) error {
	n, ok := next.(*ExperimenterMultipartReply)
	if !ok {
		return errMergeType(r, next)
	}
	if r.Data == nil && r.Experimenter == 0 {
		r.Experimenter, r.ExpType = n.Experimenter, n.ExpType
	}
	r.Data = append(r.Data, n.Data...)
	return nil
}
