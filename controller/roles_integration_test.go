//go:build integration

package controller_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/openflow"
)

func role(r openflow.ControllerRole, gen uint64) startOpt {
	return func(o *controller.Options) { o.Role, o.GenerationID = r, gen }
}

// TestLiveRoles: a master and a standing-by slave on one switch. The
// switch grants each its role; only the master programs (the slave's
// checks change nothing) and the slave refuses toggles.
func TestLiveRoles(t *testing.T) {
	b := newOneBridge(t, `"smtp": {"enabled": true}`)
	master := start(t, "127.0.0.1:0", b.cfg, nil, role(openflow.RoleMaster, 7))
	slave := start(t, "127.0.0.1:0", b.cfg, nil, role(openflow.RoleSlave, 7))
	b.br.SetController("tcp:"+master.OFAddr, "tcp:"+slave.OFAddr)
	master.installed(t, 1)
	slave.installed(t, 1)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		k    *ctl
		want string
	}{{"master", master, "master"}, {"slave", slave, "slave"}} {
		sws, err := tc.k.API.Switches(ctx)
		if err != nil || len(sws) != 1 || sws[0].Role != tc.want {
			t.Errorf("%s sees %+v, %v; want role %s granted", tc.name, sws, err, tc.want)
		}
	}
	before := b.br.Flows()
	if _, err := slave.API.SetMirror(ctx, "smtp", false); !client.IsStatus(err, 409) {
		t.Errorf("PUT on the slave: %v; want 409", err)
	}
	time.Sleep(2500 * time.Millisecond) // two periodic checks of both
	if after := b.br.Flows(); !slices.Equal(sorted(after), sorted(before)) {
		t.Errorf("flows changed while only checks ran")
	}
	if _, err := master.API.SetMirror(ctx, "smtp", false); err != nil {
		t.Errorf("PUT on the master: %v", err)
	}
	if hasFlow(b.br.Flows(), "tp_dst=25 ") {
		t.Errorf("the master's toggle did not reach the switch")
	}
}
