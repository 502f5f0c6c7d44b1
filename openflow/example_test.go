package openflow_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/sdnli/sdnli/openflow"
)

// A mirror flow as sdnli's controller installs it: forward SMTP normally
// and copy it, tagged with the mirror VLAN, to the IRS port.
func ExampleNewFlowMod() {
	match, err := openflow.NewMatch(
		openflow.EthType(openflow.EthTypeIPv4),
		openflow.IPProto(openflow.IPProtoTCP),
		openflow.TCPDst(25),
	)
	if err != nil {
		log.Fatal(err)
	}
	fm := openflow.NewFlowMod(openflow.FlowAdd)
	fm.Cookie = 0x534d545000000019 // "SMTP", port 25
	fm.Priority = 100
	fm.Match = match
	fm.Instructions = []openflow.Instruction{openflow.ApplyActions(
		openflow.Output(openflow.PortNormal),
		openflow.PushVLAN(openflow.EthTypeVLAN),
		openflow.SetField(openflow.VLANVID(100)),
		openflow.Output(3),
	)}
	fmt.Println(fm)
	// Output: cookie=0x534d545000000019, priority=100,tcp,tp_dst=25 actions=NORMAL,push_vlan:0x8100,set_field:4196->vlan_vid,output:3
}

func ExampleNewMatch_prerequisites() {
	_, err := openflow.NewMatch(openflow.IPProto(openflow.IPProtoTCP), openflow.TCPDst(25))
	fmt.Println(err)
	fmt.Println(errors.Is(err, openflow.ErrInvalid))
	// Output:
	// openflow: match: invalid value: tcp_dst needs eth_type=0x0800 or eth_type=0x86dd, and ip_proto=6
	// true
}

// A select group spreading mirrored traffic over two IRS ports by weight.
func ExampleGroupMod() {
	gm := &openflow.GroupMod{
		Command:   openflow.GroupAdd,
		GroupType: openflow.GroupTypeSelect,
		GroupID:   1,
		Buckets: []openflow.Bucket{
			openflow.NewBucket(70, openflow.Output(3)),
			openflow.NewBucket(30, openflow.Output(4)),
		},
	}
	fmt.Println(gm)
	// Output: group_id=1,type=select,bucket=weight:70,actions=output:3,bucket=weight:30,actions=output:4
}

func ExampleDecode() {
	b, _ := openflow.Marshal(7, &openflow.EchoRequest{Data: []byte("hi")})
	h, m, err := openflow.Decode(b)
	fmt.Println(h, err)
	fmt.Printf("%q\n", m.(*openflow.EchoRequest).Data)
	// Output:
	// OFPT_ECHO_REQUEST (version 0x04, length 10, xid 0x7) <nil>
	// "hi"
}

// A controller accepting switches: handshake, install flows with a
// barrier, read the flow table back, and handle packet-ins.
func Example_controller() {
	ln, err := net.Listen("tcp", "127.0.0.1:6653")
	if err != nil {
		log.Fatal(err)
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := openflow.NewConn(ctx, nc, openflow.Config{})
			if err != nil {
				log.Print(err) // e.g. a switch without OpenFlow 1.3
				return
			}
			defer conn.Close()

			miss := openflow.NewFlowMod(openflow.FlowAdd)
			miss.Priority = 0
			miss.Instructions = []openflow.Instruction{openflow.ApplyActions(openflow.Output(openflow.PortController))}
			if err := conn.SendBatch(ctx, miss); err != nil {
				log.Print(err) // lists every *openflow.Error the switch reported
				return
			}
			flows, err := conn.FlowStats(ctx, openflow.NewFlowStatsRequest())
			if err != nil {
				log.Print(err)
				return
			}
			for _, f := range flows {
				log.Print(f) // cookie=0x0, duration=0.002s, table=0, ... actions=CONTROLLER:65535
			}
			for in := range conn.Messages() {
				if pi, ok := in.Message.(*openflow.PacketIn); ok {
					port, _ := pi.InPort()
					log.Printf("packet-in on port %d: %d bytes", port, len(pi.Data))
				}
			}
			log.Print(conn.Err())
		}()
	}
}
