package openflow

import (
	"errors"
	"testing"
)

// TestDecodeTruncated cuts every sample at every length (fixing up the
// header length) and requires an error or a clean decode, never a panic.
func TestDecodeTruncated(t *testing.T) {
	for _, s := range allSamples(t) {
		b := mustBytes(t, 1, s.msg)
		for n := HeaderLen; n < len(b); n++ {
			cut := append([]byte(nil), b[:n]...)
			be.PutUint16(cut[2:], uint16(n))
			Decode(cut) // must not panic
		}
		// The same with one byte too many.
		long := append(append([]byte(nil), b...), 0)
		be.PutUint16(long[2:], uint16(len(long)))
		Decode(long)
	}
}

func TestDecodeErrors(t *testing.T) {
	hdr := func(ty MsgType, body ...byte) []byte {
		b := append([]byte{Version, byte(ty), 0, 0, 0, 0, 0, 9}, body...)
		be.PutUint16(b[2:], uint16(len(b)))
		return b
	}
	zeros := func(n int) []byte { return make([]byte, n) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"short header", []byte{4, 0, 0}, ErrShort},
		{"length mismatch", []byte{4, 2, 0, 9, 0, 0, 0, 1}, ErrBadLength},
		{"flow mod in 1.0", []byte{1, 14, 0, 8, 0, 0, 0, 1}, ErrBadVersion},
		{"unknown type", hdr(99), ErrUnknownType},
		{"barrier with body", hdr(TypeBarrierRequest, 1), ErrBadLength},
		{"features reply short", hdr(TypeFeaturesReply, zeros(10)...), ErrBadLength},
		{"error too short", hdr(TypeError, 0, 1), ErrShort},
		{"experimenter error short", hdr(TypeError, 0xff, 0xff, 0, 1, 0, 0), ErrShort},
		{"port status short", hdr(TypePortStatus, zeros(20)...), ErrBadLength},
		{"packet out actions past end", hdr(TypePacketOut, append(zeros(8), 0, 64, 0, 0, 0, 0, 0, 0)...), ErrBadLength},
		{"action length zero", hdr(TypePacketOut, append(zeros(8), append([]byte{0, 8, 0, 0, 0, 0, 0, 0}, zeros(8)...)...)...), ErrBadLength},
		{"action output wrong size", hdr(TypePacketOut, append(zeros(8), append([]byte{0, 8, 0, 0, 0, 0, 0, 0}, 0, 0, 0, 8, 0, 0, 0, 0)...)...), ErrBadLength},
		{"unknown action", hdr(TypePacketOut, append(zeros(8), append([]byte{0, 8, 0, 0, 0, 0, 0, 0}, 0, 99, 0, 8, 0, 0, 0, 0)...)...), ErrUnknownType},
		{"flow mod short", hdr(TypeFlowMod, zeros(20)...), ErrShort},
		{"flow mod bad instruction length", hdr(TypeFlowMod, append(zeros(40), 0, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 12, 0, 0, 0, 0)...), ErrBadLength},
		{"flow mod unknown instruction", hdr(TypeFlowMod, append(zeros(40), 0, 1, 0, 4, 0, 0, 0, 0, 0, 9, 0, 8, 0, 0, 0, 0)...), ErrUnknownType},
		{"group mod bucket too short", hdr(TypeGroupMod, append(zeros(8), 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)...), ErrBadLength},
		{"meter band unknown", hdr(TypeMeterMod, append(zeros(8), 0, 9, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)...), ErrUnknownType},
		{"meter band length zero", hdr(TypeMeterMod, append(zeros(8), 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)...), ErrBadLength},
		{"multipart unknown type", hdr(TypeMultipartReply, 0, 77, 0, 0, 0, 0, 0, 0), ErrUnknownType},
		{"flow stats entry length zero", hdr(TypeMultipartReply, append([]byte{0, 1, 0, 0, 0, 0, 0, 0}, zeros(56)...)...), ErrBadLength},
		{"port desc partial port", hdr(TypeMultipartReply, append([]byte{0, 13, 0, 0, 0, 0, 0, 0}, zeros(70)...)...), ErrShort},
		{"desc reply short", hdr(TypeMultipartReply, append([]byte{0, 0, 0, 0, 0, 0, 0, 0}, zeros(100)...)...), ErrBadLength},
		{"group stats partial counter", hdr(TypeMultipartReply, append([]byte{0, 6, 0, 0, 0, 0, 0, 0, 0, 48}, zeros(46)...)...), ErrBadLength},
		{"queue property length zero", hdr(TypeQueueGetConfigReply, append(zeros(8), append([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 0}, zeros(8)...)...)...), ErrBadLength},
		{"role wrong size", hdr(TypeRoleRequest, zeros(8)...), ErrBadLength},
		{"async wrong size", hdr(TypeSetAsync, zeros(20)...), ErrBadLength},
		{"set field past action", hdr(TypePacketOut, append(zeros(8), append([]byte{0, 8, 0, 0, 0, 0, 0, 0}, 0, 25, 0, 8, 0x80, 0, 0x0a, 0x02)...)...), ErrBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m, err := Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Decode(% x) = %v, %v; want error %v", tt.in, m, err, tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	big := NewFlowMod(FlowAdd)
	acts := make([]Action, 5000)
	for i := range acts {
		acts[i] = Output(uint32(i))
	}
	big.Instructions = []Instruction{ApplyActions(acts...)}
	badField := NewFlowMod(FlowAdd)
	badField.Match = Match{Fields: []OXM{{Class: OXMClassOpenFlowBasic, Field: OXMTCPDst, Value: []byte{1}}}}
	tests := []struct {
		name string
		msg  Message
		want error
	}{
		{"too long", big, ErrTooLong},
		{"bad match field", badField, ErrInvalid},
		{"masked set field", NewPacketOut(nil, SetField(MetadataMasked(1, 1))), ErrInvalid},
		{"nil action", NewPacketOut(nil, nil), ErrInvalid},
		{"nil instruction", &FlowMod{Instructions: []Instruction{nil}}, ErrInvalid},
		{"bad set field", NewPacketOut(nil, SetField(VLANVID(9000))), ErrInvalid},
		{"long port name", &PortStatus{Port: Port{Name: "a-very-long-port-name"}}, ErrInvalid},
		{"bad mac", &PortMod{HWAddr: []byte{1, 2}}, ErrInvalid},
		{"multipart without body", &MultipartRequest{}, ErrInvalid},
		{"unknown band", &MeterMod{Bands: []MeterBand{{Type: 7}}}, ErrInvalid},
		{"long desc", &MultipartReply{Body: &DescReply{SerialNumber: "0123456789012345678901234567890123456789"}}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("keep")
			b, err := AppendMessage(prefix, 1, tt.msg)
			if !errors.Is(err, tt.want) {
				t.Errorf("AppendMessage error = %v, want %v", err, tt.want)
			}
			if string(b) != "keep" {
				t.Errorf("AppendMessage left %d bytes after a failure, want the input unchanged", len(b)-4)
			}
		})
	}
}
