package flows

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/controller/flows/flowtest"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/topology"
)

// states returns the catalogue with the named protocols on, SMTP reduced
// to port 25 (to keep the expected text short), every protocol sent to irs.
func states(t *testing.T, irs []string, on ...string) []policy.State {
	t.Helper()
	p, err := policy.New(t.Context(), nil, nil)
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	st := p.Snapshot()
	for i := range st {
		st[i].IRS = irs
		for _, n := range on {
			if st[i].Name == n {
				st[i].Enabled = true
			}
		}
		if st[i].Name == "smtp" {
			st[i].Ports = []policy.Port{{Transport: policy.TCP, Port: 25}}
		}
	}
	return st
}

func newSwitch(d topology.DPID, n int) topology.Switch {
	s := topology.Switch{DPID: d}
	for i := 1; i <= n; i++ {
		s.Ports = append(s.Ports, topology.Port{No: uint32(i), Name: fmt.Sprintf("s%d-eth%d", d, i), Up: true})
	}
	return s
}

func end(d topology.DPID, p uint32) topology.End { return topology.End{DPID: d, Port: p} }

// oneSwitch: h1, h2, h3 on ports 1-3, the IRS on port 4.
func oneSwitch() (*topology.Graph, []IRSPort) {
	return topology.NewGraph([]topology.Switch{newSwitch(1, 4)}, nil),
		[]IRSPort{{Name: "irs1", DPID: 1, Port: 4, VLAN: 4000, Weight: 1}}
}

// lineOfThree: s1 (h1 on 1, h2 on 2, link on 3) - s2 (links 1, 2; h3 on 3)
// - s3 (link 1, IRS on 2).
func lineOfThree() (*topology.Graph, []IRSPort) {
	g := topology.NewGraph([]topology.Switch{newSwitch(1, 3), newSwitch(2, 3), newSwitch(3, 2)}, []topology.Link{
		{A: end(1, 3), B: end(2, 1)},
		{A: end(3, 1), B: end(2, 2)},
	})
	return g, []IRSPort{{Name: "irs1", DPID: 3, Port: 2, VLAN: 4000, Weight: 1}}
}

