//go:build integration

package audit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/testdb"
)

func TestAppendListVerify(t *testing.T) {
	db, _ := testdb.Shared(t)
	ctx := context.Background()
	l := New(db)
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	l.now = func() time.Time { now = now.Add(time.Second); return now }

	entries := []struct {
		e      Entry
		detail any
	}{
		{Entry{Actor: "root", Role: "admin", ClientIP: "192.0.2.1", Action: ActionLogin, Outcome: OutcomeOK}, nil},
		{Entry{Actor: "ann", ClientIP: "192.0.2.2", Action: ActionLogin, Outcome: OutcomeDenied}, map[string]string{"reason": "bad credentials"}},
		{Entry{Actor: "ann", Role: "analyst", ClientIP: "192.0.2.2", Action: ActionSearch, Target: "events", Outcome: OutcomeOK}, map[string]string{"email": "<b>x</b>@example.org"}},
		{Entry{Actor: "ann", Role: "analyst", ClientIP: "192.0.2.2", Action: ActionDownload, Target: "artifacts/3", Outcome: OutcomeOK}, map[string]string{"sha256": strings.Repeat("a", 64)}},
		{Entry{Actor: strings.Repeat("é", 80), Action: ActionLogin, Outcome: OutcomeDenied}, nil},
	}
	for i, x := range entries {
		got, err := l.Append(ctx, x.e, x.detail)
		if err != nil {
			t.Fatalf("Append #%d: %v", i, err)
		}
		if got.Seq != uint64(i+1) {
			t.Errorf("Append #%d seq = %d; want %d", i, got.Seq, i+1)
		}
	}

	tests := []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"all", Filter{}, []uint64{5, 4, 3, 2, 1}},
		{"actor", Filter{Actor: "ann"}, []uint64{4, 3, 2}},
		{"action", Filter{Action: ActionLogin}, []uint64{5, 2, 1}},
		{"outcome", Filter{Outcome: OutcomeDenied}, []uint64{5, 2}},
		{"time", Filter{From: time.Date(2024, 5, 1, 10, 0, 2, 0, time.UTC), To: time.Date(2024, 5, 1, 10, 0, 4, 0, time.UTC)}, []uint64{3, 2}},
		{"page 1", Filter{Limit: 2}, []uint64{5, 4}},
		{"page 2", Filter{Limit: 2, Before: 4}, []uint64{3, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := l.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, e := range p.Entries {
				got = append(got, e.Seq)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("seqs = %v; want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("seqs = %v; want %v", got, tc.want)
				}
			}
		})
	}
	p, _ := l.List(ctx, Filter{Limit: 2})
	if p.Next != 4 {
		t.Errorf("Next = %d; want 4", p.Next)
	}

	v, err := l.Verify(ctx)
	if err != nil || !v.OK || v.Rows != 5 {
		t.Fatalf("Verify = %+v, %v; want ok over 5 rows", v, err)
	}

	// The database refuses changes.
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
		"DELETE FROM audit_log WHERE seq = 3",
		"DELETE FROM audit_log",
	} {
		_, err := db.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v; want the trigger's append-only refusal", stmt, err)
		}
	}
	if v, _ := l.Verify(ctx); !v.OK {
		t.Errorf("Verify after refused changes = %+v", v)
	}

	// Behind the service's back (triggers dropped), changes are found.
	for _, stmt := range []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "UPDATE audit_log SET target = 'artifacts/4' WHERE seq = 4"); err != nil {
		t.Fatal(err)
	}
	v, _ = l.Verify(ctx)
	if v.OK || v.BadSeq != 4 || !strings.Contains(v.Reason, "content") {
		t.Errorf("Verify after an edit of row 4 = %+v; want bad at 4, content", v)
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM audit_log WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	v, _ = l.Verify(ctx)
	if v.OK || v.BadSeq != 2 || !strings.Contains(v.Reason, "missing") {
		t.Errorf("Verify after deleting row 2 = %+v; want bad at 2, missing", v)
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	db, _ := testdb.Shared(t)
	ctx := context.Background()
	// Two Log values stand for two analyzer processes.
	logs := []*Log{New(db), New(db)}
	const writers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := logs[w%2].Append(ctx, Entry{Actor: "w", Action: ActionSearch, Outcome: OutcomeOK}, map[string]int{"w": w}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Append: %v", err)
	}
	v, err := logs[0].Verify(ctx)
	if err != nil || !v.OK || v.Rows != writers*each {
		t.Errorf("Verify = %+v, %v; want ok over %d rows", v, err, writers*each)
	}
}
