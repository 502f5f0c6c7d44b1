package parser

import (
	"fmt"
	"testing"
)

func TestAnomalies(t *testing.T) {
	var empty Anomalies
	if got := empty.Out(); got != nil {
		t.Errorf("empty Out() = %q; want nil", got)
	}
	if got := empty.Out("x"); len(got) != 1 || got[0] != "x" {
		t.Errorf("empty Out(x) = %q; want [x]", got)
	}

	var a Anomalies
	a.Add("one")
	a.Add("one")
	a.Addf("n=%d", 2)
	if got, want := fmt.Sprint(a.Out()), "[one n=2]"; got != want {
		t.Errorf("Out() = %s; want %s (duplicates once)", got, want)
	}
	if got, want := fmt.Sprint(a.Out("n=2", "three", "three")), "[one n=2 three]"; got != want {
		t.Errorf("Out(extra) = %s; want %s", got, want)
	}
	if a.Len() != 2 {
		t.Errorf("Len() = %d; want 2", a.Len())
	}
	out := a.Out()
	out[0] = "changed"
	if a.Out()[0] != "one" {
		t.Errorf("Out() shares its list with the caller; want a copy")
	}

	var full Anomalies
	for i := 0; i < MaxAnomalies+5; i++ {
		full.Addf("finding %d", i)
	}
	full.Add("finding 0") // a duplicate is not counted as dropped
	got := full.Out()
	if len(got) != MaxAnomalies+1 {
		t.Fatalf("Out() has %d entries; want %d (the cap plus a note)", len(got), MaxAnomalies+1)
	}
	if want := "5 more anomalies not listed"; got[MaxAnomalies] != want {
		t.Errorf("last entry %q; want %q", got[MaxAnomalies], want)
	}
}

func TestAnomaliesTake(t *testing.T) {
	var a Anomalies
	for i := 0; i < MaxAnomalies+2; i++ {
		a.Addf("gap %d", i)
	}
	got := a.Take()
	if len(got) != MaxAnomalies+1 || got[MaxAnomalies] != "2 more anomalies not listed" {
		t.Fatalf("Take() = %d entries ending %q", len(got), got[len(got)-1])
	}
	if a.Len() != 0 || a.Out() != nil {
		t.Fatalf("after Take: Len %d, Out %q; want empty", a.Len(), a.Out())
	}
	a.Add("gap 0") // listed again: it belongs to the next event
	if fmt.Sprint(a.Take()) != "[gap 0]" {
		t.Errorf("a finding taken before is not listed again")
	}
}
