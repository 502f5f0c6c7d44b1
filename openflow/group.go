package openflow

import (
	"fmt"
	"strconv"
)

// Group ids with a special meaning.
const (
	GroupMax uint32 = 0xffffff00
	GroupAll uint32 = 0xfffffffc // all groups, in deletes and stats
	GroupAny uint32 = 0xffffffff // wildcard / none
)

// GroupModCommand is ofp_group_mod_command.
type GroupModCommand uint16

// Group mod commands.
const (
	GroupAdd    GroupModCommand = 0
	GroupModify GroupModCommand = 1
	GroupDelete GroupModCommand = 2
)

func (c GroupModCommand) String() string {
	switch c {
	case GroupAdd:
		return "ADD"
	case GroupModify:
		return "MOD"
	case GroupDelete:
		return "DEL"
	}
	return "command" + strconv.Itoa(int(c))
}

// GroupType is ofp_group_type.
type GroupType uint8

// Group types.
const (
	GroupTypeAll          GroupType = 0 // every bucket (multicast, mirror to several)
	GroupTypeSelect       GroupType = 1 // one bucket, chosen by weight (load sharing)
	GroupTypeIndirect     GroupType = 2 // exactly one bucket
	GroupTypeFastFailover GroupType = 3 // first live bucket
)

func (t GroupType) String() string {
	switch t {
	case GroupTypeAll:
		return "all"
	case GroupTypeSelect:
		return "select"
	case GroupTypeIndirect:
		return "indirect"
	case GroupTypeFastFailover:
		return "ff"
	}
	return "type" + strconv.Itoa(int(t))
}

// Bucket is ofp_bucket. Weight is for select groups; WatchPort and
// WatchGroup decide liveness in fast-failover groups and must be PortAny
// and GroupAny otherwise (NewBucket sets them).
type Bucket struct {
	Weight     uint16
	WatchPort  uint32
	WatchGroup uint32
	Actions    []Action
}

// NewBucket returns a bucket with the given weight and no watch.
func NewBucket(weight uint16, actions ...Action) Bucket {
	return Bucket{Weight: weight, WatchPort: PortAny, WatchGroup: GroupAny, Actions: actions}
}

// NewFailoverBucket returns a fast-failover bucket that is live while
// watchPort is up.
func NewFailoverBucket(watchPort uint32, actions ...Action) Bucket {
	return Bucket{WatchPort: watchPort, WatchGroup: GroupAny, Actions: actions}
}

func appendBuckets(b []byte, buckets []Bucket) ([]byte, error) {
	for i, bk := range buckets {
		start := len(b)
		b = append(b, 0, 0)
		b = be.AppendUint16(b, bk.Weight)
		b = be.AppendUint32(b, bk.WatchPort)
		b = be.AppendUint32(b, bk.WatchGroup)
		b = pad4(b)
		var err error
		if b, err = appendActions(b, bk.Actions); err != nil {
			return b[:start], fmt.Errorf("bucket %d: %w", i, err)
		}
		if err := putLen16(b, start, start, "bucket"); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

func decodeBuckets(b []byte) ([]Bucket, error) {
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]Bucket, 0, min(len(b)/16, 16))
	for i := 0; len(b) > 0; i++ {
		if len(b) < 16 {
			return nil, short(fmt.Sprintf("bucket %d", i), 16, len(b))
		}
		n := int(be.Uint16(b))
		if n < 16 || n%8 != 0 || n > len(b) {
			return nil, fmt.Errorf("%w: bucket %d length %d with %d bytes left", ErrBadLength, i, n, len(b))
		}
		acts, err := decodeActions(b[16:n])
		if err != nil {
			return nil, fmt.Errorf("bucket %d: %w", i, err)
		}
		out = append(out, Bucket{Weight: be.Uint16(b[2:]), WatchPort: be.Uint32(b[4:]), WatchGroup: be.Uint32(b[8:]), Actions: acts})
		b = b[n:]
	}
	return out, nil
}

// GroupMod (OFPT_GROUP_MOD) adds, changes or removes a group.
type GroupMod struct {
	Command   GroupModCommand
	GroupType GroupType
	GroupID   uint32
	Buckets   []Bucket
}

// Type implements Message.
func (*GroupMod) Type() MsgType { return TypeGroupMod }

// AppendBody implements Message.
func (m *GroupMod) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint16(b, uint16(m.Command))
	b = append(b, byte(m.GroupType), 0)
	b = be.AppendUint32(b, m.GroupID)
	return appendBuckets(b, m.Buckets)
}

// UnmarshalBody implements Message.
func (m *GroupMod) UnmarshalBody(body []byte) error {
	if len(body) < 8 {
		return short("group mod", 8, len(body))
	}
	buckets, err := decodeBuckets(body[8:])
	if err != nil {
		return err
	}
	*m = GroupMod{Command: GroupModCommand(be.Uint16(body)), GroupType: GroupType(body[2]), GroupID: be.Uint32(body[4:]), Buckets: buckets}
	return nil
}
