package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/api"
	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/flows/flowtest"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/openflow"
)

// fakeSwitch speaks just enough OpenFlow 1.3 to be a switch for the
// controller: handshake, role, port and flow tables (a flowtest.Table),
// barriers. Mute makes it stop answering barriers, like a switch that
// hangs.
type fakeSwitch struct {
	dpid  uint64
	ports []openflow.Port
	table *flowtest.Table
	mute  atomic.Bool
	nc    net.Conn
	wmu   sync.Mutex
}

// dialFake connects a fake switch with nports ports to the controller;
// table is its flow table (nil: a new, empty one).
func dialFake(t *testing.T, addr string, dpid uint64, nports int, table *flowtest.Table) *fakeSwitch {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if table == nil {
		table = flowtest.New()
	}
	f := &fakeSwitch{dpid: dpid, table: table, nc: nc}
	for i := 1; i <= nports; i++ {
		f.ports = append(f.ports, openflow.Port{PortNo: uint32(i), Name: fmt.Sprintf("f%d-eth%d", dpid, i),
			HWAddr: net.HardwareAddr{2, 0, 0, 0, byte(dpid), byte(i)}})
	}
	f.send(0, openflow.NewHello(openflow.Version))
	go f.serve()
	t.Cleanup(func() { nc.Close() })
	return f
}

