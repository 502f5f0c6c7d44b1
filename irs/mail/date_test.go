package mail

import (
	netmail "net/mail"
	"testing"
)

// TestParseDate: the commonDate shortcut gives what net/mail's ParseDate
// gives (time and failure) for the layouts mailers write and for the
// near misses around commonDate.
func TestParseDate(t *testing.T) {
	for _, s := range []string{
		"Tue, 3 Nov 2026 10:00:00 +0100",
		"Tue, 03 Nov 2026 10:00:00 +0100",
		"tue, 3 nov 2026 10:00:00 -0000",
		"Mon, 3 Nov 2026 10:00:00 +0100", // wrong day of the week
		"Tue, 3 Nov 2026 10:00:00.25 +0100",
		"Tue, 3 Nov 2026 10:00:00,25 -0330",
		"Tue, 3 Nov 2026 10:00:00 +0100 (CET)",
		"Tue, 3 Nov 2026 10:00:00 +0100 (CET",
		"Thu, 11 Nov 1999 10:52:25 -0800 (PST)",
		"Thu, 11 Nov 1999 10:52:25 -0800  (PST)",
		"Thu, 11 Nov 1999 10:52:25 -0800 (Pacific Standard Time)",
		"Thu, 11 Nov 1999 10:52:25 -0800 ()",
		"Thu, 11 Nov 1999 10:52:25 -0800 (P_T)",
		"Thu, 11 Nov 1999 10:52:25 -0800 (PST) (PDT)",
		"Thu, 11 Nov 1999 10:52:25 -0800 (PS(T)",
		"Thu, 11 Nov 1999 10:52 -0800 (PST)",
		"Thu, 11 Nov 1999 10:52:25 PST (PST)",
		"Thu, 11 Nov 1999 10:52:25 -0800(PST)",
		"Thu, 11 Nov 1999 10:52:25 -08000 (PST)",
		" (PST)",
		"Tue, 3 Nov 2026 10:00:00 CET",
		"Tue, 3 Nov 2026 10:00:00 GMT",
		"Tue, 3 Nov 2026 10:00 +0100",
		"Tue, 3 Nov 26 10:00:00 +0100",
		"3 Nov 2026 10:00:00 +0100",
		"  Tue, 3 Nov 2026 10:00:00 +0100",
		"Tue,  3 Nov 2026 10:00:00 +0100",
		"Tue, 3 Nov 2026 10:00:00 +01:00",
		"Tue, 3 Nov 2026 10:00:00 +0100\r\n",
		"Tue, 3 Nov\r\n 2026 10:00:00 +0100",
		"Tue, 31 Feb 2026 10:00:00 +0100",
		"Tue, 3 Nov 2026 24:00:00 +0100",
		"Tue, 3 Nov 2026 10:00:60 +0100",
		"Tue, 3 Nov 2026 10:00:00 +9999",
		"Tue, 3 Nov 2026 10:00:00 -1500",
		"Tue, 3 Nov -2026 10:00:00 +0100",
		"Tue, 3 Nov 2026 10:00:00 +0100 x",
		"2026-11-03T10:00:00Z",
		"",
	} {
		t.Run(s, func(t *testing.T) {
			want, wantErr := netmail.ParseDate(s)
			got, gotErr := parseDate(s)
			if !got.Equal(want) || got.String() != want.String() || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("parseDate(%q) = %v, %v; net/mail gives %v, %v", s, got, gotErr, want, wantErr)
			}
		})
	}
}

// FuzzParseDate: the shortcuts of parseDate give net/mail's result.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"Tue, 3 Nov 2026 10:00:00 +0100", "Thu, 11 Nov 1999 10:52:25 -0800 (PST)", "Tue, 3 Nov 2026 10:00:00 CET"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := netmail.ParseDate(s)
		got, gotErr := parseDate(s)
		if !got.Equal(want) || got.String() != want.String() || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("parseDate(%q) = %v, %v; net/mail gives %v, %v", s, got, gotErr, want, wantErr)
		}
	})
}
