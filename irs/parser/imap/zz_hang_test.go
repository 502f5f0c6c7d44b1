package imap

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

func TestZZHang(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 20000; iter++ {
		c := conversations[rng.Intn(len(conversations))]
		var cli, srv []byte
		for _, s := range c.segs {
			if s.Dir == parser.ClientToServer {
				cli = append(cli, s.Data...)
			} else {
				srv = append(srv, s.Data...)
			}
		}
		mut := func(b []byte) []byte {
			b = append([]byte(nil), b...)
			for k := rng.Intn(4); k > 0 && len(b) > 0; k-- {
				switch rng.Intn(3) {
				case 0:
					b[rng.Intn(len(b))] = byte(rng.Intn(256))
				case 1:
					i := rng.Intn(len(b))
					b = append(b[:i], b[min(len(b), i+rng.Intn(20)):]...)
				case 2:
					i := rng.Intn(len(b))
					b = append(b[:i:i], append([]byte("a9 COMPRESS DEFLATE\r\n"), b[i:]...)...)
				}
			}
			return b
		}
		cl, sv, cuts := mut(cli), mut(srv), rng.Uint64()
		done := make(chan bool)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				os.WriteFile("/tmp/imap-hang.txt", []byte(fmt.Sprintf("%q\n%q\n%d\n%s", cl, sv, cuts, buf[:n])), 0o644)
				panic("hang")
			}
		}()
		fuzzOne(t, cl, sv, cuts)
		close(done)
	}
}