func (f *fakeSwitch) send(xid uint32, m openflow.Message) {
	b, err := openflow.Marshal(xid, m)
	if err != nil {
		panic(err) // a test bug: every message here encodes
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_, _ = f.nc.Write(b)
}

func (f *fakeSwitch) serve() {
	rd := openflow.NewReader(f.nc)
	for {
		raw, err := rd.ReadRaw()
		if err != nil {
			return
		}
		h, m, err := openflow.Decode(raw)
		if err != nil {
			continue
		}
		switch m := m.(type) {
		case *openflow.FeaturesRequest:
			f.send(h.XID, &openflow.FeaturesReply{DatapathID: f.dpid, NTables: 254})
		case *openflow.RoleRequest:
			f.send(h.XID, &openflow.RoleReply{Role: m.Role})
		case *openflow.EchoRequest:
			f.send(h.XID, &openflow.EchoReply{Data: m.Data})
		case *openflow.BarrierRequest:
			if !f.mute.Load() {
				f.send(h.XID, &openflow.BarrierReply{})
			}
		case *openflow.FlowMod, *openflow.GroupMod:
			if err := f.table.SendBatch(context.Background(), m); err != nil {
				f.send(h.XID, openflow.NewError(openflow.BadRequestBadLen, raw[:min(len(raw), 64)]))
			}
		case *openflow.MultipartRequest:
			var body openflow.MultipartReplyBody
			switch req := m.Body.(type) {
			case *openflow.DescRequest:
				body = &openflow.DescReply{Manufacturer: "sdnli test", Software: "fake"}
			case *openflow.PortDescRequest:
				body = &openflow.PortDescReply{Ports: f.ports}
			case *openflow.FlowStatsRequest:
				fl, _ := f.table.FlowStats(context.Background(), req)
				body = &openflow.FlowStatsReply{Flows: fl}
			case *openflow.GroupDescRequest:
				gr, _ := f.table.Groups(context.Background())
				body = &openflow.GroupDescReply{Groups: gr}
			default:
				continue
			}
			f.send(h.XID, &openflow.MultipartReply{Body: body})
		}
	}
}

func startFake(t *testing.T, cfgJSON string, timeout time.Duration) (*controller.Controller, string) {
	t.Helper()
	cfg, err := policy.ParseConfig([]byte(cfgJSON))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := controller.New(ctx, controller.Options{Config: cfg, ProgramTimeout: timeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return c, ln.Addr().String()
}

func programmed(t *testing.T, c *controller.Controller, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ss := c.Sessions()
		ok := len(ss) == n
		for _, s := range ss {
			ok = ok && s.Applied() != nil
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d switches not programmed within 10s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestControllerWithFakeSwitches runs the whole controller against two
// fake switches: both get exactly their desired flows, a toggle returns
// after both confirmed, and when one stops answering barriers the toggle
// fails naming that switch.
func TestControllerWithFakeSwitches(t *testing.T) {
	c, addr := startFake(t, `{"irs": [{"name": "irs1", "dpid": 1, "port": "f1-eth3"}], "protocols": {"smtp": {"enabled": true}}}`, 500*time.Millisecond)
	s1 := dialFake(t, addr, 1, 3, nil)
	s2 := dialFake(t, addr, 2, 2, nil)
	programmed(t, c, 2)
	ctx := context.Background()

	check := func(t *testing.T) {
		t.Helper()
		for _, s := range c.Sessions() {
			f := map[uint64]*fakeSwitch{1: s1, 2: s2}[uint64(s.DPID)]
			if got, want := strings.Join(f.table.Dump(), "\n"), strings.Join(s.Applied().Lines(), "\n"); got != want {
				t.Errorf("switch %s holds\n%s\nwant\n%s", s.DPID, got, want)
			}
		}
	}
	check(t)
	if !strings.Contains(strings.Join(s1.table.Dump(), "\n"), "tp_dst=25 actions=NORMAL,output:3") {
		t.Errorf("switch 1 has no smtp copy to its irs port:\n%s", strings.Join(s1.table.Dump(), "\n"))
	}

	res, err := c.SetMirror(ctx, "icmp", true, "test")
	if err != nil || len(res.Switches) != 2 || !res.Switches[0].OK || res.Switches[0].Added != 2 {
		t.Fatalf("icmp on: %+v, %v; want both switches confirmed, 2 flows added on switch 1", res, err)
	}
	check(t)

	s2.mute.Store(true)
	_, err = c.SetMirror(ctx, "icmp", false, "test")
	var se *api.SwitchesError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "switch 0000000000000002") || strings.Contains(err.Error(), "switch 0000000000000001:") {
		t.Fatalf("toggle with switch 2 hung: %v; want an error naming switch 2 only", err)
	}
	if len(se.Results) != 2 || !se.Results[0].OK || se.Results[1].OK {
		t.Errorf("results %+v; want switch 1 ok, switch 2 failed", se.Results)
	}
	if _, err := c.SetMirror(ctx, "nope", true, "test"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("unknown protocol: %v; want ErrNotFound", err)
	}

	// Switch 2 comes back to life: the periodic check repairs it.
	s2.mute.Store(false)
	c.CheckNow(ctx)
	check(t)
}

// TestControllerReconnect: a switch that reconnects on a new connection
// replaces the old session and gets its flows again (new epoch).
func TestControllerReconnect(t *testing.T) {
	c, addr := startFake(t, `{"irs": [{"name": "irs1", "dpid": 1, "port": 2}], "protocols": {"icmp": {"enabled": true}}}`, time.Second)
	s1 := dialFake(t, addr, 1, 2, nil)
	programmed(t, c, 1)
	epoch := c.Sessions()[0].Stats().Epoch
	dialFake(t, addr, 1, 2, s1.table) // the same switch, its flows kept
	deadline := time.Now().Add(10 * time.Second)
	for {
		ss := c.Sessions()
		if len(ss) == 1 && ss[0].Applied() != nil && ss[0].Stats().Epoch != epoch {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reconnected switch not reinstalled with a new epoch")
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := c.Sessions()[0].Applied().Lines()
	if got := s1.table.Dump(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after reconnect the switch holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range want {
		if f, _ := flows.DecodeCookie(cookieOf(l)); f.Epoch == epoch {
			t.Errorf("flow of the old epoch left: %s", l)
		}
	}
}

func cookieOf(line string) uint64 {
	var c uint64
	fmt.Sscanf(line, "cookie=0x%x,", &c)
	return c
}

// TestControllerRetriesAFailedInstall: a switch that does not confirm its
// first install is programmed by a later check.
func TestControllerRetriesAFailedInstall(t *testing.T) {
	c, addr := startFake(t, `{"irs": [{"name": "irs1", "dpid": 1, "port": 2}], "protocols": {"icmp": {"enabled": true}}}`, 300*time.Millisecond)
	table := flowtest.New()
	f := &fakeSwitch{dpid: 1, table: table}
	f.mute.Store(true)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	f.nc = nc
	f.ports = []openflow.Port{{PortNo: 1, Name: "a"}, {PortNo: 2, Name: "b"}}
	f.send(0, openflow.NewHello(openflow.Version))
	go f.serve()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.Sessions()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("switch never connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the install times out
	if c.Sessions()[0].Applied() != nil {
		t.Fatalf("install reported done although the barrier never came")
	}
	f.mute.Store(false)
	c.CheckNow(context.Background())
	s := c.Sessions()[0]
	if s.Applied() == nil {
		t.Fatalf("check did not install the switch")
	}
	if got, want := strings.Join(table.Dump(), "\n"), strings.Join(s.Applied().Lines(), "\n"); got != want {
		t.Errorf("switch holds\n%s\nwant\n%s", got, want)
	}
}
