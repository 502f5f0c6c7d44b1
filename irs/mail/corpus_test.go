package mail_test

import (
	"bytes"
	"encoding/base64"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/imap"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
	"github.com/sdnli/sdnli/irs/parser/pop3"
	"github.com/sdnli/sdnli/irs/parser/smtp"
)

// The messages of the public mail captures (../shared/pcaps/{smtp,pop3,
// imap} next to the repository), as the IRS restores them: every capture
// runs through the whole pipeline with the three mail parsers and the
// eml artifacts the events name are read back from the store. They are
// the realistic input of the benchmarks and of the differential test.
var (
	corpusOnce sync.Once
	corpusMsgs []corpusMessage
)

type corpusMessage struct {
	name string // capture and artifact
	raw  []byte
}

func corpus(tb testing.TB) []corpusMessage {
	tb.Helper()
	corpusOnce.Do(func() {
		seen := map[string]bool{}
		for _, proto := range []string{"smtp", "pop3", "imap"} {
			dir := golden.SharedPcaps(tb, proto)
			ents, err := os.ReadDir(dir)
			if err != nil {
				tb.Fatalf("corpus: %v", err)
			}
			for _, e := range ents {
				n := e.Name()
				if !strings.HasSuffix(n, ".pcap") && !strings.HasSuffix(n, ".pcapng") {
					continue
				}
				reg := parser.NewRegistry()
				reg.Add(smtp.Detector{})
				reg.Add(pop3.Detector{})
				reg.Add(imap.Detector{})
				res := golden.Run(tb, reg, parser.DefaultOptions(), filepath.Join(dir, n))
				for _, ev := range res.Events {
					for _, a := range ev.Artifacts {
						if a.Kind != event.KindEML || seen[a.SHA256] {
							continue
						}
						seen[a.SHA256] = true
						p, err := res.Store.Resolve(a.Path)
						if err != nil {
							tb.Fatalf("corpus: %s: %v", n, err)
						}
						raw, err := os.ReadFile(p)
						if err != nil {
							tb.Fatalf("corpus: %s: %v", n, err)
						}
						corpusMsgs = append(corpusMsgs, corpusMessage{name: n + "/" + a.SHA256[:12], raw: raw})
					}
				}
			}
		}
		sort.Slice(corpusMsgs, func(i, j int) bool { return corpusMsgs[i].name < corpusMsgs[j].name })
	})
	if len(corpusMsgs) == 0 {
		tb.Fatal("corpus: the public mail captures gave no message")
	}
	return corpusMsgs
}

// headerBlock is raw up to and including the blank line that ends its
// header (all of raw when there is none): what a POP3 TOP n 0 or an IMAP
// BODY[HEADER] fetch carries.
func headerBlock(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+4]
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+2]
	}
	return raw
}

// plainMessage is a small single-part message as most clients send a
// short note: a handful of header fields and a few lines of ASCII text.
func plainMessage() []byte {
	return []byte("Return-Path: <alice@example.com>\r\n" +
		"Received: from client.example.com (client.example.com [192.0.2.10])\r\n\tby mail.example.net (Postfix) with ESMTPSA id 4711\r\n\tfor <bob@example.org>; Tue, 3 Nov 2026 10:00:01 +0100 (CET)\r\n" +
		"From: Alice Example <alice@example.com>\r\n" +
		"To: Bob <bob@example.org>\r\n" +
		"Subject: Lunch tomorrow?\r\n" +
		"Date: Tue, 3 Nov 2026 10:00:00 +0100\r\n" +
		"Message-ID: <plain.1@example.com>\r\n" +
		"User-Agent: Mozilla Thunderbird\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=UTF-8; format=flowed\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n\r\n" +
		"Hi Bob,\r\n\r\nshall we meet at noon? The menu is at https://canteen.example.org/menu.\r\n\r\nAlice\r\n")
}

// multipartMessage is a typical message with an attachment: text and
// HTML alternatives and a 20 KB PDF in base64, with an encoded subject.
func multipartMessage() []byte {
	rng := rand.New(rand.NewSource(1))
	att := make([]byte, 20<<10)
	rng.Read(att)
	enc := base64.StdEncoding.EncodeToString(att)
	var b64 strings.Builder
	for len(enc) > 76 {
		b64.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b64.WriteString(enc + "\r\n")
	text := strings.Repeat("Dear colleague, please find the quarterly figures attached. Regards.\r\n", 20)
	return []byte("From: Alice Example <alice@example.com>\r\n" +
		"To: Bob <bob@example.org>, carol@example.org\r\n" +
		"Cc: =?ISO-8859-1?Q?Andr=E9?= <andre@example.net>\r\n" +
		"Subject: =?UTF-8?Q?Quarterly_figures_=E2=80=93_Q3?=\r\n" +
		"Date: Tue, 3 Nov 2026 10:00:00 +0100\r\n" +
		"Message-ID: <bench.1@example.com>\r\n" +
		"X-Mailer: Microsoft Outlook 16.0\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + text +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + strings.ReplaceAll(text, "\r\n", "</p>\r\n<p>") +
		"<a href=\"https://example.com/q3\">figures</a></p></body></html>\r\n" +
		"--alt--\r\n" +
		"--outer\r\nContent-Type: application/pdf; name=\"figures.pdf\"\r\nContent-Disposition: attachment; filename=\"figures.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64.String() +
		"--outer--\r\n")
}

// BenchmarkRestore restores (decodes, hashes and saves in memory) a small
// plain message, a multipart message with an attachment, and every
// message of the public captures (one op: the whole set).
func BenchmarkRestore(b *testing.B) {
	var all [][]byte
	for _, m := range corpus(b) {
		all = append(all, m.raw)
	}
	for _, bc := range []struct {
		name string
		msgs [][]byte
	}{
		{"plain", [][]byte{plainMessage()}},
		{"multipart", [][]byte{multipartMessage()}},
		{"captures", all},
	} {
		size := 0
		for _, m := range bc.msgs {
			size += len(m)
		}
		b.Run(bc.name, func(b *testing.B) {
			env := parsertest.NewEnv()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				for _, m := range bc.msgs {
					if _, err := mail.Restore(env, m); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkDecodeHeader decodes header blocks as POP3 TOP and IMAP
// BODY[HEADER] fetches carry them: the plain and multipart messages'
// and those of every captured message (one op: the whole set).
func BenchmarkDecodeHeader(b *testing.B) {
	var all [][]byte
	for _, m := range corpus(b) {
		all = append(all, headerBlock(m.raw))
	}
	for _, bc := range []struct {
		name string
		msgs [][]byte
	}{
		{"plain", [][]byte{headerBlock(plainMessage())}},
		{"multipart", [][]byte{headerBlock(multipartMessage())}},
		{"captures", all},
	} {
		size := 0
		for _, m := range bc.msgs {
			size += len(m)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				for _, m := range bc.msgs {
					mail.DecodeHeader(m)
				}
			}
			reportCPU(b, start)
		})
	}
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

// reportCPU adds the CPU time per op (all threads: the garbage
// collector's work counts) to a benchmark's output.
func reportCPU(b *testing.B, start time.Duration) {
	if cpu := cpuTime() - start; cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
