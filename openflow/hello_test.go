package openflow

import (
	"errors"
	"reflect"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name    string
		version uint8
		hello   *Hello
		ok      bool
	}{
		{"bitmap with 1.3", 6, NewHello(1, 4, 6), true},
		{"bitmap 1.3 only", 4, NewHello(4), true},
		{"bitmap without 1.3", 6, NewHello(1, 5, 6), false},
		{"bitmap of 1.0 only", 1, NewHello(1), false},
		{"no bitmap, 1.3", 4, &Hello{}, true},
		{"no bitmap, newer", 6, &Hello{}, true},
		{"no bitmap, 1.0", 1, &Hello{}, false},
		{"undecodable body, 1.0", 1, nil, false},
		{"undecodable body, 1.5", 6, nil, true},
		{"empty bitmap", 4, &Hello{Elements: []HelloElement{{Type: HelloElemVersionBitmap}}}, false},
		{"unknown element ignored", 4, &Hello{Elements: []HelloElement{{Type: 9, Data: []byte{1, 2, 3, 4}}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Negotiate(tt.version, tt.hello)
			if tt.ok && (err != nil || v != Version) {
				t.Errorf("Negotiate = %d, %v; want %d", v, err, Version)
			}
			if !tt.ok && !errors.Is(err, HelloFailedIncompatible) {
				t.Errorf("Negotiate error = %v, want HelloFailedIncompatible", err)
			}
		})
	}
}

func TestHelloWire(t *testing.T) {
	// OpenFlow 1.3 HELLO advertising 1.0 and 1.3 (bitmap 0x12), as Open
	// vSwitch sends it: element length 8, already aligned.
	want := []byte{0x04, 0x00, 0x00, 0x10, 0, 0, 0, 1, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x12}
	got := mustBytes(t, 1, NewHello(1, 4))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewHello(1, 4) = % x, want % x", got, want)
	}
	// A plain 1.0-style hello without elements, and one whose padding is missing.
	for _, in := range [][]byte{
		{0x01, 0x00, 0x00, 0x08, 0, 0, 0, 1},
		{0x05, 0x00, 0x00, 0x0c, 0, 0, 0, 1, 0x00, 0x02, 0x00, 0x04},
	} {
		if _, _, err := Decode(in); err != nil {
			t.Errorf("Decode(% x): %v", in, err)
		}
	}
	if _, _, err := Decode([]byte{0x04, 0, 0, 0x0c, 0, 0, 0, 1, 0, 1, 0, 3}); !errors.Is(err, ErrBadLength) {
		t.Errorf("element length 3: error = %v, want ErrBadLength", err)
	}
	if _, _, err := Decode([]byte{0x04, 0, 0, 0x0e, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0}); !errors.Is(err, ErrBadLength) {
		t.Errorf("bitmap of 2 bytes: error = %v, want ErrBadLength", err)
	}
}
