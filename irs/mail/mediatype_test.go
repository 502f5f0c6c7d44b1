package mail

import (
	"math/rand"
	"mime"
	"reflect"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime/v2/mediatype"
)

// checkPlainMediaType: where the plain media-type path answers (the value
// is plain and Go's parser takes it), enmime's parser gives the same.
func checkPlainMediaType(t *testing.T, v string) bool {
	t.Helper()
	if !plainMediaType(v) {
		return false
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return false
	}
	wmt, wparams, winvalid, werr := mediatype.Parse(v)
	if werr != nil || mt != wmt || !reflect.DeepEqual(params, wparams) || winvalid != nil {
		t.Errorf("%q: plain %q %v; enmime %q %v %v %v", v, mt, params, wmt, wparams, winvalid, werr)
	}
	return true
}

func TestPlainMediaType(t *testing.T) {
	for _, c := range []struct {
		in    string
		plain bool
	}{
		{"text/plain", true},
		{"TEXT/Plain; Charset=UTF-8", true},
		{`text/plain; charset="us-ascii"`, true},
		{`multipart/mixed; boundary="----=_Part_1_2.3"`, true},
		{`multipart/alternative;	boundary="b1 with space"; charset=x`, true},
		{`attachment; filename="report 2026.pdf"`, true},
		{`inline`, true},
		{`application/pdf; name="a.pdf"; x-name=b`, true},
		{`application/pdf; x-name=b; name="a.pdf"`, false}, // enmime drops name
		{`text/plain; charset=utf-8; CHARSET=latin1`, false},
		{`text/plain; charset=utf-8;`, false},
		{`text/plain ; charset=utf-8`, false},
		{`text/plain; charset = utf-8`, false},
		{`text/plain; name*=utf-8''a%20b`, false},
		{`text/plain; name="=?utf-8?q?a?="`, false},
		{`text/plain; name="a;b"`, false},
		{`text/plain; name="a\"b"`, false},
		{`text/plain; name=a/b`, false},
		{`text/plain charset=utf-8`, false},
		{`text/`, false},
		{`text/html; charset=utf-8<br>`, false},
		{"", false},
	} {
		if got := checkPlainMediaType(t, c.in); got != c.plain {
			t.Errorf("%q: plain path answered: %v, want %v", c.in, got, c.plain)
		}
	}
}

// FuzzPlainMediaType: the plain media-type path gives enmime's result.
func FuzzPlainMediaType(f *testing.F) {
	for _, s := range []string{"text/plain; charset=us-ascii", `multipart/mixed; boundary="x y"`, `application/octet-stream; name="a.bin"; x=y`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkPlainMediaType(t, v)
	})
}

// TestPlainMediaTypeRandom puts values together from the pieces media
// types are made of, near misses included, and checks every one the
// plain path takes; it also checks that it takes a fair share.
func TestPlainMediaTypeRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	heads := []string{"text/plain", "Multipart/Mixed", "attachment", "inline", "application/x-y.z+w", "text/", "a/b/c", ""}
	pieces := []string{";", "; ", ";\t", " ", "charset", "Charset", "name", "filename", "x-name", "boundary", "=", "utf-8", `"a b"`,
		`"x=y"`, `"q;r"`, `"`, "a/b", "*", "=?", "<", ">", "(c)", "\\", "é", "0", "--=_x"}
	taken := 0
	for range 20000 {
		var b strings.Builder
		b.WriteString(heads[rng.Intn(len(heads))])
		for range rng.Intn(4) {
			if rng.Intn(3) > 0 {
				// A well-formed parameter, more often than not.
				b.WriteString("; " + pieces[4+rng.Intn(6)] + "=" + pieces[11+rng.Intn(4)])
				continue
			}
			for range 1 + rng.Intn(3) {
				b.WriteString(pieces[rng.Intn(len(pieces))])
			}
		}
		if checkPlainMediaType(t, b.String()) {
			taken++
		}
	}
	if taken < 2000 {
		t.Errorf("the plain path took %d of 20000 values; want at least 2000 (the test checks too little)", taken)
	}
}
