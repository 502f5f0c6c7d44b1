//go:build integration

package openflow

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The live test runs sdnli's OpenFlow package against a real Open vSwitch
// bridge (userspace datapath) whose controller is a listener of the test.
// A network namespace joined to the bridge by a veth pair observes a
// packet-out and produces a packet-in.
//
// With SDNLI_OPENFLOW_PCAP=file.pcap set, the OpenFlow conversation is
// also captured with tcpdump on loopback; capture_test.go holds bytes
// taken from such a capture.

const (
	irsPort   = 5 // ofport of the veth end on the bridge
	mirrorVID = 100
)

// syncBuffer collects a command's output while the test polls it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run executes a command and fails the test with its output on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ensureOVS makes sure ovsdb-server and ovs-vswitchd answer, starting
// them when they do not; it fails when Open vSwitch is not installed.
func ensureOVS(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ovs-vsctl", "ovs-ofctl", "ip", "ethtool", "tcpdump", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the live OpenFlow test needs Open vSwitch, iproute2, ethtool, tcpdump and ping: %v", tool, err)
		}
	}
	if exec.Command("ovs-vsctl", "--timeout=5", "show").Run() == nil {
		return
	}
	out, err := exec.Command("/usr/share/openvswitch/scripts/ovs-ctl", "start", "--system-id=random").CombinedOutput()
	if err != nil {
		t.Fatalf("Open vSwitch is not running and ovs-ctl start failed: %v\n%s", err, out)
	}
	if err := exec.Command("ovs-vsctl", "--timeout=5", "show").Run(); err != nil {
		t.Fatalf("Open vSwitch does not answer after ovs-ctl start: %v", err)
	}
}

// liveEnv is one bridge, one namespace and the controller connection.
type liveEnv struct {
	t      *testing.T
	bridge string
	ns     string
	vethBr string // end on the bridge
	vethNS string // end in the namespace
	conn   *Conn

	mu    sync.Mutex
	async []Incoming
}

