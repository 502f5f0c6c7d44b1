package imap

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// bodyItem is a FETCH response item that carries message content:
// RFC822, RFC822.HEADER, RFC822.TEXT, BODY[section]<origin>,
// BINARY[section]<origin>.
type bodyItem struct {
	name    string // as the server wrote it, e.g. BODY[HEADER.FIELDS (FROM)]<0>
	section string // e.g. HEADER.FIELDS (FROM), "" for the whole message
	origin  int    // -1: none
	binary  bool
	rfc822  bool // the RFC822 forms
}

// whole reports whether the item is the whole message as stored: BODY[]
// or RFC822 without an origin.
func (b bodyItem) whole() bool { return !b.binary && b.section == "" && b.origin < 0 }

// headerish reports whether the part starts with a message or MIME
// header, whose fields can be decoded.
func (b bodyItem) headerish() bool {
	s := strings.ToUpper(b.section)
	if i := strings.IndexAny(s, " ("); i >= 0 {
		s = s[:i]
	}
	switch {
	case b.binary:
		return false
	case s == "" && b.origin == 0:
		return true // the first bytes of the whole message
	case s == "HEADER" || strings.HasSuffix(s, ".HEADER") || strings.HasSuffix(s, "HEADER.FIELDS") ||
		strings.HasSuffix(s, "HEADER.FIELDS.NOT") || strings.HasSuffix(s, "MIME"):
		return b.origin <= 0
	}
	return false
}

// artifactName names a partial part's file: part-<section>[-<origin>].txt
// with the field list left out, "part-HEADER.txt" for a header.
func (b bodyItem) artifactName() (name, contentType string) {
	s := strings.ToUpper(b.section)
	if i := strings.IndexAny(s, " ("); i >= 0 {
		s = s[:i]
	}
	var base strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			base.WriteRune(c)
		}
	}
	n := base.String()
	switch {
	case b.binary:
		n = "BINARY-" + n
	case n == "":
		n = "BODY"
	}
	if b.origin >= 0 {
		n += "-" + strconv.Itoa(b.origin)
	}
	switch {
	case b.headerish() && b.section != "":
		contentType = "text/rfc822-headers"
	case strings.HasSuffix(s, "TEXT"):
		contentType = "text/plain"
	default:
		contentType = "application/octet-stream"
	}
	ext := ".txt"
	if b.binary || contentType == "application/octet-stream" {
		ext = ".bin"
	}
	return "part-" + n + ext, contentType
}

// parseBodyItem recognises a FETCH item name that carries content.
func parseBodyItem(name []byte) (bodyItem, bool) {
	it := bodyItem{name: mailproto.Clean(name, maxText), origin: -1}
	up := strings.ToUpper(string(name))
	switch up {
	case "RFC822":
		it.rfc822 = true
		return it, true
	case "RFC822.HEADER":
		it.rfc822, it.section = true, "HEADER"
		return it, true
	case "RFC822.TEXT":
		it.rfc822, it.section = true, "TEXT"
		return it, true
	}
	var rest string
	switch {
	case strings.HasPrefix(up, "BODY["):
		rest = string(name[len("BODY["):])
	case strings.HasPrefix(up, "BODY.PEEK["):
		rest = string(name[len("BODY.PEEK["):])
	case strings.HasPrefix(up, "BINARY["):
		it.binary = true
		rest = string(name[len("BINARY["):])
	case strings.HasPrefix(up, "BINARY.PEEK["):
		it.binary = true
		rest = string(name[len("BINARY.PEEK["):])
	default:
		return it, false
	}
	end := strings.LastIndexByte(rest, ']')
	if end < 0 {
		return it, false
	}
	it.section = mailproto.Clean([]byte(rest[:end]), maxText)
	if o := rest[end+1:]; len(o) > 2 && o[0] == '<' && o[len(o)-1] == '>' {
		if n, ok := mailproto.Atoi([]byte(o[1 : len(o)-1])); ok {
			it.origin = n
		}
	}
	return it, true
}

