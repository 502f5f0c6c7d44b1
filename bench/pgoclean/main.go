// Command pgoclean prepares a CPU profile (pprof: a gzip-compressed
// protocol buffer) for use as cmd/sdnli/default.pgo: every absolute file
// name in it (the profiled binary's, source files') is cut to its base
// name, so that the committed profile names no directory of the machine it
// was taken on. Go's profile-guided optimisation finds functions by name
// and line offset, never by file name.
//
// Usage: pgoclean -i IN.pprof -o OUT.pgo
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

func main() {
	in := flag.String("i", "", "input profile (pprof)")
	out := flag.String("o", "", "output profile")
	flag.Parse()
	if *in == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "pgoclean:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	pb, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	cleaned, err := clean(pb)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(cleaned); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// stringTable is the number of the Profile message's string_table field
// (profile.proto): every name in a profile is one of its strings.
const stringTable = 6

var errTruncated = errors.New("profile truncated")

// clean copies the Profile message pb field by field, cutting the
// absolute paths among its strings to their base names.
func clean(pb []byte) ([]byte, error) {
	var out []byte
	for len(pb) > 0 {
		field := pb
		tag, n := binary.Uvarint(pb)
		if n <= 0 {
			return nil, errTruncated
		}
		pb = pb[n:]
		switch tag & 7 { // wire type
		case 0: // varint
			if _, n = binary.Uvarint(pb); n <= 0 {
				return nil, errTruncated
			}
			pb = pb[n:]
		case 1: // 64-bit
			if len(pb) < 8 {
				return nil, errTruncated
			}
			pb = pb[8:]
		case 5: // 32-bit
			if len(pb) < 4 {
				return nil, errTruncated
			}
			pb = pb[4:]
		case 2: // length-delimited
			l, n := binary.Uvarint(pb)
			if n <= 0 || l > uint64(len(pb)-n) {
				return nil, errTruncated
			}
			s := string(pb[n : n+int(l)])
			pb = pb[n+int(l):]
			if tag>>3 == stringTable && strings.HasPrefix(s, "/") {
				out = binary.AppendUvarint(out, tag)
				out = binary.AppendUvarint(out, uint64(len(path.Base(s))))
				out = append(out, path.Base(s)...)
				continue
			}
		default:
			return nil, fmt.Errorf("unknown wire type %d", tag&7)
		}
		out = append(out, field[:len(field)-len(pb)]...)
	}
	return out, nil
}
