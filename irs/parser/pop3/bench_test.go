package pop3

import (
	"encoding/base64"
	"math/rand"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// benchMessage is a realistic message of about 100 KB: text, HTML and a
// 60 KB attachment (80 KB in base64), with CRLF line ends.
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

// benchSession: login, STAT, UIDL, RETR of the message, DELE, QUIT; the
// message in TCP-sized segments.
func benchSession(msg string) []parsertest.Segment {
	segs := []parsertest.Segment{
		S(greeting), C("USER bob\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK Logged in.\r\n"),
		C("STAT\r\n"), S("+OK 1 120000\r\n"), C("UIDL\r\n"), S("+OK\r\n1 000000015ec4b2a1\r\n.\r\n"),
		C("RETR 1\r\n"), S("+OK 120000 octets\r\n"),
	}
	wire := msg + ".\r\n"
	for len(wire) > 0 {
		n := min(1448, len(wire))
		segs = append(segs, S(wire[:n]))
		wire = wire[n:]
	}
	return append(segs, C("DELE 1\r\n"), S("+OK\r\n"), C("QUIT\r\n"), S("+OK bye\r\n"))
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

func runBench(b *testing.B, segs []parsertest.Segment) {
	total := 0
	for _, s := range segs {
		total += len(s.Data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		env := parsertest.NewEnv()
		c := parsertest.Conn(110)
		p := Detector{}.New(c, env)
		for _, s := range segs {
			p.ProcessPacket(s.Dir, s.Data, c.Start)
		}
		p.EndProcess(parser.EndClosed, c.Start.Add(time.Second))
		if len(env.Events) != 3 {
			b.Fatalf("%d events; want logon, email-download, logoff", len(env.Events))
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(total)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkSession measures a whole session with a 100 KB MIME message:
// parsing, dot-unstuffing, MIME decoding, hashing and (in-memory) saving
// of the eml and the attachment.
func BenchmarkSession(b *testing.B) { runBench(b, benchSession(benchMessage())) }

// BenchmarkSessionNoMIME is the same session with a plain 100 KB body:
// the parser's own cost.
func BenchmarkSessionNoMIME(b *testing.B) {
	runBench(b, benchSession("Subject: plain\r\n\r\n"+strings.Repeat("0123456789 plain text line of the body 0123456789\r\n", 2000)))
}

// BenchmarkCaptures replays every POP3 connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector, events and
// artifacts dropped: the parser's own work, message restore included.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return Detector{} })
}
