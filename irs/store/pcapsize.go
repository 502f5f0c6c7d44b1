package store

import (
	"encoding/binary"
	"errors"
	"io"
)

// WholePcapSize returns how many leading bytes of a pcap file of size
// bytes hold its header and only whole packet records. A session pcap
// that is still being written may end inside a record (a packet larger
// than what was left of the write buffer goes out in two writes); served
// up to this length, it always opens cleanly.
func WholePcapSize(r io.ReaderAt, size int64) (int64, error) {
	var hdr [24]byte
	if size < int64(len(hdr)) {
		return 0, errors.New("store: pcap shorter than its header")
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return 0, err
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(hdr[:4]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return 0, errors.New("store: not a pcap file")
	}
	off := int64(len(hdr))
	var rec [16]byte
	for off+int64(len(rec)) <= size {
		if _, err := r.ReadAt(rec[:], off); err != nil {
			return 0, err
		}
		next := off + int64(len(rec)) + int64(order.Uint32(rec[8:12]))
		if next > size {
			break
		}
		off = next
	}
	return off, nil
}
