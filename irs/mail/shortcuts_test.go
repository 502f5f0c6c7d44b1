package mail_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// differentialInputs are the messages the differential test decodes both
// ways: every captured message, the benchmarks' messages, the plain
// decoder's cases (plainCases), and cut and
// damaged variants of each (a body cut by a partial fetch, a header
// without its blank line, a message starting inside its header).
func differentialInputs(t *testing.T) []corpusMessage {
	in := []corpusMessage{{"plain", plainMessage()}, {"multipart", multipartMessage()}}
	in = append(in, corpus(t)...)
	for _, c := range plainCases() {
		in = append(in, corpusMessage{"plain decoder/" + c.name, []byte(c.raw)})
	}
	var out []corpusMessage
	for _, m := range in {
		out = append(out, m,
			corpusMessage{m.name + "/header", headerBlock(m.raw)},
			corpusMessage{m.name + "/half", m.raw[:len(m.raw)/2]},
			corpusMessage{m.name + "/lf", bytes.ReplaceAll(m.raw, []byte("\r\n"), []byte("\n"))})
		if i := bytes.IndexByte(m.raw, '\n'); i >= 0 {
			out = append(out, corpusMessage{m.name + "/from-second-line", m.raw[i+1:]})
		}
	}
	return out
}

// TestDecodingShortcuts: Restore and DecodeHeader give the same message
// (fields, anomalies, saved artifacts) with and without the shortcuts
// this package takes around enmime's own way, for every captured message
// and its variants.
func TestDecodingShortcuts(t *testing.T) {
	defer mail.SetReferenceDecoding(false)
	restore := func(raw []byte, reference bool) (*mail.Message, map[string][]byte, error) {
		mail.SetReferenceDecoding(reference)
		env := parsertest.NewEnv()
		m, err := mail.Restore(env, raw)
		return m, env.Files, err
	}
	header := func(raw []byte, reference bool) *mail.Message {
		mail.SetReferenceDecoding(reference)
		return mail.DecodeHeader(raw)
	}
	for _, m := range differentialInputs(t) {
		t.Run(m.name, func(t *testing.T) {
			want, wantFiles, wantErr := restore(m.raw, true)
			got, gotFiles, gotErr := restore(m.raw, false)
			if !mail.SameMessage(got, want) {
				t.Errorf("Restore:\ngot  %+v\nwant %+v (reference decoding)", got, want)
			}
			if !reflect.DeepEqual(gotFiles, wantFiles) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("Restore saved %d files (error %v); reference decoding saved %d (error %v)", len(gotFiles), gotErr, len(wantFiles), wantErr)
			}
			if got, want := header(m.raw, false), header(m.raw, true); !mail.SameMessage(got, want) {
				t.Errorf("DecodeHeader:\ngot  %+v\nwant %+v (reference decoding)", got, want)
			}
		})
	}
}
