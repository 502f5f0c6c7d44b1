//go:build !linux

package capture

import (
	"errors"
	"time"
)

// LiveConfig configures capture on an interface (Linux only).
type LiveConfig struct {
	Interface     string
	BlockSize     int
	NumBlocks     int
	PollTimeout   time.Duration
	NoPromiscuous bool
}

// OpenLive is only available on Linux.
func OpenLive(cfg LiveConfig) (Source, error) {
	return nil, errors.New("capture: live capture needs Linux (AF_PACKET)")
}
