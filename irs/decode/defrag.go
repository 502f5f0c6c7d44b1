package decode

import (
	"sort"
	"time"
)

// maxDatagram is the largest IP datagram payload fragments may rebuild.
const maxDatagram = 65535

// DefragConfig bounds the defragmenter. Zero values take the defaults.
type DefragConfig struct {
	MaxDatagrams int           // incomplete datagrams held at once (default 4096)
	MaxBytes     int           // fragment bytes held at once (default 32 MiB)
	MaxFragments int           // fragments per datagram (default 64)
	Timeout      time.Duration // an incomplete datagram is dropped after this (packet time; default 30 s)
}

type fragKey struct {
	src, dst [16]byte
	id       uint32
	family   uint8
	proto    uint8
}

type piece struct {
	off, end int
	data     []byte // the fragment's payload, inside frame.Frame
	frame    Fragment
}

type fragList struct {
	key        fragKey
	first      int64 // arrival of the first fragment
	pieces     []piece
	total      int // datagram length once the last fragment is in, else -1
	bytes      int
	prev, next *fragList
}

// Defragmenter rebuilds IPv4 and IPv6 datagrams from their fragments,
// within fixed caps on what it holds. Overlapping fragments keep the bytes
// that arrived first. It is owned by one Decoder.
type Defragmenter struct {
	cfg        DefragConfig
	lists      map[fragKey]*fragList
	head, tail *fragList // oldest first
	bytes      int
	buf        []byte
	frags      []Fragment
	order      []int
	// Evicted counts incomplete datagrams dropped to stay within the caps.
	Evicted uint64
}

// NewDefragmenter returns a defragmenter with cfg's caps.
func NewDefragmenter(cfg DefragConfig) *Defragmenter {
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = 4096
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 32 << 20
	}
	if cfg.MaxFragments <= 0 {
		cfg.MaxFragments = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Defragmenter{cfg: cfg, lists: map[fragKey]*fragList{}}
}

// Pending returns the number of incomplete datagrams held.
func (d *Defragmenter) Pending() int { return len(d.lists) }

// Bytes returns the fragment bytes held.
func (d *Defragmenter) Bytes() int { return d.bytes }

func (d *Defragmenter) unlink(l *fragList) {
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		d.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		d.tail = l.prev
	}
	l.prev, l.next = nil, nil
	delete(d.lists, l.key)
	d.bytes -= l.bytes
}

// Expire drops incomplete datagrams whose first fragment is older than
// the timeout, and returns how many.
func (d *Defragmenter) Expire(now int64) int {
	n := 0
	for d.head != nil && d.head.first+int64(d.cfg.Timeout) < now {
		d.unlink(d.head)
		n++
	}
	return n
}

// add files one fragment. It returns the whole datagram's payload (valid
// until the next call) and the frames of all its fragments once complete.
func (d *Defragmenter) add(k *fragKey, off int, more bool, data, frame []byte, ts int64, length int) ([]byte, []Fragment, Reason) {
	l := d.lists[*k]
	if l == nil {
		for len(d.lists) >= d.cfg.MaxDatagrams && d.head != nil {
			d.unlink(d.head)
			d.Evicted++
		}
		l = &fragList{key: *k, first: ts, total: -1}
		d.lists[*k] = l
		if d.tail == nil {
			d.head, d.tail = l, l
		} else {
			l.prev, d.tail.next, d.tail = d.tail, l, l
		}
	}
	end := off + len(data)
	if !more {
		if l.total >= 0 && l.total != end {
			d.unlink(l) // two different ends: a broken or hostile datagram
			return nil, nil, ReasonFragment
		}
		l.total = end
	}
	if len(l.pieces) >= d.cfg.MaxFragments || (l.total >= 0 && end > l.total) {
		d.unlink(l)
		return nil, nil, ReasonFragment
	}
	cp := append([]byte(nil), frame...)
	start := offset(frame, data)
	l.pieces = append(l.pieces, piece{off: off, end: end, data: cp[start : start+len(data)],
		frame: Fragment{Timestamp: ts, Length: length, Frame: cp}})
	l.bytes += len(cp)
	d.bytes += len(cp)
	for d.bytes > d.cfg.MaxBytes && d.head != nil && d.head != l {
		d.unlink(d.head)
		d.Evicted++
	}
	if d.bytes > d.cfg.MaxBytes {
		d.unlink(l)
		d.Evicted++
		return nil, nil, ReasonNone
	}
	if l.total < 0 || !d.complete(l) {
		return nil, nil, ReasonNone
	}
	// Rebuild: later arrivals first, so that where fragments overlap the
	// bytes that arrived first win.
	if cap(d.buf) < l.total {
		d.buf = make([]byte, l.total, maxDatagram)
	}
	buf := d.buf[:l.total]
	d.frags = d.frags[:0]
	for i := len(l.pieces) - 1; i >= 0; i-- {
		pc := l.pieces[i]
		copy(buf[pc.off:pc.end], pc.data)
	}
	for _, pc := range l.pieces {
		d.frags = append(d.frags, pc.frame)
	}
	d.unlink(l)
	return buf, d.frags, ReasonNone
}

// complete reports whether the pieces cover [0, total).
func (d *Defragmenter) complete(l *fragList) bool {
	d.order = d.order[:0]
	for i := range l.pieces {
		d.order = append(d.order, i)
	}
	sort.Slice(d.order, func(a, b int) bool { return l.pieces[d.order[a]].off < l.pieces[d.order[b]].off })
	covered := 0
	for _, i := range d.order {
		pc := l.pieces[i]
		if pc.off > covered {
			return false
		}
		if pc.end > covered {
			covered = pc.end
		}
	}
	return covered >= l.total
}
