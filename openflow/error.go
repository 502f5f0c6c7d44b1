package openflow

import (
	"fmt"
	"strconv"
)

// ErrorType is ofp_error_msg.type.
type ErrorType uint16

// Error types (ofp_error_type).
const (
	ErrTypeHelloFailed         ErrorType = 0
	ErrTypeBadRequest          ErrorType = 1
	ErrTypeBadAction           ErrorType = 2
	ErrTypeBadInstruction      ErrorType = 3
	ErrTypeBadMatch            ErrorType = 4
	ErrTypeFlowModFailed       ErrorType = 5
	ErrTypeGroupModFailed      ErrorType = 6
	ErrTypePortModFailed       ErrorType = 7
	ErrTypeTableModFailed      ErrorType = 8
	ErrTypeQueueOpFailed       ErrorType = 9
	ErrTypeSwitchConfigFailed  ErrorType = 10
	ErrTypeRoleRequestFailed   ErrorType = 11
	ErrTypeMeterModFailed      ErrorType = 12
	ErrTypeTableFeaturesFailed ErrorType = 13
	ErrTypeExperimenter        ErrorType = 0xffff
)

var errorTypeNames = [...]string{
	"OFPET_HELLO_FAILED",
	"OFPET_BAD_REQUEST",
	"OFPET_BAD_ACTION",
	"OFPET_BAD_INSTRUCTION",
	"OFPET_BAD_MATCH",
	"OFPET_FLOW_MOD_FAILED",
	"OFPET_GROUP_MOD_FAILED",
	"OFPET_PORT_MOD_FAILED",
	"OFPET_TABLE_MOD_FAILED",
	"OFPET_QUEUE_OP_FAILED",
	"OFPET_SWITCH_CONFIG_FAILED",
	"OFPET_ROLE_REQUEST_FAILED",
	"OFPET_METER_MOD_FAILED",
	"OFPET_TABLE_FEATURES_FAILED",
}

func (t ErrorType) String() string {
	if int(t) < len(errorTypeNames) {
		return errorTypeNames[t]
	}
	if t == ErrTypeExperimenter {
		return "OFPET_EXPERIMENTER"
	}
	return "OFPET_" + strconv.Itoa(int(t))
}

// ErrorCode names one error: the type in the high 16 bits, the code in the
// low 16. It is itself an error, so errors.Is(err, FlowModFailedTableFull)
// tells whether a switch reported that condition.
type ErrorCode uint32

// MakeErrorCode combines a type and a code.
func MakeErrorCode(t ErrorType, code uint16) ErrorCode { return ErrorCode(t)<<16 | ErrorCode(code) }

// ErrType is the error type part.
func (c ErrorCode) ErrType() ErrorType { return ErrorType(c >> 16) }

// Code is the code part, as on the wire.
func (c ErrorCode) Code() uint16 { return uint16(c) }

func (c ErrorCode) String() string {
	t := c.ErrType()
	if int(t) < len(errorCodeNames) && int(c.Code()) < len(errorCodeNames[t].codes) {
		return errorCodeNames[t].prefix + "_" + errorCodeNames[t].codes[c.Code()]
	}
	return t.String() + "/" + strconv.Itoa(int(c.Code()))
}

// Error implements error; it is the code's name, e.g. OFPBRC_BAD_TYPE.
func (c ErrorCode) Error() string { return c.String() }

