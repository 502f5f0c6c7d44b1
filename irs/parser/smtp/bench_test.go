package smtp

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

// benchSession is a realistic submission: EHLO, AUTH, one message of
// about 100 KB (text, HTML and a 60 KB attachment, 80 KB in base64) to three
// recipients, QUIT.
func benchSession() []parsertest.Segment {
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
	msg := "From: Alice Example <alice@example.com>\r\n" +
		"To: Bob <bob@example.org>, carol@example.org\r\n" +
		"Cc: dave@example.net\r\n" +
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
		"--outer--\r\n.\r\n"
	segs := []parsertest.Segment{
		S("220 mail.example.net ESMTP Postfix\r\n"),
		C("EHLO client.example.com\r\n"),
		S(ehloReply),
		C("AUTH PLAIN " + b64s("\x00alice@example.com\x00secret") + "\r\n"),
		S("235 2.7.0 Authentication successful\r\n"),
		C("MAIL FROM:<alice@example.com> SIZE=120000\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nRCPT TO:<dave@example.net>\r\nDATA\r\n"),
		S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
	}
	// The message in TCP-sized segments.
	for len(msg) > 0 {
		n := min(1448, len(msg))
		segs = append(segs, C(msg[:n]))
		msg = msg[n:]
	}
	return append(segs,
		S("250 2.0.0 Ok: queued as 4711\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"))
}

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// cpuTime is the process's user and system CPU time: on a shared machine
// it measures the work better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds MB per CPU second to a benchmark's output.
func reportCPU(b *testing.B, bytes int, start time.Duration) {
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

func runSegments(segs []parsertest.Segment, env *parsertest.Env) {
	c := parsertest.Conn(587)
	p := Detector{}.New(c, env)
	ts := c.Start
	for _, s := range segs {
		p.ProcessPacket(s.Dir, s.Data, ts)
	}
	p.EndProcess(parser.EndClosed, ts.Add(time.Second))
}

// BenchmarkSession measures a whole session: parsing, dot-unstuffing,
// MIME decoding, hashing and (in-memory) saving of the eml and the
// attachment.
func BenchmarkSession(b *testing.B) {
	segs := benchSession()
	total := 0
	for _, s := range segs {
		total += len(s.Data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		env := parsertest.NewEnv()
		runSegments(segs, env)
		if len(env.Events) != 3 {
			b.Fatalf("%d events; want logon, email-send, logoff", len(env.Events))
		}
	}
	reportCPU(b, total, start)
}

// BenchmarkSessionNoMIME measures the SMTP layer alone: the same session
// with a message that has no MIME structure to decode.
func BenchmarkSessionNoMIME(b *testing.B) {
	segs := benchSession()
	body := strings.Repeat("A plain line of text in a long message body, no MIME at all here.\r\n", 1500)
	var out []parsertest.Segment
	for _, s := range segs {
		if s.Dir == parser.ClientToServer && len(s.Data) == 1448 || strings.HasSuffix(string(s.Data), "--outer--\r\n.\r\n") {
			continue
		}
		out = append(out, s)
		if strings.HasPrefix(string(s.Data), "250 2.1.0") {
			msg := "Subject: plain\r\n\r\n" + body + ".\r\n"
			for len(msg) > 0 {
				n := min(1448, len(msg))
				out = append(out, C(msg[:n]))
				msg = msg[n:]
			}
		}
	}
	total := 0
	for _, s := range out {
		total += len(s.Data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		env := parsertest.NewEnv()
		runSegments(out, env)
		if len(env.Events) != 3 {
			b.Fatalf("%d events; want logon, email-send, logoff", len(env.Events))
		}
	}
	reportCPU(b, total, start)
}

// BenchmarkCaptures replays every SMTP connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector, events and
// artifacts dropped: the parser's own work, message restore included.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return Detector{} })
}
