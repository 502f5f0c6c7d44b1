package mail

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// A text attachment in another charset is evidence: it must be saved as
// the bytes that were attached, not converted to UTF-8.
func TestTextAttachmentKeepsItsBytes(t *testing.T) {
	orig := []byte("caf\xe9 cr\xe8me br\xfbl\xe9e\r\n") // ISO-8859-1
	raw := crlf(
		"From: a@example.org", "To: b@example.org", "Subject: menu", "MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="zz"`, "",
		"--zz", "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable", "",
		"Voici le menu, tr=E8s bon.",
		"--zz", "Content-Type: text/plain; charset=iso-8859-1", `Content-Disposition: attachment; filename="menu.txt"`,
		"Content-Transfer-Encoding: base64", "", b64(orig),
		"--zz--")
	m, err := Restore(parsertest.NewEnv(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("got %d attachments, want 1", len(m.Attachments))
	}
	a := m.Attachments[0]
	if a.SHA256 != sha(orig) || a.Size != int64(len(orig)) {
		t.Errorf("attachment %s: %d bytes %s, want the original %d bytes %s", a.Name, a.Size, a.SHA256, len(orig), sha(orig))
	}
	if a.ContentType != "text/plain" {
		t.Errorf("attachment content type %q, want text/plain", a.ContentType)
	}
	if m.Text != "Voici le menu, très bon." {
		t.Errorf("Text = %q, want the body converted from ISO-8859-1", m.Text)
	}
}

func TestTextToUTF8(t *testing.T) {
	tests := []struct {
		name, in, charset, want string
	}{
		{"utf-8 declared", "h\xc3\xa9", "utf-8", "hé"},
		{"latin-1 declared", "h\xe9", "ISO-8859-1", "hé"},
		{"gb2312 declared", "\xc4\xe3\xba\xc3", "gb2312", "你好"},
		{"undeclared utf-8", "h\xc3\xa9", "", "hé"},
		{"undeclared 8-bit read as windows-1252", "h\xe9 \x80", "", "hé €"},
		{"unknown charset, 8-bit", "h\xe9", "x-unknown", "hé"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := textToUTF8([]byte(tc.in), tc.charset); got != tc.want {
				t.Errorf("textToUTF8(%q, %q) = %q, want %q", tc.in, tc.charset, got, tc.want)
			}
		})
	}
}