// Error codes of every OpenFlow 1.3 error type (code 0 is the shifted type
// alone).
const (
	HelloFailedIncompatible ErrorCode = ErrorCode(ErrTypeHelloFailed) << 16
	HelloFailedEPerm        ErrorCode = ErrorCode(ErrTypeHelloFailed)<<16 | 1

	BadRequestBadVersion              ErrorCode = ErrorCode(ErrTypeBadRequest) << 16
	BadRequestBadType                 ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 1
	BadRequestBadMultipart            ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 2
	BadRequestBadExperimenter         ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 3
	BadRequestBadExpType              ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 4
	BadRequestEPerm                   ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 5
	BadRequestBadLen                  ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 6
	BadRequestBufferEmpty             ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 7
	BadRequestBufferUnknown           ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 8
	BadRequestBadTableID              ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 9
	BadRequestIsSlave                 ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 10
	BadRequestBadPort                 ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 11
	BadRequestBadPacket               ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 12
	BadRequestMultipartBufferOverflow ErrorCode = ErrorCode(ErrTypeBadRequest)<<16 | 13

	BadActionBadType           ErrorCode = ErrorCode(ErrTypeBadAction) << 16
	BadActionBadLen            ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 1
	BadActionBadExperimenter   ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 2
	BadActionBadExpType        ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 3
	BadActionBadOutPort        ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 4
	BadActionBadArgument       ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 5
	BadActionEPerm             ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 6
	BadActionTooMany           ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 7
	BadActionBadQueue          ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 8
	BadActionBadOutGroup       ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 9
	BadActionMatchInconsistent ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 10
	BadActionUnsupportedOrder  ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 11
	BadActionBadTag            ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 12
	BadActionBadSetType        ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 13
	BadActionBadSetLen         ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 14
	BadActionBadSetArgument    ErrorCode = ErrorCode(ErrTypeBadAction)<<16 | 15

	BadInstructionUnknownInst       ErrorCode = ErrorCode(ErrTypeBadInstruction) << 16
	BadInstructionUnsupInst         ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 1
	BadInstructionBadTableID        ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 2
	BadInstructionUnsupMetadata     ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 3
	BadInstructionUnsupMetadataMask ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 4
	BadInstructionBadExperimenter   ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 5
	BadInstructionBadExpType        ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 6
	BadInstructionBadLen            ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 7
	BadInstructionEPerm             ErrorCode = ErrorCode(ErrTypeBadInstruction)<<16 | 8

	BadMatchBadType       ErrorCode = ErrorCode(ErrTypeBadMatch) << 16
	BadMatchBadLen        ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 1
	BadMatchBadTag        ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 2
	BadMatchBadDLAddrMask ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 3
	BadMatchBadNWAddrMask ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 4
	BadMatchBadWildcards  ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 5
	BadMatchBadField      ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 6
	BadMatchBadValue      ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 7
	BadMatchBadMask       ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 8
	BadMatchBadPrereq     ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 9
	BadMatchDupField      ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 10
	BadMatchEPerm         ErrorCode = ErrorCode(ErrTypeBadMatch)<<16 | 11

	FlowModFailedUnknown    ErrorCode = ErrorCode(ErrTypeFlowModFailed) << 16
	FlowModFailedTableFull  ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 1
	FlowModFailedBadTableID ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 2
	FlowModFailedOverlap    ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 3
	FlowModFailedEPerm      ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 4
	FlowModFailedBadTimeout ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 5
	FlowModFailedBadCommand ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 6
	FlowModFailedBadFlags   ErrorCode = ErrorCode(ErrTypeFlowModFailed)<<16 | 7

	GroupModFailedGroupExists         ErrorCode = ErrorCode(ErrTypeGroupModFailed) << 16
	GroupModFailedInvalidGroup        ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 1
	GroupModFailedWeightUnsupported   ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 2
	GroupModFailedOutOfGroups         ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 3
	GroupModFailedOutOfBuckets        ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 4
	GroupModFailedChainingUnsupported ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 5
	GroupModFailedWatchUnsupported    ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 6
	GroupModFailedLoop                ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 7
	GroupModFailedUnknownGroup        ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 8
	GroupModFailedChainedGroup        ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 9
	GroupModFailedBadType             ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 10
	GroupModFailedBadCommand          ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 11
	GroupModFailedBadBucket           ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 12
	GroupModFailedBadWatch            ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 13
	GroupModFailedEPerm               ErrorCode = ErrorCode(ErrTypeGroupModFailed)<<16 | 14

	PortModFailedBadPort      ErrorCode = ErrorCode(ErrTypePortModFailed) << 16
	PortModFailedBadHWAddr    ErrorCode = ErrorCode(ErrTypePortModFailed)<<16 | 1
	PortModFailedBadConfig    ErrorCode = ErrorCode(ErrTypePortModFailed)<<16 | 2
	PortModFailedBadAdvertise ErrorCode = ErrorCode(ErrTypePortModFailed)<<16 | 3
	PortModFailedEPerm        ErrorCode = ErrorCode(ErrTypePortModFailed)<<16 | 4

	TableModFailedBadTable  ErrorCode = ErrorCode(ErrTypeTableModFailed) << 16
	TableModFailedBadConfig ErrorCode = ErrorCode(ErrTypeTableModFailed)<<16 | 1
	TableModFailedEPerm     ErrorCode = ErrorCode(ErrTypeTableModFailed)<<16 | 2

	QueueOpFailedBadPort  ErrorCode = ErrorCode(ErrTypeQueueOpFailed) << 16
	QueueOpFailedBadQueue ErrorCode = ErrorCode(ErrTypeQueueOpFailed)<<16 | 1
	QueueOpFailedEPerm    ErrorCode = ErrorCode(ErrTypeQueueOpFailed)<<16 | 2

	SwitchConfigFailedBadFlags ErrorCode = ErrorCode(ErrTypeSwitchConfigFailed) << 16
	SwitchConfigFailedBadLen   ErrorCode = ErrorCode(ErrTypeSwitchConfigFailed)<<16 | 1
	SwitchConfigFailedEPerm    ErrorCode = ErrorCode(ErrTypeSwitchConfigFailed)<<16 | 2

	RoleRequestFailedStale   ErrorCode = ErrorCode(ErrTypeRoleRequestFailed) << 16
	RoleRequestFailedUnsup   ErrorCode = ErrorCode(ErrTypeRoleRequestFailed)<<16 | 1
	RoleRequestFailedBadRole ErrorCode = ErrorCode(ErrTypeRoleRequestFailed)<<16 | 2

	MeterModFailedUnknown      ErrorCode = ErrorCode(ErrTypeMeterModFailed) << 16
	MeterModFailedMeterExists  ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 1
	MeterModFailedInvalidMeter ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 2
	MeterModFailedUnknownMeter ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 3
	MeterModFailedBadCommand   ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 4
	MeterModFailedBadFlags     ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 5
	MeterModFailedBadRate      ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 6
	MeterModFailedBadBurst     ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 7
	MeterModFailedBadBand      ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 8
	MeterModFailedBadBandValue ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 9
	MeterModFailedOutOfMeters  ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 10
	MeterModFailedOutOfBands   ErrorCode = ErrorCode(ErrTypeMeterModFailed)<<16 | 11

	TableFeaturesFailedBadTable    ErrorCode = ErrorCode(ErrTypeTableFeaturesFailed) << 16
	TableFeaturesFailedBadMetadata ErrorCode = ErrorCode(ErrTypeTableFeaturesFailed)<<16 | 1
	TableFeaturesFailedBadType     ErrorCode = ErrorCode(ErrTypeTableFeaturesFailed)<<16 | 2
	TableFeaturesFailedBadLen      ErrorCode = ErrorCode(ErrTypeTableFeaturesFailed)<<16 | 3
	TableFeaturesFailedBadArgument ErrorCode = ErrorCode(ErrTypeTableFeaturesFailed)<<16 | 4
	TableFeaturesFailedEPerm       ErrorCode = ErrorCode(ErrTypeTableFeaturesFailed)<<16 | 5
)