// scanFetch walks the item list of a FETCH response's text (literals as
// \x00) and calls f (if not nil) with each item name and its raw value.
// When the text ends with the \x00 of a literal that is an item's value
// (not nested in a list), it returns that item's name.
func scanFetch(skel []byte, f func(name, value []byte)) ([]byte, bool) {
	i := bytes.IndexByte(skel, '(')
	if i < 0 {
		return nil, false
	}
	i++
	n := len(skel)
	for i < n {
		for i < n && skel[i] == ' ' {
			i++
		}
		if i >= n || skel[i] == ')' {
			return nil, false
		}
		// The item name, with its bracketed section and origin.
		j, brack := i, 0
		for j < n {
			c := skel[j]
			if c == '[' {
				brack++
			} else if c == ']' && brack > 0 {
				brack--
			} else if brack == 0 && (c == ' ' || c == ')' || c == 0) {
				break
			}
			j++
		}
		name := skel[i:j]
		i = j
		if i < n && skel[i] == ' ' {
			i++
		}
		if i >= n {
			return nil, false
		}
		start := i
		switch c := skel[i]; {
		case c == 0:
			if i == n-1 {
				return name, true
			}
			i++
		case c == '(':
			depth, quote, esc := 0, false, false
			for i < n {
				c := skel[i]
				switch {
				case quote && esc:
					esc = false
				case quote && c == '\\':
					esc = true
				case quote && c == '"':
					quote = false
				case quote:
				case c == '"':
					quote = true
				case c == '(':
					depth++
				case c == ')':
					depth--
				}
				i++
				if depth == 0 {
					break
				}
			}
			if depth != 0 {
				return nil, false // the literal is inside this list
			}
		case c == '"':
			i++
			for esc := false; i < n; i++ {
				if esc {
					esc = false
				} else if skel[i] == '\\' {
					esc = true
				} else if skel[i] == '"' {
					i++
					break
				}
			}
		default:
			for i < n && skel[i] != ' ' && skel[i] != ')' {
				i++
			}
		}
		if f != nil {
			f(name, skel[start:i])
		}
	}
	return nil, false
}

// lastItem returns the last item name of a line piece that ends before
// a literal ("... BODY[HEADER.FIELDS (FROM)]<0> "): the word before the
// marker, brackets and their contents included.
func lastItem(b []byte) []byte {
	end := len(b)
	for end > 0 && b[end-1] == ' ' {
		end--
	}
	i := end
	if i > 0 && b[i-1] == '>' {
		for i > 0 && b[i-1] != '<' {
			i--
		}
		if i > 0 {
			i--
		}
	}
	if i > 0 && b[i-1] == ']' {
		depth := 0
		for i > 0 {
			i--
			if b[i] == ']' {
				depth++
			} else if b[i] == '[' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
	}
	for i > 0 && b[i-1] != ' ' && b[i-1] != '(' {
		i--
	}
	return b[i:end]
}

// fetchAttrs reads the message attributes of a FETCH response.
type fetchAttrs struct {
	uid          string
	flags        string
	internalDate string
	size         string
	modseq       string
}

func readAttrs(skel []byte) fetchAttrs {
	var a fetchAttrs
	scanFetch(skel, func(name, value []byte) {
		switch strings.ToUpper(string(name)) {
		case "UID":
			a.uid = mailproto.Clean(value, 20)
		case "FLAGS":
			a.flags = mailproto.Clean(value, maxText)
		case "INTERNALDATE":
			a.internalDate = unquote(string(value))
		case "RFC822.SIZE":
			a.size = mailproto.Clean(value, 20)
		case "MODSEQ":
			a.modseq = mailproto.Clean(bytes.Trim(value, "()"), 24)
		}
	})
	return a
}

// part is a message, or a part of one, that a FETCH response carried,
// restored when its literal ended.
type part struct {
	item    bodyItem
	msg     *mail.Message  // decoded (whole message, or a header)
	art     event.Artifact // the eml (whole) or the part's file
	size    int64
	trunc   bool
	gap     bool
	endLost bool
	lit8    bool
	err     error
	first   time.Time
	last    time.Time
}

func (pt *part) mem() int {
	if pt.msg == nil {
		return 0
	}
	return len(pt.msg.Text)
}

// restorePart restores a FETCH body literal as soon as it ends: a whole
// message through irs/mail (eml and attachments), anything else as a file
// artifact with its header decoded where it has one. Only the decoded
// form waits for the end of the response.
func (p *conn) restorePart(r *response, c *capture, cut bool) {
	pt := &part{item: c.item, size: c.n, trunc: c.truncated(), gap: c.gap, endLost: cut, lit8: c.lit8, first: c.start, last: c.last}
	if pt.item.whole() {
		pt.msg, pt.err = mail.Restore(p.env, c.buf)
		pt.art = pt.msg.EML
	} else {
		name, ctype := pt.item.artifactName()
		pt.art, pt.err = p.env.SaveArtifact(event.KindFile, name, ctype, c.buf)
		if pt.item.headerish() {
			pt.msg = mail.DecodeHeader(c.buf)
		}
	}
	c.buf = nil
	if len(r.parts) >= maxParts {
		// A response with many parts: this one goes out now, without
		// the attributes that may follow it.
		p.emitPart(r, pt, readAttrs(r.skel))
		return
	}
	r.parts = append(r.parts, pt)
}

// fetchDone emits the parts a FETCH response carried, with the message's
// attributes (UID, flags...) from the whole response.
func (p *conn) fetchDone(r *response, ts time.Time) {
	if len(r.parts) == 0 {
		return
	}
	attrs := readAttrs(r.skel)
	for _, pt := range r.parts {
		p.emitPart(r, pt, attrs)
	}
	r.parts = nil
}

// fetchCommand is the FETCH command a FETCH response most likely answers:
// the latest one still pending.
func (p *conn) fetchCommand() *command {
	for i := len(p.order) - 1; i >= 0; i-- {
		if p.order[i].kind == kFetch {
			return p.order[i]
		}
	}
	return nil
}
