package controller

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/api"
	"github.com/sdnli/sdnli/controller/apiv1"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/topology"
)

var dynCfg = policy.DynamicConfig{MaxFlows: 2, DefaultIdleTimeout: 60, MaxIdleTimeout: 600}

func TestParseDynamic(t *testing.T) {
	tests := []struct {
		name string
		req  apiv1.DynamicRequest
		want string // flows.Dynamic as text, or the error
	}{
		{"ftp data", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "10.0.0.1:0", B: "10.0.0.2:50000", IdleTimeoutSeconds: 30}, "ftp 6 10.0.0.1:0 10.0.0.2:50000 30"},
		{"default idle", apiv1.DynamicRequest{Protocol: "FTP", Transport: "TCP", A: "10.0.0.1", B: "10.0.0.2:21"}, "ftp 6 10.0.0.1:0 10.0.0.2:21 60"},
		{"gre call v6", apiv1.DynamicRequest{Protocol: "pptp", Transport: "gre", A: "[fd00::1]:0", B: "fd00::2"}, "pptp 47 [fd00::1]:0 [fd00::2]:0 60"},
		{"v4-mapped v6 is v4", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "[::ffff:10.0.0.1]:20", B: "10.0.0.2:0"}, "ftp 6 10.0.0.1:20 10.0.0.2:0 60"},
		{"unknown protocol", apiv1.DynamicRequest{Protocol: "gopher", Transport: "tcp", A: "10.0.0.1:0", B: "10.0.0.2:0"}, `protocol "gopher"`},
		{"unknown transport", apiv1.DynamicRequest{Protocol: "ftp", Transport: "sctp", A: "10.0.0.1:0", B: "10.0.0.2:0"}, `transport "sctp"`},
		{"bad address", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "host:21", B: "10.0.0.2:0"}, `a "host:21"`},
		{"mixed families", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "10.0.0.1:0", B: "[fd00::2]:0"}, "not of one IP family"},
		{"unspecified", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "0.0.0.0:0", B: "10.0.0.2:0"}, "host addresses"},
		{"ports on gre", apiv1.DynamicRequest{Protocol: "pptp", Transport: "gre", A: "10.0.0.1:5", B: "10.0.0.2:0"}, "gre has no ports"},
		{"idle too long", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "10.0.0.1:0", B: "10.0.0.2:0", IdleTimeoutSeconds: 601}, "outside 1..600"},
		{"idle negative", apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: "10.0.0.1:0", B: "10.0.0.2:0", IdleTimeoutSeconds: -1}, "outside 1..600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDynamic(tc.req, dynCfg)
			var got string
			if err != nil {
				got = err.Error()
				if !errors.Is(err, api.ErrBadRequest) {
					t.Errorf("error %v does not wrap ErrBadRequest", err)
				}
			} else {
				got = strings.Join([]string{d.Protocol, strconv.Itoa(int(d.IPProto)), d.A.String(), d.B.String(), strconv.Itoa(int(d.Idle))}, " ")
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestDynamicTable(t *testing.T) {
	tbl := newDynamicTable(2)
	now := time.Now()
	mk := func(a, b string) apiv1.DynamicRequest {
		return apiv1.DynamicRequest{Protocol: "ftp", Transport: "tcp", A: a, B: b}
	}
	parse := func(r apiv1.DynamicRequest) (e dynEntry, created bool, err error) {
		d, err := parseDynamic(r, dynCfg)
		if err != nil {
			t.Fatal(err)
		}
		return tbl.add(d, now)
	}
	e1, created, err := parse(mk("10.0.0.1:0", "10.0.0.2:5000"))
	if err != nil || !created || e1.ID != 1 {
		t.Fatalf("first add: %+v %v %v", e1, created, err)
	}
	// The same connection asked from the other side is the same flow.
	again, created, err := parse(mk("10.0.0.2:5000", "10.0.0.1:0"))
	if err != nil || created || again.ID != e1.ID {
		t.Errorf("reversed add: id %d created %v err %v; want id %d existing", again.ID, created, err, e1.ID)
	}
	if _, _, err := parse(mk("10.0.0.3:0", "10.0.0.4:1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parse(mk("10.0.0.5:0", "10.0.0.6:1")); !errors.Is(err, api.ErrTooMany) {
		t.Errorf("third flow over a maximum of 2: %v; want ErrTooMany", err)
	}
	// Expired on one of two switches: still live; on both: forgotten.
	tbl.gone(e1.ID, 1)
	if n := len(tbl.live([]topology.DPID{1, 2})); n != 2 {
		t.Errorf("%d live; want 2", n)
	}
	tbl.gone(e1.ID, 2)
	if n := len(tbl.live([]topology.DPID{1, 2})); n != 1 {
		t.Errorf("%d live after expiry everywhere; want 1", n)
	}
	if _, created, err := parse(mk("10.0.0.5:0", "10.0.0.6:1")); err != nil || !created {
		t.Errorf("add after room was made: created %v err %v", created, err)
	}
}
