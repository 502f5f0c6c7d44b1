package flows

import (
	"testing"

	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/topology"
)

// BenchmarkCompute: every protocol on, a line of 10 switches with 8
// host ports each, the IRS at one end: the work behind every toggle.
func BenchmarkCompute(b *testing.B) {
	p, err := policy.New(b.Context(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := p.Snapshot()
	for i := range st {
		st[i].Enabled, st[i].IRS = true, []string{"irs1"}
	}
	var sws []topology.Switch
	var links []topology.Link
	for d := topology.DPID(1); d <= 10; d++ {
		sws = append(sws, newSwitch(d, 10))
		if d > 1 {
			links = append(links, topology.Link{A: end(d-1, 10), B: end(d, 9)})
		}
	}
	in := Input{Graph: topology.NewGraph(sws, links), Protocols: st, IRS: []IRSPort{{Name: "irs1", DPID: 10, Port: 1, VLAN: 4000, Weight: 1}}}
	b.ReportAllocs()
	flows := 0
	for b.Loop() {
		d, errs := Compute(in)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		flows = 0
		for _, t := range d {
			flows += len(t.Flows)
		}
	}
	b.ReportMetric(float64(flows), "flows")
}
