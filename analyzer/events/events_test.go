package events

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []cursor{
		{ts: time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC), id: 42},
		{ts: time.Unix(0, 0).UTC(), id: 1},
		{ts: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), id: 1<<64 - 1},
	} {
		got, err := parseCursor(c.String())
		if err != nil || !got.ts.Equal(c.ts) || got.id != c.id {
			t.Errorf("parseCursor(%q) = %+v, %v; want %+v", c.String(), got, err, c)
		}
	}
	for _, bad := range []string{"", "!!", "MTIz", "YS5i", "MS4tMQ"} {
		if _, err := parseCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("parseCursor(%q) err = %v; want ErrBadCursor", bad, err)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "100%": `100\%`, "a_b": `a\_b`, `back\slash`: `back\\slash`, `%_\`: `\%\_\\`,
	} {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		q       Query
		want    Query
		wantErr bool
	}{
		{"defaults", Query{}, Query{Limit: DefaultLimit}, false},
		{"clamped", Query{Limit: 10000, Offset: -5}, Query{Limit: MaxLimit}, false},
		{"too deep", Query{Offset: MaxOffset + 1}, Query{}, true},
		{"email trimmed", Query{Email: "  a@b.c "}, Query{Email: "a@b.c", Limit: DefaultLimit}, false},
		{"mapped v4", Query{IP: netip.MustParseAddr("::ffff:192.0.2.1")}, Query{IP: netip.MustParseAddr("192.0.2.1"), Limit: DefaultLimit}, false},
		{"bad cursor", Query{Cursor: "%%"}, Query{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			err := q.Normalize()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v; want error %v", err, tc.wantErr)
			}
			if err == nil && q != tc.want {
				t.Errorf("got %+v; want %+v", q, tc.want)
			}
		})
	}
}
