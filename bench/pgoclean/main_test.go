package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// stringsOf lists a Profile message's string table.
func stringsOf(t *testing.T, pb []byte) []string {
	t.Helper()
	var out []string
	for len(pb) > 0 {
		tag, n := binary.Uvarint(pb)
		pb = pb[n:]
		switch tag & 7 {
		case 0:
			_, n = binary.Uvarint(pb)
			pb = pb[n:]
		case 1:
			pb = pb[8:]
		case 5:
			pb = pb[4:]
		case 2:
			l, n := binary.Uvarint(pb)
			if tag>>3 == stringTable {
				out = append(out, string(pb[n:n+int(l)]))
			}
			pb = pb[n+int(l):]
		default:
			t.Fatalf("wire type %d", tag&7)
		}
	}
	return out
}

// A real CPU profile of this process: cleaned, it still parses, and its
// strings are the same but for absolute paths, now their base names.
func TestClean(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); {
		_ = strings.Repeat("x", 1000)
	}
	pprof.StopCPUProfile()
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := clean(pb)
	if err != nil {
		t.Fatal(err)
	}
	before, after := stringsOf(t, pb), stringsOf(t, got)
	if len(before) != len(after) || len(before) < 10 {
		t.Fatalf("%d strings before, %d after", len(before), len(after))
	}
	paths := 0
	for i, s := range before {
		want := s
		if strings.HasPrefix(s, "/") {
			paths++
			want = s[strings.LastIndexByte(s, '/')+1:]
		}
		if after[i] != want {
			t.Errorf("string %d: %q became %q; want %q", i, s, after[i], want)
		}
	}
	if paths == 0 {
		t.Error("the profile held no absolute path: nothing was tested")
	}
	if _, err := clean(pb[:len(pb)-1]); err == nil {
		t.Error("a truncated profile gave no error")
	}
}
