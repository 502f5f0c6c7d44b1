package http

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Limits for cleartext HTTP/2.
const (
	maxH2Frame     = 1 << 20   // frames buffered whole; larger ones are skipped
	maxH2Block     = 256 << 10 // one header block (HEADERS + CONTINUATION)
	maxH2Streams   = 1024      // streams tracked at once
	maxH2TableSize = 64 << 10  // HPACK dynamic table we agree to keep
)

var h2FrameNames = [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
	"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}

var h2SettingNames = map[uint16]string{1: "header_table_size", 2: "enable_push",
	3: "max_concurrent_streams", 4: "initial_window_size", 5: "max_frame_size",
	6: "max_header_list_size", 8: "enable_connect_protocol"}

// h2conn follows an HTTP/2 connection started with prior knowledge (the
// client preface), turning each stream into an "http-request" event and
// the connection into one "http2-session" event.
type h2conn struct {
	k           *conn
	half        [2]*h2half
	streams     map[uint32]*h2stream
	frames      map[string]int
	settings    [2]map[string]uint32
	nStreams    int
	goaway      string
	start, last time.Time
	anoms       parser.Anomalies
}

type h2half struct {
	dir     parser.Direction
	preface string // preface bytes still expected (client side)
	buf     []byte
	skip    int // payload bytes of an oversized frame still to discard
	dead    bool
	dec     *hpack.Decoder
	hpackOK bool
	// header block being assembled
	block       []byte
	blockStream uint32
	blockEnd    bool // END_STREAM on the HEADERS that opened the block
	promised    uint32
	inBlock     bool
}

type h2stream struct {
	id      uint32
	t       *txn
	reqEnd  bool
	respEnd bool
}

// startH2 switches the connection to HTTP/2 after the client preface's
// first line ("PRI * HTTP/2.0") was read.
func (k *conn) startH2(ts time.Time) {
	h := &h2conn{k: k, streams: map[uint32]*h2stream{}, frames: map[string]int{}, start: ts, last: ts}
	for d := range h.half {
		dec := hpack.NewDecoder(4096, nil)
		dec.SetMaxStringLength(maxH2Block)
		h.half[d] = &h2half{dir: parser.Direction(d), dec: dec, hpackOK: true}
	}
	h.half[parser.ClientToServer].preface = h2Preface[len("PRI * HTTP/2.0\r\n\r\n"):]
	k.h2 = h
	// server bytes already waiting (its SETTINGS may precede the preface)
	srv := &k.half[parser.ServerToClient]
	if len(srv.buf) > 0 {
		b := srv.buf
		srv.buf = nil
		h.process(parser.ServerToClient, b, ts)
	}
}

func (h *h2conn) process(dir parser.Direction, data []byte, ts time.Time) {
	hh := h.half[dir]
	if hh.dead {
		return
	}
	h.last = ts
	if hh.preface != "" {
		n := min(len(hh.preface), len(data))
		if string(data[:n]) != hh.preface[:n] {
			h.anoms.Add("HTTP/2 client preface malformed")
			hh.dead = true
			return
		}
		hh.preface = hh.preface[n:]
		data = data[n:]
	}
	if hh.skip > 0 {
		n := min(hh.skip, len(data))
		hh.skip -= n
		data = data[n:]
	}
	if len(data) == 0 {
		return
	}
	hh.buf = append(hh.buf, data...)
	p := hh.buf
	for len(p) >= 9 && !hh.dead {
		length := int(p[0])<<16 | int(p[1])<<8 | int(p[2])
		typ, flags := p[3], p[4]
		stream := binary.BigEndian.Uint32(p[5:9]) & 0x7fffffff
		if length > maxH2Frame {
			h.count(typ)
			h.anoms.Addf("HTTP/2 %s frame of %d bytes skipped", frameName(typ), length)
			if typ == 0 {
				if st := h.streams[stream]; st != nil {
					if m := h.msgFor(st, dir); m != nil {
						m.incomplete = true
					}
				}
			}
			skip := min(length, len(p)-9)
			hh.skip = length - skip
			p = p[9+skip:]
			if hh.inBlock && typ != 9 {
				hh.inBlock, hh.block = false, nil
			}
			continue
		}
		if len(p) < 9+length {
			break
		}
		h.frame(hh, typ, flags, stream, p[9:9+length], ts)
		p = p[9+length:]
	}
	if hh.dead {
		hh.buf = nil
		return
	}
	hh.buf = hh.buf[:copy(hh.buf, p)]
}

func frameName(t uint8) string {
	if int(t) < len(h2FrameNames) {
		return h2FrameNames[t]
	}
	return "type_" + strconv.Itoa(int(t))
}

func (h *h2conn) count(t uint8) { h.frames[frameName(t)]++ }

// frame handles one complete frame.
func (h *h2conn) frame(hh *h2half, typ, flags uint8, sid uint32, p []byte, ts time.Time) {
	h.count(typ)
	if hh.inBlock && typ != 9 {
		h.anoms.Add("HTTP/2 header block interrupted by another frame")
		hh.inBlock, hh.block = false, nil
		hh.hpackOK = false
	}
	const (
		endStream  = 0x1
		endHeaders = 0x4
		padded     = 0x8
		priority   = 0x20
	)
	unpad := func(p []byte) ([]byte, bool) {
		if flags&padded == 0 {
			return p, true
		}
		if len(p) < 1 || int(p[0]) > len(p)-1 {
			h.anoms.Addf("HTTP/2 %s frame with bad padding", frameName(typ))
			return nil, false
		}
		return p[1 : len(p)-int(p[0])], true
	}
	switch typ {
	case 0: // DATA
		body, ok := unpad(p)
		st := h.streams[sid]
		if !ok || st == nil {
			return
		}
		if m := h.msgFor(st, hh.dir); m != nil {
			h.k.appendBody(m, body)
			m.end = ts
		}
		if flags&endStream != 0 {
			h.endSide(st, hh.dir, ts)
		}
	case 1, 5: // HEADERS, PUSH_PROMISE
		frag, ok := unpad(p)
		if !ok {
			return
		}
		hh.promised = 0
		if typ == 1 && flags&priority != 0 {
			if len(frag) < 5 {
				h.anoms.Add("HTTP/2 HEADERS frame too short for its priority fields")
				return
			}
			frag = frag[5:]
		}
		if typ == 5 {
			if len(frag) < 4 {
				h.anoms.Add("HTTP/2 PUSH_PROMISE frame too short")
				return
			}
			hh.promised = binary.BigEndian.Uint32(frag) & 0x7fffffff
			frag = frag[4:]
		}
		hh.block = append(hh.block[:0], frag...)
		hh.blockStream, hh.blockEnd, hh.inBlock = sid, typ == 1 && flags&endStream != 0, true
		if flags&endHeaders != 0 {
			h.headerBlock(hh, ts)
		}
	case 9: // CONTINUATION
		if !hh.inBlock || sid != hh.blockStream {
			h.anoms.Add("HTTP/2 CONTINUATION without a header block")
			return
		}
		if len(hh.block)+len(p) > maxH2Block {
			h.anoms.Addf("HTTP/2 header block over %d bytes", maxH2Block)
			hh.inBlock, hh.block, hh.hpackOK = false, nil, false
			return
		}
		hh.block = append(hh.block, p...)
		if flags&endHeaders != 0 {
			h.headerBlock(hh, ts)
		}
	case 3: // RST_STREAM
		if st := h.streams[sid]; st != nil && len(p) >= 4 {
			st.t.note(fmt.Sprintf("stream reset by %s (error code %d)", hh.dir, binary.BigEndian.Uint32(p)))
			for _, m := range []*message{st.t.req, st.t.resp} {
				if m != nil && !m.incomplete {
					if (m.isReq && !st.reqEnd) || (!m.isReq && !st.respEnd) {
						m.incomplete = true
					}
				}
			}
			h.endSide(st, parser.ClientToServer, ts)
			h.endSide(st, parser.ServerToClient, ts)
		}
	case 4: // SETTINGS
		if flags&1 != 0 || len(p)%6 != 0 {
			return
		}
		set := h.settings[hh.dir]
		if set == nil {
			set = map[string]uint32{}
			h.settings[hh.dir] = set
		}
		for i := 0; i+6 <= len(p); i += 6 {
			id := binary.BigEndian.Uint16(p[i:])
			v := binary.BigEndian.Uint32(p[i+2:])
			name := h2SettingNames[id]
			if name == "" {
				name = "setting_" + strconv.Itoa(int(id))
			}
			set[name] = v
			if id == 1 {
				// the peer's encoder may now use up to v for what it sends us
				h.half[hh.dir.Reverse()].dec.SetAllowedMaxDynamicTableSize(min(v, maxH2TableSize))
			}
		}
	case 7: // GOAWAY
		if len(p) >= 8 {
			h.goaway = fmt.Sprintf("%s sent GOAWAY (last stream %d, error code %d)", hh.dir,
				binary.BigEndian.Uint32(p)&0x7fffffff, binary.BigEndian.Uint32(p[4:]))
		}
	}
}

// msgFor returns the message a direction writes on a stream.
func (h *h2conn) msgFor(st *h2stream, dir parser.Direction) *message {
	if dir == parser.ClientToServer {
		return st.t.req
	}
	return st.t.resp
}

// headerBlock decodes a complete header block and applies it.
func (h *h2conn) headerBlock(hh *h2half, ts time.Time) {
	hh.inBlock = false
	block := hh.block
	hh.block = hh.block[:0]
	if !hh.hpackOK {
		return
	}
	fields, err := hh.dec.DecodeFull(block)
	if err != nil {
		h.anoms.Addf("http: HPACK decoding of the %s header block on stream %d: %v; later headers of this direction not decoded", hh.dir, hh.blockStream, err)
		hh.hpackOK = false
		return
	}
	sid := hh.blockStream
	if hh.promised != 0 {
		// a pushed request: the server speaks for the client
		st := h.stream(hh.promised, ts)
		if st != nil && st.t.req == nil {
			st.t.req = h2message(fields, true, ts)
			st.t.note("server push")
			st.reqEnd = true
			st.t.reqDone = true
		}
		return
	}
	st := h.streams[sid]
	if st == nil {
		if hh.dir != parser.ClientToServer {
			h.anoms.Addf("HTTP/2 response headers on unknown stream %d", sid)
			return
		}
		if st = h.stream(sid, ts); st == nil {
			return
		}
	}
	m := h2message(fields, hh.dir == parser.ClientToServer, ts)
	switch {
	case m.isReq && st.t.req == nil:
		st.t.req = m
	case !m.isReq && m.status >= 100 && m.status < 200:
		st.t.interim = append(st.t.interim, m.status)
	case !m.isReq && st.t.resp == nil:
		st.t.resp = m
	default: // trailers
		if old := h.msgFor(st, hh.dir); old != nil {
			old.fields = append(old.fields, m.fields...)
		}
	}
	if hh.blockEnd {
		h.endSide(st, hh.dir, ts)
	}
}

// stream returns a new stream, or nil when too many are open.
func (h *h2conn) stream(id uint32, ts time.Time) *h2stream {
	if st := h.streams[id]; st != nil {
		return st
	}
	if len(h.streams) >= maxH2Streams {
		h.anoms.Addf("more than %d open HTTP/2 streams; stream %d ignored", maxH2Streams, id)
		return nil
	}
	st := &h2stream{id: id, t: &txn{version: "HTTP/2"}}
	h.streams[id] = st
	h.nStreams++
	return st
}

// h2message turns decoded header fields into a message.
func h2message(fields []hpack.HeaderField, isReq bool, ts time.Time) *message {
	m := &message{isReq: isReq, start: ts, end: ts, version: "HTTP/2"}
	m.fields = m.fields0[:0]
	for _, f := range fields {
		name := strings.ToLower(f.Name)
		switch name {
		case ":method":
			m.method = f.Value
		case ":path":
			m.target = f.Value
		case ":status":
			m.status, _ = strconv.Atoi(f.Value)
		case ":authority":
			name = "host"
		}
		m.headerBytes += len(f.Name) + len(f.Value)
		if len(m.fields) < maxHeaderFields {
			m.fields = append(m.fields, field{name, f.Value})
		}
	}
	if isReq && m.method == "CONNECT" && m.target == "" {
		m.target = m.get("host")
	}
	return m
}

// endSide marks one direction of a stream finished and reports the
// stream when both are.
func (h *h2conn) endSide(st *h2stream, dir parser.Direction, ts time.Time) {
	if dir == parser.ClientToServer {
		if st.reqEnd {
			return
		}
		st.reqEnd = true
		if m := st.t.req; m != nil {
			m.end = ts
			h.k.saveBody(m, st.t)
		}
		st.t.reqDone = true
	} else {
		if st.respEnd {
			return
		}
		st.respEnd = true
		if m := st.t.resp; m != nil {
			m.end = ts
			h.k.saveBody(m, st.t)
		}
		st.t.respDone = true
	}
	if st.reqEnd && st.respEnd {
		delete(h.streams, st.id)
		if st.t.req != nil || st.t.resp != nil {
			h.k.emitTxn(st.t)
		}
	}
}

func (h *h2conn) gap(dir parser.Direction, n int, ts time.Time) {
	hh := h.half[dir]
	if hh.dead {
		return
	}
	h.anoms.Addf("capture gap of %d bytes in the %s HTTP/2 stream; that direction no longer parsed", n, dir)
	hh.dead, hh.buf = true, nil
	for _, st := range h.streams {
		if m := h.msgFor(st, dir); m != nil {
			m.incomplete = true
		}
	}
}

// end reports open streams and the session.
func (h *h2conn) end(reason parser.EndReason, ts time.Time) {
	ids := make([]uint32, 0, len(h.streams))
	for id := range h.streams {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		st := h.streams[id]
		for _, m := range []*message{st.t.req, st.t.resp} {
			if m != nil && ((m.isReq && !st.reqEnd) || (!m.isReq && !st.respEnd)) {
				m.incomplete = true
			}
		}
		h.endSide(st, parser.ClientToServer, ts)
		h.endSide(st, parser.ServerToClient, ts)
	}
	s := event.Fields{{Key: "prior_knowledge", Value: true}, {Key: "streams", Value: h.nStreams}, {Key: "frames", Value: h.frames},
		{Key: "end_reason", Value: reason.String()}}
	if h.settings[0] != nil {
		s.Set("client_settings", h.settings[0])
	}
	if h.settings[1] != nil {
		s.Set("server_settings", h.settings[1])
	}
	if h.goaway != "" {
		s.Set("goaway", h.goaway)
	}
	h.k.emit(&event.Event{Type: TypeHTTP2, Start: h.start, End: ts, Subject: "HTTP/2 cleartext (prior knowledge)",
		Summary: s, Anomalies: h.anoms.Out()})
}