var errorCodeNames = [...]struct {
	prefix string
	codes  []string
}{
	{"OFPHFC", []string{"INCOMPATIBLE", "EPERM"}},
	{"OFPBRC", []string{"BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW"}},
	{"OFPBAC", []string{"BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"}},
	{"OFPBIC", []string{"UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA", "UNSUP_METADATA_MASK", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_LEN", "EPERM"}},
	{"OFPBMC", []string{"BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK", "BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM"}},
	{"OFPFMFC", []string{"UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS"}},
	{"OFPGMFC", []string{"GROUP_EXISTS", "INVALID_GROUP", "WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS", "OUT_OF_BUCKETS", "CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP", "CHAINED_GROUP", "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM"}},
	{"OFPPMFC", []string{"BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE", "EPERM"}},
	{"OFPTMFC", []string{"BAD_TABLE", "BAD_CONFIG", "EPERM"}},
	{"OFPQOFC", []string{"BAD_PORT", "BAD_QUEUE", "EPERM"}},
	{"OFPSCFC", []string{"BAD_FLAGS", "BAD_LEN", "EPERM"}},
	{"OFPRRFC", []string{"STALE", "UNSUP", "BAD_ROLE"}},
	{"OFPMMFC", []string{"UNKNOWN", "METER_EXISTS", "INVALID_METER", "UNKNOWN_METER", "BAD_COMMAND", "BAD_FLAGS", "BAD_RATE", "BAD_BURST", "BAD_BAND", "BAD_BAND_VALUE", "OUT_OF_METERS", "OUT_OF_BANDS"}},
	{"OFPTFFC", []string{"BAD_TABLE", "BAD_METADATA", "BAD_TYPE", "BAD_LEN", "BAD_ARGUMENT", "EPERM"}},
}

// allErrorCodes lists every named code (for tests and tools).
var allErrorCodes = []ErrorCode{
	HelloFailedIncompatible,
	HelloFailedEPerm,
	BadRequestBadVersion,
	BadRequestBadType,
	BadRequestBadMultipart,
	BadRequestBadExperimenter,
	BadRequestBadExpType,
	BadRequestEPerm,
	BadRequestBadLen,
	BadRequestBufferEmpty,
	BadRequestBufferUnknown,
	BadRequestBadTableID,
	BadRequestIsSlave,
	BadRequestBadPort,
	BadRequestBadPacket,
	BadRequestMultipartBufferOverflow,
	BadActionBadType,
	BadActionBadLen,
	BadActionBadExperimenter,
	BadActionBadExpType,
	BadActionBadOutPort,
	BadActionBadArgument,
	BadActionEPerm,
	BadActionTooMany,
	BadActionBadQueue,
	BadActionBadOutGroup,
	BadActionMatchInconsistent,
	BadActionUnsupportedOrder,
	BadActionBadTag,
	BadActionBadSetType,
	BadActionBadSetLen,
	BadActionBadSetArgument,
	BadInstructionUnknownInst,
	BadInstructionUnsupInst,
	BadInstructionBadTableID,
	BadInstructionUnsupMetadata,
	BadInstructionUnsupMetadataMask,
	BadInstructionBadExperimenter,
	BadInstructionBadExpType,
	BadInstructionBadLen,
	BadInstructionEPerm,
	BadMatchBadType,
	BadMatchBadLen,
	BadMatchBadTag,
	BadMatchBadDLAddrMask,
	BadMatchBadNWAddrMask,
	BadMatchBadWildcards,
	BadMatchBadField,
	BadMatchBadValue,
	BadMatchBadMask,
	BadMatchBadPrereq,
	BadMatchDupField,
	BadMatchEPerm,
	FlowModFailedUnknown,
	FlowModFailedTableFull,
	FlowModFailedBadTableID,
	FlowModFailedOverlap,
	FlowModFailedEPerm,
	FlowModFailedBadTimeout,
	FlowModFailedBadCommand,
	FlowModFailedBadFlags,
	GroupModFailedGroupExists,
	GroupModFailedInvalidGroup,
	GroupModFailedWeightUnsupported,
	GroupModFailedOutOfGroups,
	GroupModFailedOutOfBuckets,
	GroupModFailedChainingUnsupported,
	GroupModFailedWatchUnsupported,
	GroupModFailedLoop,
	GroupModFailedUnknownGroup,
	GroupModFailedChainedGroup,
	GroupModFailedBadType,
	GroupModFailedBadCommand,
	GroupModFailedBadBucket,
	GroupModFailedBadWatch,
	GroupModFailedEPerm,
	PortModFailedBadPort,
	PortModFailedBadHWAddr,
	PortModFailedBadConfig,
	PortModFailedBadAdvertise,
	PortModFailedEPerm,
	TableModFailedBadTable,
	TableModFailedBadConfig,
	TableModFailedEPerm,
	QueueOpFailedBadPort,
	QueueOpFailedBadQueue,
	QueueOpFailedEPerm,
	SwitchConfigFailedBadFlags,
	SwitchConfigFailedBadLen,
	SwitchConfigFailedEPerm,
	RoleRequestFailedStale,
	RoleRequestFailedUnsup,
	RoleRequestFailedBadRole,
	MeterModFailedUnknown,
	MeterModFailedMeterExists,
	MeterModFailedInvalidMeter,
	MeterModFailedUnknownMeter,
	MeterModFailedBadCommand,
	MeterModFailedBadFlags,
	MeterModFailedBadRate,
	MeterModFailedBadBurst,
	MeterModFailedBadBand,
	MeterModFailedBadBandValue,
	MeterModFailedOutOfMeters,
	MeterModFailedOutOfBands,
	TableFeaturesFailedBadTable,
	TableFeaturesFailedBadMetadata,
	TableFeaturesFailedBadType,
	TableFeaturesFailedBadLen,
	TableFeaturesFailedBadArgument,
	TableFeaturesFailedEPerm,
}

// Error (OFPT_ERROR) reports a failure. It is also a Go error: Conn
// returns it for a request the switch refused, and errors.Is(err, code)
// matches its Code.
type Error struct {
	// Code is type<<16|code. For OFPET_EXPERIMENTER errors the low half
	// holds exp_type.
	Code ErrorCode
	// Experimenter is the experimenter id of an OFPET_EXPERIMENTER error.
	Experimenter uint32
	// Data is at least 64 bytes of the offending request for most types,
	// or ASCII text for HELLO_FAILED.
	Data []byte
}

// NewError returns an ERROR message for code carrying data.
func NewError(code ErrorCode, data []byte) *Error { return &Error{Code: code, Data: data} }

// Type implements Message.
func (*Error) Type() MsgType { return TypeError }

// AppendBody implements Message.
func (e *Error) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint16(b, uint16(e.Code.ErrType()))
	b = be.AppendUint16(b, e.Code.Code())
	if e.Code.ErrType() == ErrTypeExperimenter {
		b = be.AppendUint32(b, e.Experimenter)
	}
	return append(b, e.Data...), nil
}

// UnmarshalBody implements Message.
func (e *Error) UnmarshalBody(body []byte) error {
	if len(body) < 4 {
		return short("error", 4, len(body))
	}
	*e = Error{Code: MakeErrorCode(ErrorType(be.Uint16(body)), be.Uint16(body[2:]))}
	body = body[4:]
	if e.Code.ErrType() == ErrTypeExperimenter {
		if len(body) < 4 {
			return short("experimenter error", 8, len(body)+4)
		}
		e.Experimenter = be.Uint32(body)
		body = body[4:]
	}
	e.Data = cloneBytes(body)
	return nil
}

// Offending returns the header of the request that caused the error, when
// Data holds one.
func (e *Error) Offending() (Header, bool) {
	if e.Code.ErrType() == ErrTypeHelloFailed {
		return Header{}, false
	}
	h, err := ParseHeader(e.Data)
	return h, err == nil
}

// Error implements error.
func (e *Error) Error() string {
	s := "openflow: switch reported " + e.Code.String()
	if e.Code.ErrType() == ErrTypeExperimenter {
		s += fmt.Sprintf(" (experimenter 0x%08x)", e.Experimenter)
	}
	if h, ok := e.Offending(); ok {
		return s + fmt.Sprintf(" for %s xid 0x%x", h.Type, h.XID)
	}
	if len(e.Data) > 0 {
		return s + fmt.Sprintf(": %q", cString(e.Data[:min(len(e.Data), 128)]))
	}
	return s
}

// Unwrap exposes the code, so errors.Is(err, BadRequestBadType) works.
func (e *Error) Unwrap() error { return e.Code }
