package openflow

import (
	"fmt"
	"strconv"
)

// Meter ids with a special meaning.
const (
	MeterMax        uint32 = 0xffff0000
	MeterSlowpath   uint32 = 0xfffffffd
	MeterController uint32 = 0xfffffffe
	MeterAll        uint32 = 0xffffffff
)

// MeterModCommand is ofp_meter_mod_command.
type MeterModCommand uint16

// Meter mod commands.
const (
	MeterAdd    MeterModCommand = 0
	MeterModify MeterModCommand = 1
	MeterDelete MeterModCommand = 2
)

func (c MeterModCommand) String() string {
	switch c {
	case MeterAdd:
		return "ADD"
	case MeterModify:
		return "MOD"
	case MeterDelete:
		return "DEL"
	}
	return "command" + strconv.Itoa(int(c))
}

// MeterFlags is ofp_meter_flags.
type MeterFlags uint16

// Meter flags.
const (
	MeterFlagKbps  MeterFlags = 1 << 0
	MeterFlagPktps MeterFlags = 1 << 1
	MeterFlagBurst MeterFlags = 1 << 2
	MeterFlagStats MeterFlags = 1 << 3
)

func (f MeterFlags) String() string {
	return flagString(uint32(f), []string{"kbps", "pktps", "burst", "stats"})
}

// MeterBandType is ofp_meter_band_type.
type MeterBandType uint16

// Meter band types.
const (
	MeterBandDrop         MeterBandType = 1
	MeterBandDSCPRemark   MeterBandType = 2
	MeterBandExperimenter MeterBandType = 0xffff
)

func (t MeterBandType) String() string {
	switch t {
	case MeterBandDrop:
		return "drop"
	case MeterBandDSCPRemark:
		return "dscp_remark"
	case MeterBandExperimenter:
		return "experimenter"
	}
	return "band" + strconv.Itoa(int(t))
}

// MeterBand is one band of a meter. PrecLevel is for DSCP remark bands,
// Experimenter and Data for experimenter bands.
type MeterBand struct {
	Type         MeterBandType
	Rate         uint32
	BurstSize    uint32
	PrecLevel    uint8
	Experimenter uint32
	Data         []byte
}

func appendBands(b []byte, bands []MeterBand) ([]byte, error) {
	for i, band := range bands {
		start := len(b)
		b = be.AppendUint16(b, uint16(band.Type))
		b = append(b, 0, 0)
		b = be.AppendUint32(b, band.Rate)
		b = be.AppendUint32(b, band.BurstSize)
		switch band.Type {
		case MeterBandDrop:
			b = pad4(b)
		case MeterBandDSCPRemark:
			b = append(b, band.PrecLevel, 0, 0, 0)
		case MeterBandExperimenter:
			b = be.AppendUint32(b, band.Experimenter)
			b = append(b, band.Data...)
			b = appendZeros(b, pad8(len(b)-start)-(len(b)-start))
		default:
			return b[:start], fmt.Errorf("%w: meter band %d has unknown type %d", ErrInvalid, i, band.Type)
		}
		if err := putLen16(b, start+2, start, "meter band"); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

func decodeBands(b []byte) ([]MeterBand, error) {
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]MeterBand, 0, min(len(b)/16, 16))
	for i := 0; len(b) > 0; i++ {
		if len(b) < 16 {
			return nil, short(fmt.Sprintf("meter band %d", i), 16, len(b))
		}
		t, n := MeterBandType(be.Uint16(b)), int(be.Uint16(b[2:]))
		if n < 16 || n > len(b) || (t != MeterBandExperimenter && n != 16) {
			return nil, fmt.Errorf("%w: meter band %d (%s) length %d with %d bytes left", ErrBadLength, i, t, n, len(b))
		}
		band := MeterBand{Type: t, Rate: be.Uint32(b[4:]), BurstSize: be.Uint32(b[8:])}
		switch t {
		case MeterBandDrop:
		case MeterBandDSCPRemark:
			band.PrecLevel = b[12]
		case MeterBandExperimenter:
			band.Experimenter = be.Uint32(b[12:])
			band.Data = cloneBytes(b[16:n])
		default:
			return nil, fmt.Errorf("%w: meter band %d type %d", ErrUnknownType, i, uint16(t))
		}
		out = append(out, band)
		b = b[n:]
	}
	return out, nil
}

// MeterMod (OFPT_METER_MOD) adds, changes or removes a meter.
type MeterMod struct {
	Command MeterModCommand
	Flags   MeterFlags
	MeterID uint32
	Bands   []MeterBand
}

// Type implements Message.
func (*MeterMod) Type() MsgType { return TypeMeterMod }

// AppendBody implements Message.
func (m *MeterMod) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint16(b, uint16(m.Command))
	b = be.AppendUint16(b, uint16(m.Flags))
	b = be.AppendUint32(b, m.MeterID)
	return appendBands(b, m.Bands)
}

// UnmarshalBody implements Message.
func (m *MeterMod) UnmarshalBody(body []byte) error {
	if len(body) < 8 {
		return short("meter mod", 8, len(body))
	}
	bands, err := decodeBands(body[8:])
	if err != nil {
		return err
	}
	*m = MeterMod{Command: MeterModCommand(be.Uint16(body)), Flags: MeterFlags(be.Uint16(body[2:])), MeterID: be.Uint32(body[4:]), Bands: bands}
	return nil
}
