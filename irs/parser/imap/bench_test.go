package imap

import (
	"encoding/base64"
	"math/rand"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func benchMessage() string {
	rng := rand.New(rand.NewSource(1))
	att := make([]byte, 60<<10)
	rng.Read(att)
	enc := base64.StdEncoding.EncodeToString(att)
	var b64 strings.Builder
	for len(enc) > 76 {
		b64.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b64.WriteString(enc + "\r\n")
	text := strings.Repeat("Dear colleague, please find the quarterly figures attached. Regards.\r\n", 100)
	return "Return-Path: <alice@example.com>\r\n" +
		"From: Alice Example <alice@example.com>\r\n" +
		"To: Bob <bob@example.org>, carol@example.org\r\n" +
		"Subject: =?UTF-8?Q?Quarterly_figures_=E2=80=93_Q3?=\r\n" +
		"Date: Tue, 3 Nov 2026 10:00:00 +0100\r\n" +
		"Message-ID: <bench.1@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + strings.ReplaceAll(text, "\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n" +
		"--alt--\r\n" +
		"--outer\r\nContent-Type: application/pdf; name=\"figures.pdf\"\r\nContent-Disposition: attachment; filename=\"figures.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64.String() +
		"--outer--\r\n"
}

// benchSession: login, SELECT, UID FETCH of the message (BODY.PEEK[]),
// LOGOUT; the response in TCP-sized segments.
func benchSession(msg string) []parsertest.Segment {
	segs := []parsertest.Segment{
		S(greeting), C("a1 LOGIN bob secret\r\n"), S("a1 OK Logged in\r\n"),
		C("a2 SELECT INBOX\r\n"), S("* 1 EXISTS\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\na2 OK [READ-WRITE] Select completed.\r\n"),
		C("a3 UID FETCH 1 (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n"),
	}
	wire := "* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE " + strconv.Itoa(len(msg)) + " BODY[] " + lit(msg) + ")\r\na3 OK Fetch completed.\r\n"
	for len(wire) > 0 {
		n := min(1448, len(wire))
		segs = append(segs, S(wire[:n]))
		wire = wire[n:]
	}
	return append(segs, C("a4 LOGOUT\r\n"), S("* BYE Logging out\r\na4 OK Logout completed.\r\n"))
}

// cpuTime is the process's user and system CPU time: on a shared machine
// it measures the work better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runBench(b *testing.B, segs []parsertest.Segment, wantEvents int) {
	total := 0
	for _, s := range segs {
		total += len(s.Data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		env := parsertest.NewEnv()
		c := parsertest.Conn(143)
		p := Detector{}.New(c, env)
		for _, s := range segs {
			p.ProcessPacket(s.Dir, s.Data, c.Start)
		}
		p.EndProcess(parser.EndClosed, c.Start.Add(time.Second))
		if len(env.Events) != wantEvents {
			b.Fatalf("%d events; want %d", len(env.Events), wantEvents)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(total)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkSession measures a whole session with a 100 KB MIME message:
// parsing, literal capture, MIME decoding, hashing and (in-memory) saving
// of the eml and the attachment.
func BenchmarkSession(b *testing.B) { runBench(b, benchSession(benchMessage()), 3) }

// BenchmarkSessionNoMIME is the same session with a plain 100 KB body:
// the parser's own cost.
func BenchmarkSessionNoMIME(b *testing.B) {
	runBench(b, benchSession("Subject: plain\r\n\r\n"+strings.Repeat("0123456789 plain text line of the body 0123456789\r\n", 2000)), 3)
}

// BenchmarkHeaders: a client listing 200 message headers
// (BODY.PEEK[HEADER.FIELDS (...)]), the commonest IMAP traffic: many
// small literals, each a partial download.
func BenchmarkHeaders(b *testing.B) {
	var resp strings.Builder
	for i := 1; i <= 200; i++ {
		h := "Date: Mon, 5 Oct 2009 11:36:07 +0530\r\nFrom: Alice <alice@example.org>\r\nSubject: message " + strconv.Itoa(i) + "\r\nTo: bob@example.test\r\n\r\n"
		resp.WriteString("* " + strconv.Itoa(i) + " FETCH (UID " + strconv.Itoa(i) + " FLAGS (\\Seen) BODY[HEADER.FIELDS (DATE FROM SUBJECT TO)] " + lit(h) + ")\r\n")
	}
	resp.WriteString("a3 OK Fetch completed.\r\n")
	segs := []parsertest.Segment{S(greeting), C("a1 LOGIN bob secret\r\n"), S("a1 OK\r\n"), C("a2 SELECT INBOX\r\n"), S("a2 OK\r\n"),
		C("a3 UID FETCH 1:200 (UID FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT TO)])\r\n")}
	wire := resp.String()
	for len(wire) > 0 {
		n := min(1448, len(wire))
		segs = append(segs, S(wire[:n]))
		wire = wire[n:]
	}
	runBench(b, segs, 202)
}

// BenchmarkCompressed is BenchmarkSessionNoMIME over COMPRESS=DEFLATE.
func BenchmarkCompressed(b *testing.B) {
	msg := "Subject: plain\r\n\r\n" + strings.Repeat("0123456789 plain text line of the body 0123456789\r\n", 2000)
	z := deflated("* 1 FETCH (UID 1 BODY[] "+lit(msg)+")\r\na3 OK Fetch completed.\r\n", "* BYE\r\na4 OK\r\n")
	zc := deflated("a3 UID FETCH 1 BODY.PEEK[]\r\n", "a4 LOGOUT\r\n")
	segs := []parsertest.Segment{S(greeting), C("a1 LOGIN bob secret\r\n"), S("a1 OK\r\n"), C("a2 COMPRESS DEFLATE\r\n"), S("a2 OK\r\n"), C(zc[0])}
	for w := z[0]; len(w) > 0; {
		n := min(1448, len(w))
		segs = append(segs, S(w[:n]))
		w = w[n:]
	}
	runBench(b, append(segs, C(zc[1]), S(z[1])), 3)
}

// BenchmarkCaptures replays every IMAP connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector, events and
// artifacts dropped: the parser's own work, message restore included.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return Detector{} })
}
