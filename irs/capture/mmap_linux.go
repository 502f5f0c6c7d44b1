package capture

import (
	"math"
	"os"
	"syscall"
)

// maxMapped is the largest file mapped: any size on 64-bit, where the
// address space is far larger than any capture; on 32-bit a large file
// would not find room, so it is read instead.
const maxMapped = math.MaxInt >> 1

// populateMax is the largest file whose pages are all mapped at once
// (MAP_POPULATE): one call instead of a fault per 64 KiB saves ~3 ms on a
// 157 MB file already in the page cache. A larger file is left to fault in
// as it is read, with the kernel reading ahead: populating it would read
// all of it before the first packet, and more than memory holds in vain.
const populateMax = 256 << 20

// mapFile maps the regular file f read-only, or returns nil when it
// cannot (not a regular file, empty, too large, mmap refused): the caller
// then reads the file instead.
func mapFile(f *os.File) []byte {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() > maxMapped {
		return nil
	}
	flags := syscall.MAP_SHARED
	if fi.Size() <= populateMax {
		flags |= syscall.MAP_POPULATE
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, flags)
	if err != nil {
		return nil
	}
	// Records are read front to back, once: read ahead generously.
	_ = syscall.Madvise(m, syscall.MADV_SEQUENTIAL)
	return m
}

func unmapFile(m []byte) error { return syscall.Munmap(m) }
