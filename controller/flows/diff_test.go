package flows_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/flows/flowtest"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

func desired(t *testing.T, on ...string) *flows.Table {
	t.Helper()
	p, err := policy.New(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Snapshot()
	for i := range st {
		st[i].IRS = []string{"irs1", "irs2"}
		for _, n := range on {
			if st[i].Name == n {
				st[i].Enabled = true
			}
		}
	}
	sw := topology.Switch{DPID: 1}
	for i := uint32(1); i <= 4; i++ {
		sw.Ports = append(sw.Ports, topology.Port{No: i, Up: true})
	}
	g := topology.NewGraph([]topology.Switch{sw}, nil)
	d, errs := flows.Compute(flows.Input{Graph: g, Protocols: st, IRS: []flows.IRSPort{
		{Name: "irs1", DPID: 1, Port: 3, VLAN: 4000, Weight: 1},
		{Name: "irs2", DPID: 1, Port: 4, VLAN: 4001, Weight: 1},
	}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return d[1]
}

func installed(t *testing.T, tb *flowtest.Table) flows.Installed {
	t.Helper()
	req := openflow.NewFlowStatsRequest()
	req.Cookie, req.CookieMask = flows.CookieMarker, flows.CookieMarkerMask
	fl, err := tb.FlowStats(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := tb.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return flows.Installed{Flows: fl, Groups: gr}
}

func send(t *testing.T, tb *flowtest.Table, p flows.Plan) {
	t.Helper()
	if err := tb.SendBatch(context.Background(), p.Msgs...); err != nil {
		t.Fatalf("batch: %v", err)
	}
}

func same(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("table\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// foreign is a flow put in sdnli's cookie space by hand.
func foreign() *openflow.FlowMod {
	m, _ := openflow.NewMatch(openflow.EthType(openflow.EthTypeIPv4), openflow.IPProto(6), openflow.TCPDst(9999))
	fm := openflow.NewFlowMod(openflow.FlowAdd)
	fm.TableID, fm.Priority, fm.Cookie, fm.Match = 1, 123, flows.Cookie(flows.KindProtocol, 3, 0), m
	return fm
}

// other is somebody else's flow, outside sdnli's cookie space.
func other() *openflow.FlowMod {
	m, _ := openflow.NewMatch(openflow.EthType(openflow.EthTypeARP))
	fm := openflow.NewFlowMod(openflow.FlowAdd)
	fm.TableID, fm.Priority, fm.Cookie, fm.Match = 0, 5, 0x1234, m
	fm.Instructions = []openflow.Instruction{openflow.ApplyActions(openflow.Output(openflow.PortNormal))}
	return fm
}

func TestReinstallGivesExactlyTheDesiredFlows(t *testing.T) {
	want := desired(t, "smtp", "icmp")
	tests := []struct {
		name  string
		setup func(tb *flowtest.Table)
	}{
		{"empty switch", func(*flowtest.Table) {}},
		{"switch with old flows, a foreign one and somebody else's", func(tb *flowtest.Table) {
			old := desired(t, "http", "smtp")
			for _, f := range old.Flows {
				tb.Add(f)
			}
			if err := tb.SendBatch(context.Background(), old.Groups[0]); err != nil {
				t.Fatal(err)
			}
			tb.Add(foreign())
			tb.Add(other())
		}},
		{"switch already in the new epoch with a stale flow", func(tb *flowtest.Table) {
			for _, f := range want.WithEpoch(true).Flows {
				tb.Add(f)
			}
			f := foreign()
			f.Cookie |= flows.CookieEpoch
			tb.Add(f)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := flowtest.New()
			tc.setup(tb)
			have := installed(t, tb)
			epoch := !flows.CurrentEpoch(have)
			if tc.name == "switch already in the new epoch with a stale flow" {
				epoch = true // as if the controller picked it anyway
			}
			send(t, tb, flows.PlanReinstall(have, want, epoch))
			got := tb.Dump()
			var mine []string
			for _, l := range got {
				if !strings.HasPrefix(l, "cookie=0x1234") {
					mine = append(mine, l)
				}
			}
			same(t, mine, want.WithEpoch(epoch).Lines())
			// A repair right after finds nothing to do.
			if p := flows.PlanRepair(installed(t, tb), want.WithEpoch(epoch)); !p.Empty() {
				t.Errorf("repair after reinstall sends %d messages; want none", len(p.Msgs))
			}
		})
	}
	t.Run("somebody else's flow survives", func(t *testing.T) {
		tb := flowtest.New()
		tb.Add(other())
		send(t, tb, flows.PlanReinstall(installed(t, tb), want, true))
		got := strings.Join(tb.Dump(), "\n")
		if !strings.Contains(got, "cookie=0x1234, priority=5,arp actions=NORMAL") {
			t.Errorf("table\n%s\nwant the foreign arp flow kept", got)
		}
	})
}

func TestUpdateTogglesOnlyWhatChanged(t *testing.T) {
	tb := flowtest.New()
	before := desired(t, "smtp")
	send(t, tb, flows.PlanReinstall(flows.Installed{}, before, false))
	tests := []struct {
		name        string
		on          []string
		wantAdded   int
		wantRemoved int
	}{
		{"http on", []string{"smtp", "http"}, 8, 0},
		{"smtp off", []string{"http"}, 0, 12},
		{"everything off", nil, 0, 8},
		{"icmp on", []string{"icmp"}, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after := desired(t, tc.on...)
			p := flows.PlanUpdate(before, after)
			if p.Added != tc.wantAdded || p.Removed != tc.wantRemoved {
				t.Errorf("plan adds %d, removes %d; want %d, %d", p.Added, p.Removed, tc.wantAdded, tc.wantRemoved)
			}
			send(t, tb, p)
			same(t, tb.Dump(), after.Lines())
			before = after
		})
	}
}

func TestRepair(t *testing.T) {
	want := desired(t, "smtp")
	tests := []struct {
		name        string
		damage      func(tb *flowtest.Table)
		wantAdded   int
		wantRemoved int
	}{
		{"nothing wrong", func(*flowtest.Table) {}, 0, 0},
		{"flow deleted by hand", func(tb *flowtest.Table) {
			f := want.Flows[len(want.Flows)-2]
			if !tb.Remove(f.TableID, f.Priority, f.Match) {
				t.Fatal("flow to remove not found")
			}
		}, 1, 0},
		{"foreign flow with our cookie", func(tb *flowtest.Table) { tb.Add(foreign()) }, 0, 1},
		{"flow altered", func(tb *flowtest.Table) {
			f := *want.Flows[0]
			f.Instructions = nil
			tb.Add(&f)
		}, 1, 0},
		{"group deleted", func(tb *flowtest.Table) {
			if err := tb.SendBatch(context.Background(), &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: openflow.GroupAll}); err != nil {
				t.Fatal(err)
			}
		}, 12, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := flowtest.New()
			send(t, tb, flows.PlanReinstall(flows.Installed{}, want, false))
			tc.damage(tb)
			p := flows.PlanRepair(installed(t, tb), want)
			if p.Added != tc.wantAdded || p.Removed != tc.wantRemoved {
				t.Errorf("repair adds %d, removes %d; want %d, %d", p.Added, p.Removed, tc.wantAdded, tc.wantRemoved)
			}
			send(t, tb, p)
			same(t, tb.Dump(), want.Lines())
		})
	}
}

func TestRepairReportsExpiredDynamicFlows(t *testing.T) {
	want := desired(t)
	m, _ := openflow.NewMatch(openflow.EthType(openflow.EthTypeIPv4), openflow.IPProto(47))
	dyn := openflow.NewFlowMod(openflow.FlowAdd)
	dyn.TableID, dyn.Priority, dyn.Cookie, dyn.Match, dyn.IdleTimeout = 1, 300, flows.Cookie(flows.KindDynamic, 9, 42), m, 10
	want.Flows = append(want.Flows, dyn)
	tb := flowtest.New()
	send(t, tb, flows.PlanReinstall(flows.Installed{}, want, false))
	tb.Remove(1, 300, m) // expired
	p := flows.PlanRepair(installed(t, tb), want)
	if p.Added != 0 || len(p.Gone) != 1 || p.Gone[0] != 42 {
		t.Errorf("repair adds %d, gone %v; want 0 added and dynamic 42 gone", p.Added, p.Gone)
	}
}

func TestCookieLayout(t *testing.T) {
	tests := []struct {
		cookie uint64
		want   flows.CookieFields
		ours   bool
	}{
		{flows.Cookie(flows.KindProtocol, 3, 0), flows.CookieFields{Kind: flows.KindProtocol, Protocol: 3}, true},
		{flows.Cookie(flows.KindDynamic, 2, 0xdeadbeef) | flows.CookieEpoch, flows.CookieFields{Epoch: true, Kind: flows.KindDynamic, Protocol: 2, ID: 0xdeadbeef}, true},
		{flows.Cookie(flows.KindTarget, 0, 1234567), flows.CookieFields{Kind: flows.KindTarget, ID: 1234567}, true},
		{0x1234, flows.CookieFields{}, false},
	}
	for _, tc := range tests {
		got, ours := flows.DecodeCookie(tc.cookie)
		if got != tc.want || ours != tc.ours {
			t.Errorf("DecodeCookie(%#x) = %+v, %v; want %+v, %v", tc.cookie, got, ours, tc.want, tc.ours)
		}
	}
	if got := flows.Cookie(flows.KindProtocol, 3, 0); got != 0x5d02000300000000 {
		t.Errorf("smtp cookie %#x; want 0x5d02000300000000", got)
	}
}
