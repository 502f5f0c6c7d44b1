//go:build integration

package controller_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/internal/testdb"
)

func hasFlow(lines []string, part string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, part) })
}

// TestLivePolicyPersistence: SMTP, on in the configuration file, is
// toggled off through the API; after a restart with the same database
// it is still off, on the switch and in the API; on again, likewise.
func TestLivePolicyPersistence(t *testing.T) {
	db, _ := testdb.Shared(t)
	b := newOneBridge(t, `"smtp": {"enabled": true}`)
	ctx := context.Background()

	k1 := start(t, "127.0.0.1:0", b.cfg, policy.SQLStore{DB: db})
	addr := k1.OFAddr
	b.br.SetController("tcp:" + addr)
	k1.installed(t, 1)
	if !hasFlow(b.br.Flows(), "tp_dst=25 ") {
		t.Fatalf("smtp flows missing at start")
	}
	if _, err := k1.API.SetMirror(ctx, "smtp", false); err != nil {
		t.Fatalf("PUT smtp off: %v", err)
	}
	if hasFlow(b.br.Flows(), "tp_dst=25 ") {
		t.Fatalf("smtp flows still on the switch after the PUT returned")
	}
	var on bool
	var by string
	if err := db.QueryRow("SELECT enabled, updated_by FROM mirror_policy WHERE protocol = 'smtp'").Scan(&on, &by); err != nil || on || !strings.HasPrefix(by, "api ") {
		t.Errorf("mirror_policy row: enabled=%v by=%q err=%v; want disabled by the api", on, by, err)
	}
	k1.stop()

	for _, want := range []bool{false, true} {
		k := start(t, addr, b.cfg, policy.SQLStore{DB: db})
		k.installed(t, 1)
		prs, err := k.API.Mirror(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prs {
			if p.Name == "smtp" && p.Enabled != want {
				t.Errorf("after restart smtp enabled=%v; want %v", p.Enabled, want)
			}
		}
		if got := hasFlow(b.br.Flows(), "tp_dst=25 "); got != want {
			t.Errorf("after restart smtp flows on the switch: %v; want %v", got, want)
		}
		if !want {
			if _, err := k.API.SetMirror(ctx, "smtp", true); err != nil {
				t.Fatal(err)
			}
		}
		k.stop()
	}
}
