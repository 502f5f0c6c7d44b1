package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/flows/flowtest"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/session"
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
		st[i].IRS = []string{"irs1"}
		for _, n := range on {
			if st[i].Name == n {
				st[i].Enabled = true
			}
		}
	}
	sw := topology.Switch{DPID: 1, Ports: []topology.Port{{No: 1, Up: true}, {No: 2, Up: true}, {No: 3, Up: true}}}
	d, errs := flows.Compute(flows.Input{Graph: topology.NewGraph([]topology.Switch{sw}, nil), Protocols: st,
		IRS: []flows.IRSPort{{Name: "irs1", DPID: 1, Port: 3, VLAN: 4000, Weight: 1}}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return d[1]
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("switch holds\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestInstallApplyCheck(t *testing.T) {
	ctx := context.Background()
	tb := flowtest.New()
	s := session.New(1, tb, nil, openflow.RoleMaster, nil)

	smtp := desired(t, "smtp")
	if _, err := s.Apply(ctx, smtp); err == nil {
		t.Errorf("Apply before Install succeeded")
	}
	if _, err := s.Install(ctx, smtp); err != nil {
		t.Fatalf("Install: %v", err)
	}
	epoch := s.Stats().Epoch
	sameLines(t, tb.Dump(), smtp.WithEpoch(epoch).Lines())

	both := desired(t, "smtp", "icmp")
	p, err := s.Apply(ctx, both)
	if err != nil || p.Added != 2 || p.Removed != 0 {
		t.Fatalf("Apply icmp on: %+v, %v; want 2 flows added", p, err)
	}
	sameLines(t, tb.Dump(), both.WithEpoch(epoch).Lines())

	// Damage the switch: one flow deleted by hand, one foreign flow added.
	gone := both.Flows[4]
	tb.Remove(gone.TableID, gone.Priority, gone.Match)
	m, _ := openflow.NewMatch(openflow.EthType(openflow.EthTypeIPv4), openflow.IPProto(17), openflow.UDPDst(9))
	foreign := openflow.NewFlowMod(openflow.FlowAdd)
	foreign.TableID, foreign.Priority, foreign.Match, foreign.Cookie = 1, 250, m, flows.Cookie(flows.KindProtocol, 1, 0)
	tb.Add(foreign)
	p, err = s.Check(ctx)
	if err != nil || p.Added != 1 || p.Removed != 1 {
		t.Fatalf("Check: %+v, %v; want 1 added, 1 removed", p, err)
	}
	sameLines(t, tb.Dump(), both.WithEpoch(epoch).Lines())
	if st := s.Stats(); st.Repairs != 2 || st.Installed != len(both.Flows) {
		t.Errorf("stats %+v; want 2 repairs and %d installed", st, len(both.Flows))
	}
	if p, _ := s.Check(ctx); !p.Empty() {
		t.Errorf("second check repairs %d messages; want none", len(p.Msgs))
	}

	// A reconnect: a new session on the same table flips the epoch.
	s2 := session.New(1, tb, nil, openflow.RoleMaster, nil)
	if _, err := s2.Install(ctx, both); err != nil {
		t.Fatal(err)
	}
	if s2.Stats().Epoch == epoch {
		t.Errorf("reinstall kept epoch %v; want it flipped", epoch)
	}
	sameLines(t, tb.Dump(), both.WithEpoch(!epoch).Lines())
}

func TestApplyFailureIsRepairedByCheck(t *testing.T) {
	ctx := context.Background()
	tb := flowtest.New()
	s := session.New(1, tb, nil, openflow.RoleMaster, nil)
	if _, err := s.Install(ctx, desired(t)); err != nil {
		t.Fatal(err)
	}
	tb.FailNext = errors.New("connection reset")
	want := desired(t, "ssh")
	if _, err := s.Apply(ctx, want); err == nil || !strings.Contains(err.Error(), "switch 0000000000000001: apply: connection reset") {
		t.Fatalf("Apply error %v; want the switch and cause named", err)
	}
	if _, err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	sameLines(t, tb.Dump(), want.WithEpoch(s.Stats().Epoch).Lines())
}

func TestSlaveNeverPrograms(t *testing.T) {
	ctx := context.Background()
	tb := flowtest.New()
	s := session.New(1, tb, nil, openflow.RoleSlave, nil)
	if _, err := s.Install(ctx, desired(t, "smtp")); !errors.Is(err, session.ErrSlave) {
		t.Errorf("Install as slave: %v; want ErrSlave", err)
	}
	if _, err := s.Apply(ctx, desired(t, "smtp", "http")); !errors.Is(err, session.ErrSlave) {
		t.Errorf("Apply as slave: %v; want ErrSlave", err)
	}
	if _, err := s.Check(ctx); err != nil {
		t.Errorf("Check as slave: %v", err)
	}
	if tb.Msgs != 0 {
		t.Errorf("slave sent %d messages; want none", tb.Msgs)
	}
}

func TestPortStatus(t *testing.T) {
	s := session.New(1, flowtest.New(), []topology.Port{{No: 1, Name: "a", Up: true}}, openflow.RoleMaster, nil)
	tests := []struct {
		name     string
		ps       openflow.PortStatus
		wantDown bool
		wantN    int
	}{
		{"add", openflow.PortStatus{Reason: openflow.PortReasonAdd, Port: openflow.Port{PortNo: 2, Name: "b"}}, false, 2},
		{"link down", openflow.PortStatus{Reason: openflow.PortReasonModify, Port: openflow.Port{PortNo: 2, Name: "b", State: openflow.PortStateLinkDown}}, true, 2},
		{"admin down", openflow.PortStatus{Reason: openflow.PortReasonModify, Port: openflow.Port{PortNo: 1, Name: "a", Config: openflow.PortConfigDown}}, true, 2},
		{"delete", openflow.PortStatus{Reason: openflow.PortReasonDelete, Port: openflow.Port{PortNo: 2, Name: "b"}}, true, 1},
		{"local port is not listed", openflow.PortStatus{Reason: openflow.PortReasonAdd, Port: openflow.Port{PortNo: openflow.PortLocal, Name: "br"}}, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, down := s.PortStatus(&tc.ps)
			if down != tc.wantDown || len(s.Ports()) != tc.wantN {
				t.Errorf("down=%v ports=%d; want %v, %d", down, len(s.Ports()), tc.wantDown, tc.wantN)
			}
		})
	}
}
