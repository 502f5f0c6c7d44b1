package ssh

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzSSH feeds arbitrary client and server bytes, interleaved and cut
// at points derived from cuts, with occasional gaps and pauses, and
// checks that nothing panics, that the parser never holds more than
// bufferBound, that it holds nothing after EndProcess, and that every
// event encodes.
func FuzzSSH(f *testing.F) {
	seeds := [][]parsertest.Segment{
		handshake(cliKex, srvKex),
		{parsertest.S("SSH-1.99-OpenSSH_3.4\r\n"), parsertest.C("SSH-1.5-OpenSSH_6.2\n"), parsertest.S("\x00\x00\x01\x04binary")},
		{parsertest.S("SSH-2.0-OpenSSH_7.4\r\n"), parsertest.C("\r\n"), parsertest.S("Protocol mismatch.\n")},
	}
	etm := cliKex
	etm.enc, etm.mac = "aes128-ctr", "hmac-sha2-256-etm@openssh.com"
	seeds = append(seeds, append(handshake(etm, etm),
		parsertest.Segment{Dir: parser.ClientToServer, Data: append(etmPacket(32), etmPacket(16)...)},
		parsertest.Segment{Dir: parser.ServerToClient, Data: append(etmPacket(16), etmPacket(64)...)}))
	for i, segs := range seeds {
		var cli, srv []byte
		for _, s := range segs {
			if s.Dir == parser.ClientToServer {
				cli = append(cli, s.Data...)
			} else {
				srv = append(srv, s.Data...)
			}
		}
		// Encrypted-looking tails: keystrokes and a bulk run.
		cli = append(cli, make([]byte, 36*4)...)
		srv = append(srv, make([]byte, 1500)...)
		f.Add(cli, srv, uint64(i+1)*0x9e3779b97f4a7c15)
	}
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, client, server []byte, cuts uint64) {
	c := parsertest.Conn(22)
	c.MidStream = cuts&1 != 0
	d := Detector{}
	d.IsRelative(c, parser.ClientToServer, client)
	d.IsRelative(c, parser.ServerToClient, server)
	env := parsertest.NewEnv()
	p := d.New(c, env).(*conn)
	ts := c.Start
	rng := cuts | 1
	for len(client) > 0 || len(server) > 0 {
		rng = rng*6364136223846793005 + 1442695040888963407
		n := int(rng>>33)%1500 + 1
		dir, src := parser.ClientToServer, &client
		if (rng>>17)&1 == 1 && len(server) > 0 || len(client) == 0 {
			dir, src = parser.ServerToClient, &server
		}
		n = min(n, len(*src))
		ts = ts.Add(time.Duration((rng>>40)%400) * time.Millisecond)
		if (rng>>50)%97 == 0 {
			p.Gap(dir, n, ts)
		} else {
			p.ProcessPacket(dir, (*src)[:n], ts)
		}
		*src = (*src)[n:]
		if b := p.buffered(); b > bufferBound {
			t.Fatalf("parser holds %d bytes; bound %d", b, bufferBound)
		}
	}
	p.EndProcess(parser.EndClosed, ts)
	p.EndProcess(parser.EndClosed, ts)
	if b := p.buffered(); b != 0 {
		t.Fatalf("parser holds %d bytes after EndProcess", b)
	}
	if len(env.Events) == 0 || env.Events[0].Type != TypeSession {
		t.Fatalf("no ssh-session event first: %d events", len(env.Events))
	}
	for _, ev := range env.Events {
		if ev.Protocol != Name {
			t.Fatalf("event protocol %q", ev.Protocol)
		}
		if len(ev.Anomalies) > parser.MaxAnomalies+1 { // the cap and a note of how many more
			t.Fatalf("%d anomalies", len(ev.Anomalies))
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("event does not encode: %v", err)
		}
	}
	if n := len(env.Events); n > 1+maxActivities {
		t.Fatalf("%d events; at most one session and %d activities", n, maxActivities)
	}
}
