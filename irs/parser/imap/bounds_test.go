package imap

import (
	"bytes"
	"compress/flate"
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// TestMemoryBounded feeds hostile streams in pieces and checks after every
// piece that the parser holds no more than memoryBound, and nothing after
// EndProcess.
func TestMemoryBounded(t *testing.T) {
	const limit = 1 << 16
	many := strings.Repeat
	zeros := deflated("a1 OK\r\n* 1 FETCH (BODY[] {2000000}\r\n" + many("\x00", 2000000) + ")\r\n")[0]
	tests := []struct {
		name string
		mid  bool
		segs []parsertest.Segment
	}{
		{"endless command line", false, []parsertest.Segment{C(many("A", 1<<20))}},
		{"endless response line", false, []parsertest.Segment{S("* OK " + many("x", 1<<20))}},
		{"endless line ending in a literal", false, []parsertest.Segment{C("a1 APPEND x " + many("y", 1<<20) + " {70000}\r\n" + many("m", 70000) + "\r\n")}},
		{"huge fetch literal", false, []parsertest.Segment{C("a1 FETCH 1 BODY[]\r\n"), S("* 1 FETCH (BODY[] {99999999}\r\n" + many("0123456789abcdef\r\n", 1<<16))}},
		{"huge append literal", false, []parsertest.Segment{C("a1 APPEND INBOX {99999999+}\r\n" + many("0123456789abcdef\r\n", 1<<16))}},
		{"many literals in one command", false, []parsertest.Segment{C("a1 SEARCH" + many(" TEXT {4+}\r\nabcd", 20000) + "\r\n")}},
		{"many parts in one response", false, []parsertest.Segment{C("a1 FETCH 1 (" + many("BODY[1] ", 40) + ")\r\n"),
			S("* 1 FETCH (" + many("BODY[1] {60000}\r\n"+many("p", 60000)+" ", 40) + ")\r\n")}},
		{"many messages in one append", false, []parsertest.Segment{C("a1 APPEND INBOX" + many(" {60000+}\r\n"+many("q", 60000), 40) + "\r\n")}},
		{"many pipelined commands", false, []parsertest.Segment{C(many("a NOOP\r\n", 1)), C(func() string {
			var b strings.Builder
			for i := 0; i < 6000; i++ {
				b.WriteString("t" + strconv.Itoa(i) + " NOOP\r\n")
			}
			return b.String()
		}())}},
		{"held bytes after STARTTLS without a response", false, []parsertest.Segment{C("a1 STARTTLS\r\n" + many("y", 1<<20))}},
		{"response injection", false, []parsertest.Segment{C("a1 STARTTLS\r\n"), S("a1 OK go\r\n" + many("* OK inj\r\n", 1<<16))}},
		// Held bytes that came out of the decompressor are re-read as
		// they are: feeding them back into it would deadlock.
		{"starttls held inside a compressed stream", false, []parsertest.Segment{C("a1 COMPRESS DEFLATE\r\n"), S("a1 OK go\r\n"),
			C(deflated("a5 STARTTLS\r\n" + many("j", 70000) + "\r\na6 NOOP\r\n")[0])}},
		{"decompressed zeros", false, []parsertest.Segment{C("a1 COMPRESS DEFLATE\r\n"), S("a1 OK go\r\n"), S(zeros)}},
		{"mid-session junk", true, []parsertest.Segment{C(many("junk without end ", 1<<16)), S(many("more junk {5}\r\n", 1<<16))}},
	}
	bound := memoryBound(limit)
	for _, tc := range tests {
		for _, step := range []int{1 << 12, 1447} {
			c := parsertest.Conn(143)
			c.MidStream = tc.mid
			env := parsertest.NewEnv()
			env.Opts.MaxArtifactBytes = limit
			p := Detector{}.New(c, env).(*conn)
			peak := 0
			for _, s := range tc.segs {
				for d := s.Data; len(d) > 0 && p.IsContinue(); {
					n := min(step, len(d))
					p.ProcessPacket(s.Dir, d[:n], c.Start)
					d = d[n:]
					peak = max(peak, p.buffered())
				}
			}
			if peak > bound {
				t.Errorf("%s (step %d): parser held %d bytes; bound %d", tc.name, step, peak, bound)
			}
			if len(p.order) > maxPending || len(p.sess.log) > maxLog || len(p.sess.capa) > maxList {
				t.Errorf("%s: lists beyond their caps: %d pending, %d logged, %d capabilities", tc.name, len(p.order), len(p.sess.log), len(p.sess.capa))
			}
			p.EndProcess(parser.EndClosed, c.Start)
			if b := p.buffered(); b != 0 {
				t.Errorf("%s (step %d): %d bytes held after EndProcess", tc.name, step, b)
			}
			for _, ev := range env.Events {
				if len(ev.Anomalies) > parser.MaxAnomalies+mailAnomalyRoom {
					t.Errorf("%s: %d anomalies in one event", tc.name, len(ev.Anomalies))
				}
			}
		}
	}
}

// TestInflateLimit: a compression bomb is given up past the ratio limit,
// without the parser holding more than its bound.
func TestInflateLimit(t *testing.T) {
	defer func(v int64) { maxRatioFree = v }(maxRatioFree)
	maxRatioFree = 1 << 20
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write([]byte("a1 OK\r\n* 1 FETCH (BODY[] {999999999}\r\n"))
	chunk := make([]byte, 1<<20)
	for i := 0; i < 4; i++ {
		w.Write(chunk)
	}
	w.Flush()
	env := parsertest.NewEnv()
	env.Opts.MaxArtifactBytes = 1 << 16
	c := parsertest.Conn(143)
	p := Detector{}.New(c, env).(*conn)
	p.ProcessPacket(parser.ClientToServer, []byte("a1 COMPRESS DEFLATE\r\n"), c.Start)
	p.ProcessPacket(parser.ServerToClient, []byte("a1 OK go\r\n"), c.Start)
	p.ProcessPacket(parser.ServerToClient, buf.Bytes(), c.Start)
	if b := p.buffered(); b > memoryBound(1<<16) {
		t.Errorf("parser holds %d bytes; bound %d", b, memoryBound(1<<16))
	}
	p.EndProcess(parser.EndClosed, c.Start)
	lo := one(t, env.Events, TypeLogoff)
	wantAnomaly(t, lo, "COMPRESS=DEFLATE stream from the server cannot be decompressed any further: decompressed size beyond the limits")
	want(t, one(t, env.Events, TypeDownload), map[string]string{"summary.partial": "true", "summary.truncated": "true"})
}

// TestNeverPanics runs malformed and truncated inputs through every
// state, including calls after EndProcess.
func TestNeverPanics(t *testing.T) {
	inputs := [][]byte{
		nil, {0}, []byte("\r\n\r\n\r\n"), []byte("{0}\r\n{1}\r\n{"), bytes.Repeat([]byte{0xff}, 100),
		[]byte("a AUTHENTICATE\r\nb AUTHENTICATE PLAIN ab\r\n+\r\n+ \r\n*\r\n"),
		[]byte("* 1 FETCH (BODY[\r\n* 1 FETCH BODY[] {3}\r\nabc\r\n* FETCH ((((( {2}\r\nxy\r\n"),
		[]byte("a APPEND\r\nb APPEND {0}\r\n\r\nc APPEND x (\\Seen {2}\r\nab)\r\nd UID\r\n"),
		[]byte("* 99999999999999999999 FETCH (BODY[]<999999999999999999> {99999999999999999999999}\r\n"),
		[]byte("a COMPRESS DEFLATE\r\na OK\r\n\x01\x02\x03"), []byte("a STARTTLS\r\na OK\r\n\x16\x03"),
		[]byte("a IDLE\r\n+ idling\r\nDONE\r\nDONE\r\n"),
	}
	for i, in := range inputs {
		for _, mid := range []bool{false, true} {
			c := parsertest.Conn(143)
			c.MidStream = mid
			env := parsertest.NewEnv()
			p := Detector{}.New(c, env)
			p.ProcessPacket(parser.ClientToServer, in, c.Start)
			p.ProcessPacket(parser.ServerToClient, in, c.Start)
			p.Gap(parser.ClientToServer, -1, c.Start)
			p.Gap(parser.ServerToClient, 5, c.Start)
			p.ProcessPacket(parser.ClientToServer, in, c.Start)
			p.ProcessPacket(parser.ServerToClient, in, c.Start)
			p.EndProcess(parser.EndIdle, c.Start)
			p.ProcessPacket(parser.ClientToServer, []byte("a LOGOUT\r\n"), c.Start)
			p.Gap(parser.ClientToServer, 3, c.Start)
			p.EndProcess(parser.EndIdle, c.Start)
			if p.IsContinue() {
				t.Errorf("input %d: IsContinue after EndProcess", i)
			}
		}
	}
}

// TestParseBodyItem: FETCH item names and what they carry.
func TestParseBodyItem(t *testing.T) {
	tests := []struct {
		name                string
		body, whole, header bool
		file                string
	}{
		{"BODY[]", true, true, false, ""},
		{"RFC822", true, true, false, ""},
		{"body[]<1024>", true, false, false, "part-BODY-1024.bin"},
		{"BODY[]<0>", true, false, true, "part-BODY-0.bin"},
		{"BODY[HEADER]", true, false, true, "part-HEADER.txt"},
		{"BODY[HEADER.FIELDS.NOT (RECEIVED)]", true, false, true, "part-HEADER.FIELDS.NOT.txt"},
		{"BODY[1.2.MIME]", true, false, true, "part-1.2.MIME.txt"},
		{"BODY[1.2.TEXT]", true, false, false, "part-1.2.TEXT.txt"},
		{"BODY[3]<0>", true, false, false, "part-3-0.bin"},
		{"BINARY[1]", true, false, false, "part-BINARY-1.bin"},
		{"RFC822.HEADER", true, false, true, "part-HEADER.txt"},
		{"BODYSTRUCTURE", false, false, false, ""},
		{"ENVELOPE", false, false, false, ""},
		{"BODY[unterminated", false, false, false, ""},
	}
	for _, tc := range tests {
		it, ok := parseBodyItem([]byte(tc.name))
		if ok != tc.body {
			t.Errorf("%s: body item %v; want %v", tc.name, ok, tc.body)
			continue
		}
		if !ok {
			continue
		}
		if it.whole() != tc.whole || it.headerish() != tc.header {
			t.Errorf("%s: whole %v header %v; want %v %v", tc.name, it.whole(), it.headerish(), tc.whole, tc.header)
		}
		if name, _ := it.artifactName(); !tc.whole && name != tc.file {
			t.Errorf("%s: file %q; want %q", tc.name, name, tc.file)
		}
	}
}

// TestLastItem: the item before a literal, read from its line alone.
func TestLastItem(t *testing.T) {
	for in, want := range map[string]string{
		"* 1 FETCH (UID 5 BODY[] ":            "BODY[]",
		"x BODY[HEADER.FIELDS (FROM TO)]<0> ": "BODY[HEADER.FIELDS (FROM TO)]<0>",
		"(RFC822 ":                            "RFC822",
		" NIL) BINARY[1.2] ":                  "BINARY[1.2]",
		"":                                    "",
		"]]] ":                                "]]]",
		"(\\Seen) BODY[1.MIME] ":              "BODY[1.MIME]",
	} {
		if got := string(lastItem([]byte(in))); got != want {
			t.Errorf("lastItem(%q) = %q; want %q", in, got, want)
		}
	}
	// A response whose BODYSTRUCTURE outgrows the text kept still has its
	// body restored.
	big := "(" + strings.Repeat("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL)", 600) + " \"mixed\")"
	segs := []parsertest.Segment{S(greeting), C("a1 FETCH 1 (BODYSTRUCTURE BODY[])\r\n"),
		S("* 1 FETCH (BODYSTRUCTURE " + big + " BODY[] " + lit(message2) + ")\r\na1 OK\r\n")}
	_, evs, _ := runOpts(parsertest.Conn(143), segs, parsertest.Whole, 0, nil)
	want(t, one(t, evs, TypeDownload), map[string]string{"subject": "second"})
	wantAnomaly(t, one(t, evs, TypeLogoff), "FETCH response longer than 16384 bytes before a literal")
}

// TestDecodeMailbox: modified UTF-7 mailbox names.
func TestDecodeMailbox(t *testing.T) {
	for in, want := range map[string]string{
		"INBOX": "INBOX", "&AMQ-rger": "Ärger", "Entw&APw-rfe": "Entwürfe", "&ZeVnLIqe-": "日本語", "a&-b": "a&b",
		"Entwürfe": "Entwürfe", "&bad": "&bad", "&!!-": "&!!-",
	} {
		if got := decodeMailbox(in); got != want {
			t.Errorf("decodeMailbox(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestHoldInsideCompressedStream: bytes held after a STARTTLS sent inside
// a compressed stream come out of the decompressor; when the hold gives
// up waiting, they are re-read as they are (not fed to the decompressor
// again, which would deadlock or, guarded, lose the stream).
func TestHoldInsideCompressedStream(t *testing.T) {
	segs := []parsertest.Segment{C("a1 COMPRESS DEFLATE\r\n"), S("a1 OK go\r\n"),
		C(deflated("a5 STARTTLS\r\n" + strings.Repeat("j", 70000) + "\r\na6 NOOP\r\n")[0])}
	for _, split := range []parsertest.Split{parsertest.Whole, parsertest.Random} {
		_, evs, _ := runOpts(parsertest.Conn(143), segs, split, 1, nil)
		lo := one(t, evs, TypeLogoff)
		if hasAnomaly(lo, "nested") || hasAnomaly(lo, "cannot be decompressed") {
			t.Errorf("anomalies %q; want the stream still decompressed", lo.Anomalies)
		}
		wantAnomaly(t, lo, "no response to STARTTLS within 65536 bytes")
		want(t, lo, map[string]string{"summary.commands.2.command": "NOOP", "summary.commands.2.tag": "a6"})
	}
}
