package mail

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzRestore: no input makes Restore fail or panic, and the eml is
// always stored byte-exact.
func FuzzRestore(f *testing.F) {
	f.Add([]byte("Subject: =?gb2312?B?dGVzdCCy4srU?=\r\nFrom: a@b.example\r\n\r\nbody\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Disposition: attachment; filename*0*=utf-8''a%20; filename*1=b\r\nContent-Transfer-Encoding: base64\r\n\r\n!!\r\n--x"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9=\r\n--a--\r\n"))
	f.Add([]byte("no header at all\x00\xff"))
	// Clean mail, which the plain decoder takes: the fuzzer's changes
	// probe where its rules end.
	f.Add([]byte("Subject: =?utf-8?Q?a=C3=A9?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=3D1 \r\nsoft=\r\nend\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE\r\nRi0=\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"o\"\n\n--o\nContent-Type: multipart/related; boundary=i\n\n--i\nContent-Type: text/html\n\n<a href=\"http://x.example/\">x</a>\n--i--\n--o--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		// The decoding shortcuts change nothing (a differential check).
		m, env, err := restoreBothWays(t, raw, 1<<16)
		if err != nil {
			t.Fatalf("Restore: %v", err)
		}
		want := raw
		if len(want) > env.Opts.MaxArtifactBytes {
			want = want[:env.Opts.MaxArtifactBytes]
		}
		if !bytes.Equal(env.Files[m.EML.SHA256], want) {
			t.Fatalf("eml not stored byte-exact")
		}
		if len(m.Text) > MaxText || len(m.Anomalies) > maxAnomalies || len(m.Attachments) > maxAttachments {
			t.Fatalf("bounds exceeded: text %d anomalies %d attachments %d", len(m.Text), len(m.Anomalies), len(m.Attachments))
		}
		referenceDecoding = true
		refHdr := DecodeHeader(raw)
		referenceDecoding = false
		if hdr := DecodeHeader(raw); !sameMessage(hdr, refHdr) {
			t.Fatalf("DecodeHeader differs from the reference decoding:\n%+v\n%+v", hdr, refHdr)
		}
	})
}

// restoreBothWays restores raw (artifacts cut to maxArtifact bytes) with
// the decoding shortcuts and without, and fails t unless both give the
// same message and the same stored files.
func restoreBothWays(t *testing.T, raw []byte, maxArtifact int) (*Message, *parsertest.Env, error) {
	t.Helper()
	run := func() (*Message, *parsertest.Env, error) {
		env := parsertest.NewEnv()
		env.Opts.MaxArtifactBytes = maxArtifact
		m, err := Restore(env, raw)
		return m, env, err
	}
	m, env, err := run()
	referenceDecoding = true
	ref, refEnv, _ := run()
	referenceDecoding = false
	if !sameMessage(m, ref) || !reflect.DeepEqual(env.Files, refEnv.Files) {
		t.Fatalf("message %q: Restore differs from the reference decoding:\n%+v\n%+v", raw, m, ref)
	}
	return m, env, err
}

// sameMessage compares two decodings of one message. The order of
// anomalies is left out: enmime reports a media type's invalid
// parameters in map order; so are the anomalies themselves when the cap
// cut them (which of them were kept then depends on that order).
func sameMessage(a, b *Message) bool {
	x, y := *a, *b
	if len(x.Anomalies) >= maxAnomalies || len(y.Anomalies) >= maxAnomalies {
		x.Anomalies, y.Anomalies = nil, nil
	} else {
		x.Anomalies, y.Anomalies = slices.Sorted(slices.Values(x.Anomalies)), slices.Sorted(slices.Values(y.Anomalies))
	}
	return reflect.DeepEqual(x, y)
}

// FuzzDotDecoder: feeding whole and one byte at a time give the same
// message, end and findings (a differential check), within the caps.
func FuzzDotDecoder(f *testing.F) {
	f.Add([]byte("a\r\n..b\r\n.\r\nrest"), uint8(0))
	f.Add([]byte("x\n.\r\nMAIL FROM:<a@b>\r\n.\r\n"), uint8(1))
	f.Add([]byte("\r.\r\r\n.\n.\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		run := func(step int) (*DotDecoder, int, bool) {
			d := NewDotDecoder(256, 64)
			if mode&1 != 0 {
				d.StartMidLine()
			}
			used := 0
			for used < len(in) {
				end := len(in)
				if step > 0 && used+step < end {
					end = used + step
				}
				n, done := d.Feed(in[used:end])
				if n < 0 || n > end-used {
					t.Fatalf("Feed consumed %d of %d", n, end-used)
				}
				used += n
				if done {
					return d, used, true
				}
			}
			return d, used, false
		}
		a, na, da := run(0)
		b, nb, db := run(1)
		if na != nb || da != db || !bytes.Equal(a.Bytes(), b.Bytes()) || a.Size() != b.Size() ||
			a.LooseEnds != b.LooseEnds || a.NUL != b.NUL || a.LongLine != b.LongLine || a.Truncated != b.Truncated {
			t.Fatalf("whole and byte-wise feeding differ")
		}
		at1, raw1, ok1 := a.LooseEnd()
		at2, raw2, ok2 := b.LooseEnd()
		if at1 != at2 || ok1 != ok2 || !bytes.Equal(raw1, raw2) {
			t.Fatalf("loose end differs: %d %v / %d %v", at1, ok1, at2, ok2)
		}
		if a.Buffered() > 256+64 {
			t.Fatalf("decoder holds %d bytes", a.Buffered())
		}
	})
}