func compare(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	t.Errorf("flows differ\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
}

// installed programs a fake flow table with a desired table, as a
// connecting switch is programmed (epoch 0), and dumps it.
func installed(t *testing.T, tbl *Table) []string {
	t.Helper()
	ft := flowtest.New()
	if err := ft.SendBatch(context.Background(), PlanReinstall(Installed{}, tbl, false).Msgs...); err != nil {
		t.Fatalf("fake switch refused the flows: %v", err)
	}
	return ft.Dump()
}

func TestComputeOneSwitch(t *testing.T) {
	g, irs := oneSwitch()
	d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1"}, "smtp", "icmp"), IRS: irs})
	if len(errs) != 0 {
		t.Fatalf("Compute errors: %v", errs)
	}
	want := []string{
		"cookie=0x5d01000000000001, priority=1000,dl_type=0x88cc actions=CONTROLLER:65535",
		"cookie=0x5d01000000000002, priority=900,in_port=4 actions=drop",
		"cookie=0x5d01000100000004, priority=700,dl_vlan=4000 actions=drop",
		"cookie=0x5d01000000000006, priority=0 actions=goto_table:1",
		"cookie=0x5d02000700000000, table=1, priority=210,icmp actions=NORMAL,output:4",
		"cookie=0x5d02000700000000, table=1, priority=210,icmp6 actions=NORMAL,output:4",
		"cookie=0x5d02000300000000, table=1, priority=210,tcp,tp_dst=25 actions=NORMAL,output:4",
		"cookie=0x5d02000300000000, table=1, priority=210,tcp6,tp_dst=25 actions=NORMAL,output:4",
		"cookie=0x5d02000300000000, table=1, priority=200,tcp,tp_src=25 actions=NORMAL,output:4",
		"cookie=0x5d02000300000000, table=1, priority=200,tcp6,tp_src=25 actions=NORMAL,output:4",
		"cookie=0x5d01000000000006, table=1, priority=0 actions=NORMAL",
	}
	compare(t, d[1].Lines(), want)
	compare(t, installed(t, d[1]), want)
}

func TestComputeLineOfThree(t *testing.T) {
	g, irs := lineOfThree()
	d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1"}, "smtp", "icmp"), IRS: irs})
	if len(errs) != 0 {
		t.Fatalf("Compute errors: %v", errs)
	}
	edge := func(copyActs string) []string {
		return []string{
			"cookie=0x5d02000700000000, table=1, priority=210,icmp actions=NORMAL," + copyActs,
			"cookie=0x5d02000700000000, table=1, priority=210,icmp6 actions=NORMAL," + copyActs,
			"cookie=0x5d02000300000000, table=1, priority=210,tcp,tp_dst=25 actions=NORMAL," + copyActs,
			"cookie=0x5d02000300000000, table=1, priority=210,tcp6,tp_dst=25 actions=NORMAL," + copyActs,
			"cookie=0x5d02000300000000, table=1, priority=200,tcp,tp_src=25 actions=NORMAL," + copyActs,
			"cookie=0x5d02000300000000, table=1, priority=200,tcp6,tp_src=25 actions=NORMAL," + copyActs,
			"cookie=0x5d01000000000006, table=1, priority=0 actions=NORMAL",
		}
	}
	tests := []struct {
		dpid topology.DPID
		want []string
	}{
		{1, append([]string{
			"cookie=0x5d01000000000001, priority=1000,dl_type=0x88cc actions=CONTROLLER:65535",
			"cookie=0x5d01000100000004, priority=700,dl_vlan=4000 actions=drop",
			"cookie=0x5d01000000000005, priority=500,in_port=3 actions=NORMAL",
			"cookie=0x5d01000000000006, priority=0 actions=goto_table:1",
		}, edge("push_vlan:0x8100,set_field:8096->vlan_vid,output:3")...)},
		{2, append([]string{
			"cookie=0x5d01000000000001, priority=1000,dl_type=0x88cc actions=CONTROLLER:65535",
			"cookie=0x5d01000100000003, priority=800,in_port=1,dl_vlan=4000 actions=output:2",
			"cookie=0x5d01000100000004, priority=700,dl_vlan=4000 actions=drop",
			"cookie=0x5d01000000000005, priority=500,in_port=1 actions=NORMAL",
			"cookie=0x5d01000000000005, priority=500,in_port=2 actions=NORMAL",
			"cookie=0x5d01000000000006, priority=0 actions=goto_table:1",
		}, edge("push_vlan:0x8100,set_field:8096->vlan_vid,output:2")...)},
		{3, append([]string{
			"cookie=0x5d01000000000001, priority=1000,dl_type=0x88cc actions=CONTROLLER:65535",
			"cookie=0x5d01000000000002, priority=900,in_port=2 actions=drop",
			"cookie=0x5d01000100000003, priority=800,in_port=1,dl_vlan=4000 actions=pop_vlan,output:2",
			"cookie=0x5d01000100000004, priority=700,dl_vlan=4000 actions=drop",
			"cookie=0x5d01000000000005, priority=500,in_port=1 actions=NORMAL",
			"cookie=0x5d01000000000006, priority=0 actions=goto_table:1",
		}, edge("output:2")...)},
	}
	for _, tc := range tests {
		t.Run(tc.dpid.String(), func(t *testing.T) {
			compare(t, d[tc.dpid].Lines(), tc.want)
			compare(t, installed(t, d[tc.dpid]), tc.want)
		})
	}
}

func TestComputeSpreadOverTwoIRS(t *testing.T) {
	// Line of three with a second IRS on s1 port 2 (instead of h2).
	g, irs := lineOfThree()
	irs = append(irs, IRSPort{Name: "irs2", DPID: 1, Port: 2, VLAN: 4001, Weight: 3})
	d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1", "irs2"}, "icmp"), IRS: irs})
	if len(errs) != 0 {
		t.Fatalf("Compute errors: %v", errs)
	}
	want := map[topology.DPID][]string{
		1: {
			"cookie=0x5d01000000000001, priority=1000,dl_type=0x88cc actions=CONTROLLER:65535",
			"cookie=0x5d01000000000002, priority=900,in_port=2 actions=drop",
			"cookie=0x5d01000200000003, priority=800,in_port=3,dl_vlan=4001 actions=pop_vlan,output:2",
			"cookie=0x5d01000100000004, priority=700,dl_vlan=4000 actions=drop",
			"cookie=0x5d01000200000004, priority=700,dl_vlan=4001 actions=drop",
			"cookie=0x5d01000000000005, priority=500,in_port=3 actions=NORMAL",
			"cookie=0x5d01000000000006, priority=0 actions=goto_table:1",
			"cookie=0x5d02000700000000, table=1, priority=210,icmp actions=NORMAL,group:1560281088",
			"cookie=0x5d02000700000000, table=1, priority=210,icmp6 actions=NORMAL,group:1560281088",
			"cookie=0x5d01000000000006, table=1, priority=0 actions=NORMAL",
			"group_id=1560281088,type=select,bucket=weight:1,actions=push_vlan:0x8100,set_field:8096->vlan_vid,output:3,bucket=weight:3,actions=output:2",
		},
		3: {
			"cookie=0x5d01000000000001, priority=1000,dl_type=0x88cc actions=CONTROLLER:65535",
			"cookie=0x5d01000000000002, priority=900,in_port=2 actions=drop",
			"cookie=0x5d01000100000003, priority=800,in_port=1,dl_vlan=4000 actions=pop_vlan,output:2",
			"cookie=0x5d01000100000004, priority=700,dl_vlan=4000 actions=drop",
			"cookie=0x5d01000200000004, priority=700,dl_vlan=4001 actions=drop",
			"cookie=0x5d01000000000005, priority=500,in_port=1 actions=NORMAL",
			"cookie=0x5d01000000000006, priority=0 actions=goto_table:1",
			"cookie=0x5d02000700000000, table=1, priority=210,icmp actions=NORMAL,group:1560281088",
			"cookie=0x5d02000700000000, table=1, priority=210,icmp6 actions=NORMAL,group:1560281088",
			"cookie=0x5d01000000000006, table=1, priority=0 actions=NORMAL",
			"group_id=1560281088,type=select,bucket=weight:1,actions=output:2,bucket=weight:3,actions=push_vlan:0x8100,set_field:8097->vlan_vid,output:1",
		},
	}
	for dpid, w := range want {
		t.Run(dpid.String(), func(t *testing.T) {
			compare(t, d[dpid].Lines(), w)
			compare(t, installed(t, d[dpid]), w)
		})
	}
}

func TestComputeDynamic(t *testing.T) {
	g, irs := oneSwitch()
	dyn := []Dynamic{
		{ID: 7, Protocol: "ftp", IPProto: 6, A: netip.MustParseAddrPort("10.0.0.1:0"), B: netip.MustParseAddrPort("10.0.0.2:50000"), Idle: 30},
		{ID: 8, Protocol: "pptp", IPProto: 47, A: netip.MustParseAddrPort("[fd00::1]:0"), B: netip.MustParseAddrPort("[fd00::2]:0"), Idle: 60},
		{ID: 9, Protocol: "ftp", IPProto: 6, A: netip.MustParseAddrPort("10.0.0.3:0"), B: netip.MustParseAddrPort("10.0.0.4:2000"), Idle: 30,
			Gone: map[topology.DPID]bool{1: true}},
	}
	d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1"}), IRS: irs, Dynamic: dyn})
	if len(errs) != 0 {
		t.Fatalf("Compute errors: %v", errs)
	}
	var got []string
	for _, l := range d[1].Lines() {
		if strings.Contains(l, "priority=300") {
			got = append(got, l)
		}
	}
	want := []string{
		"cookie=0x5d03000900000008, table=1, idle_timeout=60, send_flow_rem priority=300,ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_proto=47 actions=NORMAL,output:4",
		"cookie=0x5d03000900000008, table=1, idle_timeout=60, send_flow_rem priority=300,ipv6,ipv6_src=fd00::2,ipv6_dst=fd00::1,nw_proto=47 actions=NORMAL,output:4",
		"cookie=0x5d03000200000007, table=1, idle_timeout=30, send_flow_rem priority=300,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=50000 actions=NORMAL,output:4",
		"cookie=0x5d03000200000007, table=1, idle_timeout=30, send_flow_rem priority=300,tcp,nw_src=10.0.0.2,nw_dst=10.0.0.1,tp_src=50000 actions=NORMAL,output:4",
	}
	compare(t, got, want)
}

func TestComputeProblems(t *testing.T) {
	g, _ := lineOfThree()
	tests := []struct {
		name string
		irs  []IRSPort
		want string
	}{
		{"irs port unresolved", []IRSPort{{Name: "irs1", DPID: 3, Port: 0, VLAN: 4000}}, "irs irs1: port not found on switch 0000000000000003"},
		{"irs switch absent", []IRSPort{{Name: "irs1", DPID: 9, Port: 1, VLAN: 4000}}, "switch 0000000000000001: smtp: irs irs1 unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1"}, "smtp"), IRS: tc.irs})
			joined := fmt.Sprint(errs)
			if !strings.Contains(joined, tc.want) {
				t.Errorf("errors %v; want one containing %q", errs, tc.want)
			}
			// Without a reachable IRS there is no mirror flow, only forwarding.
			for dpid, tbl := range d {
				for _, l := range tbl.Lines() {
					if strings.Contains(l, "tp_dst=25") {
						t.Errorf("switch %s has a mirror flow without a reachable irs: %s", dpid, l)
					}
				}
			}
		})
	}
}
