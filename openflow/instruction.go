package openflow

import (
	"fmt"
	"strconv"
)

// InstructionType is ofp_instruction_type.
type InstructionType uint16

// Instruction types of OpenFlow 1.3.
const (
	InstGotoTable     InstructionType = 1
	InstWriteMetadata InstructionType = 2
	InstWriteActions  InstructionType = 3
	InstApplyActions  InstructionType = 4
	InstClearActions  InstructionType = 5
	InstMeter         InstructionType = 6
	InstExperimenter  InstructionType = 0xffff
)

var instructionNames = map[InstructionType]string{
	InstGotoTable: "OFPIT_GOTO_TABLE", InstWriteMetadata: "OFPIT_WRITE_METADATA",
	InstWriteActions: "OFPIT_WRITE_ACTIONS", InstApplyActions: "OFPIT_APPLY_ACTIONS",
	InstClearActions: "OFPIT_CLEAR_ACTIONS", InstMeter: "OFPIT_METER", InstExperimenter: "OFPIT_EXPERIMENTER",
}

func (t InstructionType) String() string {
	if s, ok := instructionNames[t]; ok {
		return s
	}
	return "OFPIT_" + strconv.Itoa(int(t))
}

// Instruction is one flow instruction; the concrete types are the
// Instruction* structs. String gives ovs-ofctl syntax.
type Instruction interface {
	InstructionType() InstructionType
	String() string
	appendBody(b []byte) ([]byte, error) // after type and length
}

// InstructionGotoTable (OFPIT_GOTO_TABLE).
type InstructionGotoTable struct{ TableID uint8 }

// InstructionWriteMetadata (OFPIT_WRITE_METADATA).
type InstructionWriteMetadata struct{ Metadata, Mask uint64 }

// InstructionWriteActions (OFPIT_WRITE_ACTIONS) merges into the action set.
type InstructionWriteActions struct{ Actions []Action }

// InstructionApplyActions (OFPIT_APPLY_ACTIONS) runs actions at once.
type InstructionApplyActions struct{ Actions []Action }

// InstructionClearActions (OFPIT_CLEAR_ACTIONS) empties the action set.
type InstructionClearActions struct{}

// InstructionMeter (OFPIT_METER) sends the packet through a meter.
type InstructionMeter struct{ MeterID uint32 }

// InstructionExperimenter (OFPIT_EXPERIMENTER); Data follows the
// experimenter id, padding included.
type InstructionExperimenter struct {
	Experimenter uint32
	Data         []byte
}

// GotoTable returns OFPIT_GOTO_TABLE.
func GotoTable(id uint8) InstructionGotoTable { return InstructionGotoTable{id} }

// WriteMetadata returns OFPIT_WRITE_METADATA.
func WriteMetadata(v, mask uint64) InstructionWriteMetadata {
	return InstructionWriteMetadata{v, mask}
}

// WriteActions returns OFPIT_WRITE_ACTIONS.
func WriteActions(a ...Action) InstructionWriteActions { return InstructionWriteActions{a} }

// ApplyActions returns OFPIT_APPLY_ACTIONS.
func ApplyActions(a ...Action) InstructionApplyActions { return InstructionApplyActions{a} }

// ClearActions returns OFPIT_CLEAR_ACTIONS.
func ClearActions() InstructionClearActions { return InstructionClearActions{} }

// Meter returns OFPIT_METER.
func Meter(id uint32) InstructionMeter { return InstructionMeter{id} }

// InstructionType implementations.
func (InstructionGotoTable) InstructionType() InstructionType     { return InstGotoTable }
func (InstructionWriteMetadata) InstructionType() InstructionType { return InstWriteMetadata }
func (InstructionWriteActions) InstructionType() InstructionType  { return InstWriteActions }
func (InstructionApplyActions) InstructionType() InstructionType  { return InstApplyActions }
func (InstructionClearActions) InstructionType() InstructionType  { return InstClearActions }
func (InstructionMeter) InstructionType() InstructionType         { return InstMeter }
func (InstructionExperimenter) InstructionType() InstructionType  { return InstExperimenter }

func (i InstructionGotoTable) appendBody(b []byte) ([]byte, error) {
	return append(b, i.TableID, 0, 0, 0), nil
}

