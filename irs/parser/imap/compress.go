package imap

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// inflater undoes one direction's COMPRESS=DEFLATE (RFC 4978): a raw
// DEFLATE stream (RFC 1951) that the sender flushes after each command or
// response.
//
// compress/flate reads from an io.Reader and cannot be paused when the
// input runs out, while the parser gets the stream in pieces. So the
// decompressor runs in a goroutine of its own that reads from a channel,
// and the parser hands it each piece and takes back what it decompressed
// before going on: the two never run at the same time, the output
// arrives in stream order, and it is the same however the input is cut
// (the decompressor emits what it has at each flush). close stops the
// goroutine; a parser that ends always calls it.
//
// Memory is bounded: the decompressor's 32 KiB window and tables, one
// output buffer, nothing queued. CPU is bounded too: past maxInflated
// bytes, or a ratio no mail stream reaches, the stream is given up.
type inflater struct {
	in   chan []byte
	out  chan inflated
	ack  chan struct{}
	dead bool
	busy bool // inside feed: a nested feed would deadlock
	err  error

	inTotal, outTotal int64

	// pending is the input piece being consumed; only the goroutine
	// touches it, while the parser waits in feed.
	pending []byte
}

// inflated is one message from the goroutine: output bytes, "all input
// consumed" (nothing), or the end of the stream (end, with err).
type inflated struct {
	b   []byte
	end bool
	err error
}

const (
	inflateBuf = 16 << 10
	// maxInflated caps the decompressed bytes of one direction, and
	// inflateRatio the ratio beyond a first maxRatioFree bytes: DEFLATE
	// reaches 1032:1 on zeros, mail traffic about 10:1.
	maxInflated  = 1 << 32
	inflateRatio = 256
)

// maxRatioFree is a variable so that a test can reach the ratio limit
// without decompressing 64 MiB.
var maxRatioFree int64 = 64 << 20

// errNested reports a decompressed stream fed from inside its own output
// (a parser bug, turned into an anomaly rather than a deadlock).
var errNested = errors.New("internal: nested decompression")

// errInflateLimit reports a stream given up for its size or ratio.
var errInflateLimit = errors.New("decompressed size beyond the limits (a compression bomb?)")

func newInflater() *inflater {
	z := &inflater{in: make(chan []byte), out: make(chan inflated), ack: make(chan struct{})}
	go z.run()
	// The goroutine asks for its first input.
	<-z.out
	return z
}

// run is the goroutine: read decompressed bytes, hand each piece over and
// wait until the parser is done with it.
func (z *inflater) run() {
	r := flate.NewReader(chanReader{z})
	buf := make([]byte, inflateBuf)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			z.out <- inflated{b: buf[:n]}
			<-z.ack
		}
		if err != nil {
			_ = r.Close()
			z.out <- inflated{end: true, err: err}
			return
		}
	}
}

// chanReader feeds the decompressor from the parser's pieces. Asking for
// more tells the parser that everything it gave was consumed.
type chanReader struct{ z *inflater }

func (c chanReader) Read(p []byte) (int, error) {
	z := c.z
	for len(z.cur()) == 0 {
		z.out <- inflated{}
		b, ok := <-z.in
		if !ok {
			return 0, io.EOF
		}
		z.setCur(b)
	}
	cur := z.cur()
	n := copy(p, cur)
	z.setCur(cur[n:])
	return n, nil
}

func (z *inflater) cur() []byte     { return z.pending }
func (z *inflater) setCur(b []byte) { z.pending = b }

// feed decompresses data and calls emit with each decompressed piece, in
// order, before it returns. It returns an error once the stream is dead
// (ended, corrupt, beyond the limits); data after that is ignored.
func (z *inflater) feed(data []byte, emit func([]byte)) error {
	if z.dead {
		return z.err
	}
	if len(data) == 0 {
		return nil
	}
	if z.busy {
		// The parser must never feed a stream from inside its own
		// output; if it did, the goroutine would wait for the ack
		// forever. Give the stream up instead.
		return errNested
	}
	z.busy = true
	defer func() { z.busy = false }()
	z.inTotal += int64(len(data))
	z.in <- data
	for {
		m := <-z.out
		switch {
		case m.end:
			z.dead = true
			z.err = m.err
			if errors.Is(m.err, io.EOF) {
				z.err = errors.New("the stream ended (final DEFLATE block)")
			}
			return z.err
		case m.b == nil:
			return nil // all input consumed
		}
		z.outTotal += int64(len(m.b))
		if z.outTotal > maxInflated || z.outTotal > maxRatioFree && z.outTotal > inflateRatio*z.inTotal {
			z.ack <- struct{}{}
			z.stop()
			z.err = errInflateLimit
			return z.err
		}
		emit(m.b)
		z.ack <- struct{}{}
	}
}

// stop ends the goroutine: the decompressor sees the end of its input and
// its last message is taken.
func (z *inflater) stop() {
	if z.dead {
		return
	}
	z.dead = true
	close(z.in)
	for m := range z.out {
		if m.end {
			return
		}
		if m.b != nil {
			z.ack <- struct{}{}
		}
	}
}

// close stops the goroutine if it still runs.
func (z *inflater) close() {
	if z != nil {
		z.stop()
	}
}

// size is the memory the decompressor holds, about: its window and
// tables, and the output buffer.
func (z *inflater) size() int {
	if z == nil || z.dead {
		return 0
	}
	return inflaterSize
}

// inflaterSize estimates compress/flate's decompressor (32 KiB window,
// Huffman tables, a 4 KiB read buffer) and the output buffer.
const inflaterSize = 32<<10 + 12<<10 + 4<<10 + inflateBuf

func inflateErr(dir string, err error) string {
	return fmt.Sprintf("COMPRESS=DEFLATE stream from the %s cannot be decompressed any further: %v; the rest of it is not parsed", dir, err)
}
