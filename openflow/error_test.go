package openflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorCodeNames(t *testing.T) {
	prefixes := map[ErrorType]string{
		ErrTypeHelloFailed: "OFPHFC_", ErrTypeBadRequest: "OFPBRC_", ErrTypeBadAction: "OFPBAC_",
		ErrTypeBadInstruction: "OFPBIC_", ErrTypeBadMatch: "OFPBMC_", ErrTypeFlowModFailed: "OFPFMFC_",
		ErrTypeGroupModFailed: "OFPGMFC_", ErrTypePortModFailed: "OFPPMFC_", ErrTypeTableModFailed: "OFPTMFC_",
		ErrTypeQueueOpFailed: "OFPQOFC_", ErrTypeSwitchConfigFailed: "OFPSCFC_", ErrTypeRoleRequestFailed: "OFPRRFC_",
		ErrTypeMeterModFailed: "OFPMMFC_", ErrTypeTableFeaturesFailed: "OFPTFFC_",
	}
	// Counts per type from the OpenFlow 1.3.5 specification.
	wantCounts := map[ErrorType]int{0: 2, 1: 14, 2: 16, 3: 9, 4: 12, 5: 8, 6: 15, 7: 5, 8: 3, 9: 3, 10: 3, 11: 3, 12: 12, 13: 6}
	counts := map[ErrorType]int{}
	names := map[string]bool{}
	for _, c := range allErrorCodes {
		counts[c.ErrType()]++
		s := c.String()
		if !strings.HasPrefix(s, prefixes[c.ErrType()]) {
			t.Errorf("%#x: String() = %q, want prefix %q", uint32(c), s, prefixes[c.ErrType()])
		}
		if names[s] {
			t.Errorf("duplicate name %q", s)
		}
		names[s] = true
		if int(c.Code()) != counts[c.ErrType()]-1 {
			t.Errorf("%s has code %d, want %d (codes are consecutive)", s, c.Code(), counts[c.ErrType()]-1)
		}
	}
	for ty, n := range wantCounts {
		if counts[ty] != n {
			t.Errorf("%s has %d codes, want %d", ty, counts[ty], n)
		}
	}
	tests := []struct {
		code ErrorCode
		want string
	}{
		{HelloFailedIncompatible, "OFPHFC_INCOMPATIBLE"},
		{BadRequestMultipartBufferOverflow, "OFPBRC_MULTIPART_BUFFER_OVERFLOW"},
		{BadActionBadSetArgument, "OFPBAC_BAD_SET_ARGUMENT"},
		{BadMatchBadDLAddrMask, "OFPBMC_BAD_DL_ADDR_MASK"},
		{FlowModFailedTableFull, "OFPFMFC_TABLE_FULL"},
		{GroupModFailedBadWatch, "OFPGMFC_BAD_WATCH"},
		{RoleRequestFailedStale, "OFPRRFC_STALE"},
		{MeterModFailedOutOfBands, "OFPMMFC_OUT_OF_BANDS"},
		{TableFeaturesFailedEPerm, "OFPTFFC_EPERM"},
		{MakeErrorCode(ErrTypeBadMatch, 99), "OFPET_BAD_MATCH/99"},
		{MakeErrorCode(ErrTypeExperimenter, 3), "OFPET_EXPERIMENTER/3"},
		{MakeErrorCode(77, 1), "OFPET_77/1"},
	}
	for _, tt := range tests {
		if got := tt.code.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorAsGoError(t *testing.T) {
	offending := mustBytes(t, 0x77, mirrorFlow(t))
	e := NewError(FlowModFailedTableFull, offending[:64])
	var err error = fmt.Errorf("install: %w", e)
	if !errors.Is(err, FlowModFailedTableFull) {
		t.Error("errors.Is(err, FlowModFailedTableFull) = false")
	}
	if errors.Is(err, FlowModFailedOverlap) {
		t.Error("errors.Is(err, FlowModFailedOverlap) = true")
	}
	var got *Error
	if !errors.As(err, &got) || got.Code != FlowModFailedTableFull {
		t.Fatalf("errors.As = %v", got)
	}
	h, ok := got.Offending()
	if !ok || h.Type != TypeFlowMod || h.XID != 0x77 {
		t.Errorf("Offending() = %+v, %v; want FLOW_MOD xid 0x77", h, ok)
	}
	if want := "openflow: switch reported OFPFMFC_TABLE_FULL for OFPT_FLOW_MOD xid 0x77"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	hello := NewError(HelloFailedIncompatible, []byte("we speak 1.0 only\x00"))
	if want := `openflow: switch reported OFPHFC_INCOMPATIBLE: "we speak 1.0 only"`; hello.Error() != want {
		t.Errorf("Error() = %q, want %q", hello.Error(), want)
	}
	exp := &Error{Code: MakeErrorCode(ErrTypeExperimenter, 1), Experimenter: 0x2320}
	if want := "openflow: switch reported OFPET_EXPERIMENTER/1 (experimenter 0x00002320)"; exp.Error() != want {
		t.Errorf("Error() = %q, want %q", exp.Error(), want)
	}
}