func setupLive(t *testing.T) *liveEnv {
	ensureOVS(t)
	id := randomHex(3)
	e := &liveEnv{t: t, bridge: "ofbr" + id, ns: "ofns" + id, vethBr: "ofv" + id + "a", vethNS: "ofv" + id + "b"}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	if path := os.Getenv("SDNLI_OPENFLOW_PCAP"); path != "" {
		startCapture(t, path, port)
	}

	t.Cleanup(func() { exec.Command("ovs-vsctl", "--if-exists", "del-br", e.bridge).Run() })
	run(t, "ovs-vsctl", "add-br", e.bridge,
		"--", "set", "bridge", e.bridge, "datapath_type=netdev", "protocols=OpenFlow13", "fail_mode=secure",
		"other-config:disable-in-band=true",
		"--", "set-controller", e.bridge, fmt.Sprintf("tcp:127.0.0.1:%d", port))

	ln.(*net.TCPListener).SetDeadline(time.Now().Add(15 * time.Second))
	nc, err := ln.Accept()
	if err != nil {
		t.Fatalf("Open vSwitch did not connect to the controller port %d: %v", port, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.conn, err = NewConn(ctx, nc, Config{EchoInterval: 2 * time.Second})
	if err != nil {
		t.Fatalf("handshake with Open vSwitch: %v", err)
	}
	t.Cleanup(func() { e.conn.Close() })
	go func() {
		for in := range e.conn.Messages() {
			e.mu.Lock()
			e.async = append(e.async, in)
			e.mu.Unlock()
		}
	}()
	return e
}

// startCapture records the OpenFlow conversation with tcpdump on loopback.
func startCapture(t *testing.T, path string, port int) {
	cmd := exec.Command("tcpdump", "-i", "lo", "-U", "-s", "0", "-w", path, "tcp", "port", fmt.Sprint(port))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	t.Cleanup(func() {
		time.Sleep(200 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		t.Logf("captured the OpenFlow conversation to %s", path)
	})
	waitFor(t, "tcpdump to start", 5*time.Second, func() bool { return strings.Contains(stderr.String(), "listening on") })
}

// addNamespacePort creates the namespace and veth pair and attaches one
// end to the bridge as ofport irsPort.
func (e *liveEnv) addNamespacePort() {
	t := e.t
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", e.ns).Run()
		exec.Command("ip", "link", "del", e.vethBr).Run()
	})
	run(t, "ip", "netns", "add", e.ns)
	run(t, "ip", "link", "add", e.vethBr, "type", "veth", "peer", "name", e.vethNS)
	run(t, "ip", "link", "set", e.vethNS, "netns", e.ns)
	run(t, "ip", "link", "set", e.vethBr, "up")
	nsRun := func(args ...string) { run(t, "ip", append([]string{"netns", "exec", e.ns}, args...)...) }
	nsRun("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
	nsRun("ip", "link", "set", "lo", "up")
	nsRun("ip", "addr", "add", "10.77.0.1/24", "dev", e.vethNS)
	nsRun("ip", "link", "set", e.vethNS, "address", "02:77:00:00:00:01")
	nsRun("ip", "link", "set", e.vethNS, "up")
	nsRun("ethtool", "-K", e.vethNS, "tx", "off")
	run(t, "ovs-vsctl", "add-port", e.bridge, e.vethBr, "--", "set", "interface", e.vethBr, fmt.Sprintf("ofport_request=%d", irsPort))
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAsync waits for an asynchronous message accepted by match.
func (e *liveEnv) waitAsync(what string, match func(Incoming) bool) Incoming {
	e.t.Helper()
	var found Incoming
	waitFor(e.t, what, 10*time.Second, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, in := range e.async {
			if match(in) {
				found = in
				return true
			}
		}
		return false
	})
	return found
}

func (e *liveEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// flowKey identifies a flow in stats by what sdnli installed.
func flowKey(table uint8, cookie uint64, priority uint16, m Match, insts []Instruction) string {
	return fmt.Sprintf("table=%d cookie=%#x priority=%d match=%s actions=%s", table, cookie, priority, m, InstructionsString(insts))
}

// expectFlows checks that the switch holds exactly the given flows.
func (e *liveEnv) expectFlows(want ...*FlowMod) {
	e.t.Helper()
	stats, err := e.conn.FlowStats(e.ctx(), NewFlowStatsRequest())
	if err != nil {
		e.t.Fatalf("flow stats: %v", err)
	}
	var got, exp []string
	for _, f := range stats {
		got = append(got, flowKey(f.TableID, f.Cookie, f.Priority, f.Match, f.Instructions))
	}
	for _, f := range want {
		exp = append(exp, flowKey(f.TableID, f.Cookie, f.Priority, f.Match, f.Instructions))
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		e.t.Errorf("flows on the switch differ\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(exp, "\n  "))
	}
}

// Cookies name the protocol a mirror flow belongs to.
const (
	cookieSMTP = 0x534d5450_00000019 // "SMTP", port 25
	cookiePOP3 = 0x504f5033_0000006e // "POP3", port 110
	cookieBulk = 0x42554c4b_00000000 // "BULK"
)

func mirrorActions() []Action {
	return []Action{Output(PortNormal), PushVLAN(EthTypeVLAN), SetField(VLANVID(mirrorVID)), Output(irsPort)}
}

func TestLiveOVS(t *testing.T) {
	e := setupLive(t)
	var smtpTo, smtpFrom, pop3, tableMiss *FlowMod

	t.Run("features", func(t *testing.T) {
		f, err := e.conn.Features(e.ctx())
		if err != nil {
			t.Fatalf("Features: %v", err)
		}
		if f.DatapathID == 0 || f.NTables == 0 {
			t.Errorf("features = %+v, want a datapath id and tables", f)
		}
		d, err := e.conn.Desc(e.ctx())
		if err != nil {
			t.Fatalf("Desc: %v", err)
		}
		if d.Manufacturer != "Nicira, Inc." || !strings.Contains(d.Software, "3.") {
			t.Errorf("desc = %+v, want Open vSwitch", d)
		}
	})

	t.Run("echo and role", func(t *testing.T) {
		if err := e.conn.Echo(e.ctx(), []byte("sdnli live echo")); err != nil {
			t.Errorf("Echo: %v", err)
		}
		r, err := e.conn.SetRole(e.ctx(), RoleMaster, 1)
		if err != nil {
			t.Fatalf("SetRole: %v", err)
		}
		if r.Role.Role != RoleMaster || r.GenerationID != 1 {
			t.Errorf("role reply = %+v, want master generation 1", r.Role)
		}
		if _, err := e.conn.SetRole(e.ctx(), RoleMaster, 0); !errors.Is(err, RoleRequestFailedStale) {
			t.Errorf("stale generation: %v, want OFPRRFC_STALE", err)
		}
	})

	t.Run("port status and port desc", func(t *testing.T) {
		e.addNamespacePort()
		in := e.waitAsync("PORT_STATUS ADD for "+e.vethBr, func(in Incoming) bool {
			ps, ok := in.Message.(*PortStatus)
			return ok && ps.Reason == PortReasonAdd && ps.Port.Name == e.vethBr
		})
		if ps := in.Message.(*PortStatus); ps.Port.PortNo != irsPort {
			t.Errorf("port status port = %d, want %d", ps.Port.PortNo, irsPort)
		}
		ports, err := e.conn.PortDesc(e.ctx())
		if err != nil {
			t.Fatalf("PortDesc: %v", err)
		}
		names := map[uint32]string{}
		for _, p := range ports {
			names[p.PortNo] = p.Name
		}
		if names[irsPort] != e.vethBr || names[PortLocal] != e.bridge {
			t.Errorf("ports = %v, want %d:%s and LOCAL:%s", names, irsPort, e.vethBr, e.bridge)
		}
	})

	t.Run("groups", func(t *testing.T) {
		sel := &GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 1, Buckets: []Bucket{
			NewBucket(70, PushVLAN(EthTypeVLAN), SetField(VLANVID(mirrorVID)), Output(irsPort)),
			NewBucket(30, Output(PortLocal)),
		}}
		ff := &GroupMod{Command: GroupAdd, GroupType: GroupTypeFastFailover, GroupID: 2, Buckets: []Bucket{
			NewFailoverBucket(irsPort, Output(irsPort)), NewFailoverBucket(PortLocal, Output(PortLocal)),
		}}
		if err := e.conn.SendBatch(e.ctx(), sel, ff); err != nil {
			t.Fatalf("group add: %v", err)
		}
		rep, err := e.conn.Multipart(e.ctx(), &GroupDescRequest{})
		if err != nil {
			t.Fatalf("group desc: %v", err)
		}
		var got []string
		for _, g := range rep.(*GroupDescReply).Groups {
			got = append(got, g.String())
		}
		slices.Sort(got)
		want := []string{
			"group_id=1,type=select,bucket=weight:70,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:5,bucket=weight:30,actions=LOCAL",
			"group_id=2,type=ff,bucket=watch_port:5,actions=output:5,bucket=watch_port:LOCAL,actions=LOCAL",
		}
		if !slices.Equal(got, want) {
			t.Errorf("groups on the switch:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		err = e.conn.SendBatch(e.ctx(), sel)
		var swErr *Error
		if !errors.Is(err, GroupModFailedGroupExists) || !errors.As(err, &swErr) {
			t.Fatalf("adding group 1 twice: %v, want OFPGMFC_GROUP_EXISTS", err)
		}
		if h, ok := swErr.Offending(); !ok || h.Type != TypeGroupMod {
			t.Errorf("error data names %+v, want the GROUP_MOD", h)
		}
	})

	t.Run("flow add modify delete", func(t *testing.T) {
		var err error
		smtpTo = NewFlowMod(FlowAdd)
		smtpTo.Cookie, smtpTo.Priority = cookieSMTP, 100
		if smtpTo.Match, err = NewMatch(EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(25)); err != nil {
			t.Fatal(err)
		}
		smtpTo.Instructions = []Instruction{ApplyActions(mirrorActions()...)}
		smtpFrom = NewFlowMod(FlowAdd)
		smtpFrom.Cookie, smtpFrom.Priority = cookieSMTP, 100
		if smtpFrom.Match, err = NewMatch(EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPSrc(25)); err != nil {
			t.Fatal(err)
		}
		smtpFrom.Instructions = []Instruction{ApplyActions(mirrorActions()...)}
		pop3 = NewFlowMod(FlowAdd)
		pop3.Cookie, pop3.Priority = cookiePOP3, 100
		if pop3.Match, err = NewMatch(EthType(EthTypeIPv4), IPProto(IPProtoTCP), TCPDst(110)); err != nil {
			t.Fatal(err)
		}
		pop3.Instructions = []Instruction{ApplyActions(Output(PortNormal), Group(1))}
		tableMiss = NewFlowMod(FlowAdd)
		tableMiss.Priority = 0
		tableMiss.Instructions = []Instruction{ApplyActions(Output(PortController))}

		if err := e.conn.SendBatch(e.ctx(), smtpTo, smtpFrom, pop3, tableMiss); err != nil {
			t.Fatalf("flow add: %v", err)
		}
		e.expectFlows(smtpTo, smtpFrom, pop3, tableMiss)
		if t.Failed() {
			return
		}

		mod := *smtpTo
		mod.Command = FlowModifyStrict
		mod.Instructions = []Instruction{ApplyActions(Output(PortNormal), Output(irsPort))}
		if err := e.conn.SendBatch(e.ctx(), &mod); err != nil {
			t.Fatalf("flow modify: %v", err)
		}
		smtpTo.Instructions = mod.Instructions
		e.expectFlows(smtpTo, smtpFrom, pop3, tableMiss)

		del := *smtpFrom
		del.Command = FlowDeleteStrict
		del.Instructions = nil
		if err := e.conn.SendBatch(e.ctx(), &del); err != nil {
			t.Fatalf("flow delete: %v", err)
		}
		e.expectFlows(smtpTo, pop3, tableMiss)

		// Deleting by cookie removes every flow of one protocol.
		byCookie := NewFlowMod(FlowDelete)
		byCookie.TableID, byCookie.Cookie, byCookie.CookieMask = TableAll, cookiePOP3, ^uint64(0)
		if err := e.conn.SendBatch(e.ctx(), byCookie); err != nil {
			t.Fatalf("flow delete by cookie: %v", err)
		}
		e.expectFlows(smtpTo, tableMiss)
	})

	t.Run("flow stats in several parts", func(t *testing.T) {
		// 1000 flows make a flow stats reply of about 100 KB: more than one
		// 64 KB message, so the switch must use REPLY_MORE.
		var bulk []Message
		var want []*FlowMod
		for i := range 1000 {
			fm := NewFlowMod(FlowAdd)
			fm.TableID, fm.Cookie, fm.Priority = 1, cookieBulk|uint64(i), 10
			m, err := NewMatch(EthType(EthTypeIPv4), IPProto(IPProtoUDP), UDPDst(uint16(10000+i)))
			if err != nil {
				t.Fatal(err)
			}
			fm.Match = m
			fm.Instructions = []Instruction{ApplyActions(Output(PortNormal), Output(irsPort))}
			bulk = append(bulk, fm)
			want = append(want, fm)
		}
		if err := e.conn.SendBatch(e.ctx(), bulk...); err != nil {
			t.Fatalf("adding 1000 flows: %v", err)
		}
		rep, err := e.conn.Multipart(e.ctx(), &FlowStatsRequest{TableID: 1, OutPort: PortAny, OutGroup: GroupAny})
		if err != nil {
			t.Fatalf("flow stats: %v", err)
		}
		size, _ := AppendMessage(nil, 1, &MultipartReply{Body: &FlowStatsReply{}})
		wire, _ := rep.(*FlowStatsReply).appendBody(size)
		if len(wire) <= MaxMessageLen {
			t.Errorf("the reply is only %d bytes; the test needs more than one message", len(wire))
		}
		e.expectFlows(append(want, smtpTo, tableMiss)...)
		agg, err := e.conn.Multipart(e.ctx(), &AggregateStatsRequest{TableID: 1, OutPort: PortAny, OutGroup: GroupAny})
		if err != nil {
			t.Fatalf("aggregate stats: %v", err)
		}
		if n := agg.(*AggregateStatsReply).FlowCount; n != 1000 {
			t.Errorf("aggregate flow_count = %d, want 1000", n)
		}
		clear := NewFlowMod(FlowDelete)
		clear.TableID = 1
		if err := e.conn.SendBatch(e.ctx(), clear); err != nil {
			t.Fatalf("clearing table 1: %v", err)
		}
		e.expectFlows(smtpTo, tableMiss)
	})

	t.Run("packet in on table miss", func(t *testing.T) {
		// The ping's ARP request reaches the bridge and misses every flow.
		exec.Command("ip", "netns", "exec", e.ns, "ping", "-c", "1", "-W", "1", "10.77.0.2").Run()
		in := e.waitAsync("PACKET_IN of the ARP request", func(in Incoming) bool {
			pi, ok := in.Message.(*PacketIn)
			return ok && len(pi.Data) >= 14 && pi.Data[12] == 0x08 && pi.Data[13] == 0x06
		})
		pi := in.Message.(*PacketIn)
		if port, ok := pi.InPort(); !ok || port != irsPort {
			t.Errorf("packet-in in_port = %d, %v; want %d", port, ok, irsPort)
		}
		if pi.Reason != PacketInNoMatch || pi.TableID != 0 {
			t.Errorf("packet-in reason %s table %d, want no_match in table 0", pi.Reason, pi.TableID)
		}
		if src := net.HardwareAddr(pi.Data[6:12]).String(); src != "02:77:00:00:00:01" {
			t.Errorf("packet-in source MAC = %s, want the namespace's 02:77:00:00:00:01", src)
		}
		if int(pi.TotalLen) != len(pi.Data) {
			t.Errorf("total_len %d with %d bytes of data", pi.TotalLen, len(pi.Data))
		}
	})

	t.Run("packet out reaches the port", func(t *testing.T) {
		cmd := exec.Command("ip", "netns", "exec", e.ns, "tcpdump", "-i", e.vethNS, "-n", "-e", "-xx", "-c", "1", "-U", "ether", "proto", "0x88cc")
		var stdout, stderr syncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("tcpdump in the namespace: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() { cmd.Process.Kill() })
		waitFor(t, "tcpdump in the namespace", 5*time.Second, func() bool { return strings.Contains(stderr.String(), "listening on") })

		// An LLDP frame as topology discovery sends it, marked with the port.
		frame := lldpFrame()
		copy(frame[6:12], []byte{0x02, 0x5d, 0x11, 0x00, 0x00, 0x05})
		deadline := time.After(10 * time.Second)
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := e.conn.Send(e.ctx(), NewPacketOut(frame, Output(irsPort))); err != nil {
				t.Fatalf("packet out: %v", err)
			}
			select {
			case <-exited:
				out := stdout.String()
				if !strings.Contains(out, "02:5d:11:00:00:05 > 01:80:c2:00:00:0e") || !strings.Contains(out, "LLDP") {
					t.Errorf("tcpdump saw something else:\n%s", out)
				}
				return
			case <-tick.C:
			case <-deadline:
				t.Fatalf("the packet-out never reached %s in %s; tcpdump: %s", e.vethNS, e.ns, stderr.String())
			}
		}
	})

	t.Run("errors without a waiter arrive asynchronously", func(t *testing.T) {
		bad := NewFlowMod(FlowAdd)
		bad.Instructions = []Instruction{GotoTable(0)} // going back to table 0 from table 0
		xid, err := e.conn.Send(e.ctx(), bad)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		in := e.waitAsync("ERROR for the bad flow mod", func(in Incoming) bool {
			_, ok := in.Message.(*Error)
			return ok && in.Header.XID == xid
		})
		if code := in.Message.(*Error).Code; code.ErrType() != ErrTypeBadInstruction {
			t.Errorf("error %s, want an OFPET_BAD_INSTRUCTION", code)
		}
		if err := e.conn.Barrier(e.ctx()); err != nil {
			t.Errorf("Barrier: %v", err)
		}
	})
}
