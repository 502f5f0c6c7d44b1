package parser

import (
	"slices"
	"sync"
	"testing"
)

type fakeDetector struct {
	name string
	tr   []Transport
}

func (d *fakeDetector) Name() string                                { return d.name }
func (d *fakeDetector) Transports() []Transport                     { return d.tr }
func (d *fakeDetector) IsRelative(*Conn, Direction, []byte) Verdict { return NeedMore }
func (d *fakeDetector) New(*Conn, Env) Parser                       { return nil }

func names(ds []Detector) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name())
	}
	return out
}

func TestCandidates(t *testing.T) {
	r := NewRegistry()
	if c := r.Candidates(TCP); c != nil {
		t.Errorf("empty registry: %v", names(c))
	}
	r.Add(&fakeDetector{"smtp", []Transport{TCP}})
	r.Add(&fakeDetector{"dns", []Transport{UDP, TCP, UDP}})
	r.Add(&fakeDetector{"gre", []Transport{GRE}})
	steps := []struct {
		name     string
		switchTo map[string]bool
		tr       Transport
		want     []string
	}{
		{"registration order", nil, TCP, []string{"smtp", "dns"}},
		{"listed twice counts once", nil, UDP, []string{"dns"}},
		{"other transport", nil, GRE, []string{"gre"}},
		{"none", nil, ESP, nil},
		{"out of range", nil, Transport(200), nil},
		{"switched off", map[string]bool{"smtp": false}, TCP, []string{"dns"}},
		{"switched on again", map[string]bool{"smtp": true}, TCP, []string{"smtp", "dns"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for n, on := range st.switchTo {
				if err := r.SetEnabled(n, on); err != nil {
					t.Fatal(err)
				}
			}
			if got := names(r.Candidates(st.tr)); !slices.Equal(got, st.want) {
				t.Errorf("Candidates(%v) = %v, want %v", st.tr, got, st.want)
			}
		})
	}
	if err := r.SetEnabled("nope", true); err == nil {
		t.Error("SetEnabled of an unknown protocol: no error")
	}
}

// Switching parsers while flows ask for candidates is safe (go test -race)
// and ends in the last state set.
func TestCandidatesConcurrentSwitch(t *testing.T) {
	r := NewRegistry()
	r.Add(&fakeDetector{"a", []Transport{TCP}})
	r.Add(&fakeDetector{"b", []Transport{TCP}})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			_ = r.SetEnabled("a", i%2 == 1)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			if c := r.Candidates(TCP); len(c) == 0 || c[len(c)-1].Name() != "b" {
				t.Errorf("Candidates = %v", names(c))
				return
			}
		}
	}()
	wg.Wait()
	if got := names(r.Candidates(TCP)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("final Candidates = %v, want [a b]", got)
	}
}
