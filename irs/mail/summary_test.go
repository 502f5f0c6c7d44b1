package mail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func TestDecodeHeader(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		subject     string
		from        string
		anomaly     string // "" : none expected
		wantNoAddrs bool
	}{
		{name: "header fields only", raw: "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nFrom: =?ISO-8859-1?Q?Andr=E9?= <Andre@Example.COM>\r\n\r\n",
			subject: "Grüße", from: "André <Andre@Example.COM>"},
		{name: "header and cut body", raw: "Subject: top\r\nFrom: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/pl",
			subject: "top", from: "a@b.example"},
		{name: "header without its blank line", raw: "Subject: cut\r\nFrom: c@d.example\r\n", subject: "cut", from: "c@d.example"},
		{name: "raw utf-8 header (SMTPUTF8)", raw: "Subject: Grüße\r\nFrom: Jöran <jöran@münchen.example>\r\n\r\n", subject: "Grüße", from: "Jöran <jöran@münchen.example>"},
		{name: "body bytes, no header", raw: "just some text\r\n", anomaly: "does not begin with a header", wantNoAddrs: true},
		{name: "empty", raw: "", wantNoAddrs: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := DecodeHeader([]byte(tc.raw))
			if !m.HeaderOnly || m.EML.SHA256 != "" || m.Text != "" || len(m.Attachments) != 0 {
				t.Errorf("DecodeHeader gave %+v; want a header-only message without eml, text or attachments", m)
			}
			if m.Subject != tc.subject {
				t.Errorf("subject %q; want %q", m.Subject, tc.subject)
			}
			got := ""
			if len(m.From) > 0 {
				got = m.From[0].String()
			}
			if got != tc.from {
				t.Errorf("from %q; want %q", got, tc.from)
			}
			if tc.anomaly == "" && len(m.Anomalies) > 0 {
				t.Errorf("anomalies %q; want none", m.Anomalies)
			}
			if tc.anomaly != "" && !strings.Contains(strings.Join(m.Anomalies, "|"), tc.anomaly) {
				t.Errorf("anomalies %q; want one containing %q", m.Anomalies, tc.anomaly)
			}
			var set AddressSet
			set.AddMessage(m)
			if tc.wantNoAddrs != (len(set.List()) == 0) {
				t.Errorf("addresses %v", set.List())
			}
		})
	}
}

func TestPutSummary(t *testing.T) {
	env := parsertest.NewEnv()
	raw := crlf(
		"From: Alice <alice@example.org>",
		"To: Bob <bob@example.org>, carol@example.org",
		"Cc: dave@example.org",
		"Subject: hello",
		"Date: Mon, 5 Oct 2009 11:36:07 +0530",
		"Message-ID: <m1@example.org>",
		"In-Reply-To: <m0@example.org>",
		"User-Agent: test/1",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="b"`,
		"",
		"--b",
		"Content-Type: text/plain",
		"",
		"see   http://example.org/x\tplease",
		"--b",
		`Content-Disposition: attachment; filename="a.bin"`,
		"",
		"xyz",
		"--b--",
	)
	m, err := Restore(env, raw)
	if err != nil {
		t.Fatal(err)
	}
	var s event.Fields
	m.PutSummary(&s)
	want := map[string]string{
		"from":         "[Alice <alice@example.org>]",
		"to":           "[Bob <bob@example.org> carol@example.org]",
		"cc":           "[dave@example.org]",
		"date":         "Mon, 5 Oct 2009 11:36:07 +0530",
		"message_id":   "m1@example.org",
		"in_reply_to":  "m0@example.org",
		"user_agent":   "test/1",
		"attachments":  "1",
		"body_excerpt": "see http://example.org/x please",
		"urls":         "[http://example.org/x]",
	}
	for k, w := range want {
		if got := fmt.Sprint(s.Get(k)); got != w {
			t.Errorf("summary %s = %q; want %q", k, got, w)
		}
	}
	var h event.Fields
	DecodeHeader(raw).PutSummary(&h)
	for _, k := range []string{"attachments", "body_excerpt", "urls"} {
		if v, ok := h.Lookup(k); ok {
			t.Errorf("header-only summary has %s = %v; want it absent", k, v)
		}
	}
	if fmt.Sprint(h.Get("from")) != want["from"] {
		t.Errorf("header-only summary from %v", h.Get("from"))
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		in    string
		runes int
		want  string
	}{
		{"  a \r\n\tb  ", 100, "a b"},
		{"abcdef", 3, "abc…"},
		{"x\x01y", 100, "x y"},
		{"héllo wörld", 7, "héllo w…"},
	}
	for _, tc := range tests {
		if got := Excerpt(tc.in, tc.runes); got != tc.want {
			t.Errorf("Excerpt(%q, %d) = %q; want %q", tc.in, tc.runes, got, tc.want)
		}
	}
}

func TestPutEvent(t *testing.T) {
	env := parsertest.NewEnv()
	raw := crlf(
		"From: alice@example.org",
		"Subject: report",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="b"`,
		"",
		"--b",
		"Content-Type: text/plain",
		"",
		"body",
		"--b",
		`Content-Disposition: attachment; filename="a.bin"`,
		"",
		"xyz",
		"--b--",
	)
	m, err := Restore(env, raw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		m          *Message
		wantKinds  string
		wantSHA    string
		wantSubj   string
		wantFromIn bool
	}{
		{"restored message", m, "[eml attachment]", m.EML.SHA256, "report", true},
		{"header only", DecodeHeader(raw), "[]", "", "report", true},
		{"nil message", nil, "[]", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := &event.Event{Summary: event.Fields{}}
			tc.m.PutEvent(ev)
			var kinds []string
			for _, a := range ev.Artifacts {
				kinds = append(kinds, a.Kind)
			}
			if got := fmt.Sprint(kinds); got != tc.wantKinds {
				t.Errorf("artifacts %s; want %s", got, tc.wantKinds)
			}
			if got, _ := ev.Summary.Get("sha256").(string); got != tc.wantSHA {
				t.Errorf("sha256 %q; want %q", got, tc.wantSHA)
			}
			if ev.Subject != tc.wantSubj {
				t.Errorf("subject %q; want %q", ev.Subject, tc.wantSubj)
			}
			if _, ok := ev.Summary.Lookup("from"); ok != tc.wantFromIn {
				t.Errorf("summary from present %v; want %v", ok, tc.wantFromIn)
			}
		})
	}
}
