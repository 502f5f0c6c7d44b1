package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFileName bounds a restored file's name, in bytes.
const maxFileName = 128

// SafeFileName turns a file name from the wire (an FTP path, an HTTP
// Content-Disposition or URL segment) into one safe to store a restored
// file under: the last path element only, letters, digits and a few marks
// kept and everything else '_', no leading dots or spaces, at most 128
// bytes cut at a rune boundary. It may be empty.
func SafeFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError:
			b.WriteByte('_')
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+()=,@~ ", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(strings.TrimSpace(b.String()), ". ")
	for len(s) > maxFileName {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