func (i InstructionWriteMetadata) appendBody(b []byte) ([]byte, error) {
	b = pad4(b)
	b = be.AppendUint64(b, i.Metadata)
	return be.AppendUint64(b, i.Mask), nil
}

func (i InstructionWriteActions) appendBody(b []byte) ([]byte, error) {
	return appendActions(pad4(b), i.Actions)
}

func (i InstructionApplyActions) appendBody(b []byte) ([]byte, error) {
	return appendActions(pad4(b), i.Actions)
}

func (InstructionClearActions) appendBody(b []byte) ([]byte, error) { return pad4(b), nil }

func (i InstructionMeter) appendBody(b []byte) ([]byte, error) {
	return be.AppendUint32(b, i.MeterID), nil
}

func (i InstructionExperimenter) appendBody(b []byte) ([]byte, error) {
	return append(be.AppendUint32(b, i.Experimenter), i.Data...), nil
}

// AppendInstructions appends an instruction list.
func AppendInstructions(b []byte, insts []Instruction) ([]byte, error) {
	b, err := appendInstructions(b, insts)
	if err != nil {
		return b, fmt.Errorf("openflow: %w", err)
	}
	return b, nil
}

func appendInstructions(b []byte, insts []Instruction) ([]byte, error) {
	for i, in := range insts {
		if in == nil {
			return b, fmt.Errorf("%w: instruction %d is nil", ErrInvalid, i)
		}
		start := len(b)
		b = be.AppendUint16(b, uint16(in.InstructionType()))
		b = append(b, 0, 0)
		var err error
		if b, err = in.appendBody(b); err != nil {
			return b[:start], fmt.Errorf("instruction %d (%s): %w", i, in.InstructionType(), err)
		}
		b = appendZeros(b, pad8(len(b)-start)-(len(b)-start))
		if err := putLen16(b, start+2, start, "instruction"); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

// DecodeInstructions decodes a whole instruction list.
func DecodeInstructions(b []byte) ([]Instruction, error) {
	in, err := decodeInstructions(b)
	if err != nil {
		return nil, fmt.Errorf("openflow: %w", err)
	}
	return in, nil
}

func decodeInstructions(b []byte) ([]Instruction, error) {
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]Instruction, 0, min(len(b)/8, 8))
	for i := 0; len(b) > 0; i++ {
		if len(b) < 4 {
			return nil, short(fmt.Sprintf("instruction %d header", i), 4, len(b))
		}
		t, n := InstructionType(be.Uint16(b)), int(be.Uint16(b[2:]))
		if n < 8 || n%8 != 0 || n > len(b) {
			return nil, fmt.Errorf("%w: instruction %d (%s) length %d with %d bytes left", ErrBadLength, i, t, n, len(b))
		}
		in, err := decodeInstruction(t, b[4:n])
		if err != nil {
			return nil, fmt.Errorf("instruction %d (%s): %w", i, t, err)
		}
		out = append(out, in)
		b = b[n:]
	}
	return out, nil
}

func decodeInstruction(t InstructionType, body []byte) (Instruction, error) {
	fixed := func(n int) error {
		if len(body) != n {
			return fmt.Errorf("%w: body is %d bytes, want %d", ErrBadLength, len(body), n)
		}
		return nil
	}
	switch t {
	case InstGotoTable:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return InstructionGotoTable{body[0]}, nil
	case InstWriteMetadata:
		if err := fixed(20); err != nil {
			return nil, err
		}
		return InstructionWriteMetadata{be.Uint64(body[4:]), be.Uint64(body[12:])}, nil
	case InstWriteActions, InstApplyActions:
		acts, err := decodeActions(body[4:])
		if err != nil {
			return nil, err
		}
		if t == InstWriteActions {
			return InstructionWriteActions{acts}, nil
		}
		return InstructionApplyActions{acts}, nil
	case InstClearActions:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return InstructionClearActions{}, nil
	case InstMeter:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return InstructionMeter{be.Uint32(body)}, nil
	case InstExperimenter:
		return InstructionExperimenter{Experimenter: be.Uint32(body), Data: cloneBytes(body[4:])}, nil
	}
	return nil, fmt.Errorf("%w: instruction type %d", ErrUnknownType, uint16(t))
}
