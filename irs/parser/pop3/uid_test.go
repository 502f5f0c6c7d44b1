package pop3

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// TestUIDTable: the UIDs a RETR reports are those of the last listing,
// however often the server listed them again, changed or not; the
// buffer they are kept in is compacted and stays within the bound; a
// listing past maxUIDs keeps its first maxUIDs messages and still
// updates them.
func TestUIDTable(t *testing.T) {
	listing := func(round, n int) string {
		var b strings.Builder
		b.WriteString("+OK\r\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%d uid-%d-%d\r\n", i, i, round)
		}
		b.WriteString(".\r\n")
		return b.String()
	}
	for _, c := range []struct {
		name     string
		rounds   int // listings, each changing every UID
		same     int // listings again unchanged after those
		n        int // messages listed
		retr     int
		wantUID  string
		wantUIDs int
	}{
		{"one listing", 1, 0, 3, 2, "uid-2-0", 3},
		{"listed again unchanged", 1, 5, 3, 3, "uid-3-0", 3},
		{"changed many times", 60, 0, 200, 150, "uid-150-59", 200},
		{"more than maxUIDs", 2, 0, maxUIDs + 10, maxUIDs, fmt.Sprintf("uid-%d-1", maxUIDs), maxUIDs},
		{"beyond maxUIDs not kept", 1, 0, maxUIDs + 10, maxUIDs + 5, "<nil>", maxUIDs},
	} {
		t.Run(c.name, func(t *testing.T) {
			segs := []parsertest.Segment{S(greeting), C("USER bob\r\n"), S("+OK\r\n"), C("PASS x\r\n"), S("+OK\r\n")}
			for r := range c.rounds {
				segs = append(segs, C("UIDL\r\n"), S(listing(r, c.n)))
			}
			for range c.same {
				segs = append(segs, C("UIDL\r\n"), S(listing(c.rounds-1, c.n)))
			}
			segs = append(segs, C(fmt.Sprintf("RETR %d\r\n", c.retr)), S("+OK\r\n"+message2+".\r\n"))
			c0 := parsertest.Conn(110)
			env := parsertest.NewEnv()
			p := Detector{}.New(c0, env).(*conn)
			for _, s := range segs {
				p.ProcessPacket(s.Dir, s.Data, c0.Start)
			}
			if got := len(p.sess.uids); got != c.wantUIDs {
				t.Errorf("%d UIDs kept, want %d", got, c.wantUIDs)
			}
			if b, bound := p.buffered(), memoryBound(p.limit()); b > bound {
				t.Errorf("parser holds %d bytes, bound %d", b, bound)
			}
			live := 0
			for _, s := range p.sess.uids {
				live += int(s.end - s.off)
			}
			if live != p.sess.uidLive {
				t.Errorf("%d bytes of UIDs counted, %d kept", p.sess.uidLive, live)
			}
			held := 0
			for _, c := range p.sess.uidText {
				held += cap(c)
			}
			if held != p.sess.uidHeld {
				t.Errorf("chunks of %d bytes counted, %d held", p.sess.uidHeld, held)
			}
			if held > 2*live+3*uidChunk {
				t.Errorf("UID chunks of %d bytes for %d bytes of UIDs: not compacted", held, live)
			}
			p.EndProcess(parser.EndClosed, c0.Start)
			want(t, one(t, env.Events, TypeDownload), map[string]string{"summary.uid": c.wantUID, "summary.message": fmt.Sprint(c.retr)})
		})
	}
}
