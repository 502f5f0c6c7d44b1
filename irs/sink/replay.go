package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sdnli/sdnli/irs/event"
)

// replayer probes the database while it is down and replays spool files
// while it is up. On Close (draining) it replays what it can without
// waiting for an absent database, then exits.
func (s *Sink) replayer() {
	defer close(s.replayerDone)
	backoff := s.cfg.RetryMin
	wait := time.Duration(0)
	for {
		// While the database is down, spooling kicks must not turn into a
		// probe per batch: only the backoff timer wakes the loop then.
		var kick <-chan struct{}
		if s.up.Load() {
			kick = s.kick
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-kick:
			case <-s.draining:
			}
			t.Stop()
		}
		draining := false
		select {
		case <-s.draining:
			draining = true
		default:
		}
		if s.ctx.Err() != nil {
			return
		}

		if !s.up.Load() {
			if err := s.probe(); err != nil {
				s.fail(fmt.Errorf("sink: database still unreachable: %w", err), true)
				if draining {
					return
				}
				wait = backoff
				backoff = min(2*backoff, s.cfg.RetryMax)
				continue
			}
			s.markUp()
		}

		if draining {
			// The writer has finished: everything left is in files.
			if err := s.spool.rotate(); err != nil {
				s.fail(err, false)
			}
		}
		err := s.replayAll()
		switch {
		case err == nil:
			backoff = s.cfg.RetryMin
			if draining {
				return
			}
			wait = s.cfg.IdlePoll
		case s.ctx.Err() != nil:
			return
		default:
			s.markDown(err)
			if draining {
				return
			}
			wait = backoff
			backoff = min(2*backoff, s.cfg.RetryMax)
		}
	}
}

// probe checks that the database answers and has the events table.
func (s *Sink) probe() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteTimeout)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, "SELECT 1 FROM events LIMIT 1")
	if err != nil {
		return err
	}
	return rows.Close()
}

// replayAll replays every closed spool file, oldest first. Events the
// active file gathered while the database was up (queue overflow) are
// replayed too: the active file is closed first when it holds anything
// and no older file waits.
func (s *Sink) replayAll() error {
	files, err := s.spool.pending()
	if err != nil {
		return err
	}
	if len(files) == 0 && s.spool.activeSize() > 0 {
		if err := s.spool.rotate(); err != nil {
			return err
		}
		if files, err = s.spool.pending(); err != nil {
			return err
		}
	}
	for _, name := range files {
		if err := s.replayFile(name); err != nil {
			return err
		}
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
	}
	return nil
}

// replayFile stores every event of one spool file, then deletes it.
func (s *Sink) replayFile(name string) error {
	path := filepath.Join(s.spool.dir, name)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			delete(s.progress, name)
			return nil
		}
		return fmt.Errorf("sink: open spool %s: %w", name, err)
	}
	defer f.Close()
	pr := s.progress[name]
	if pr.offset > 0 {
		if _, err := f.Seek(pr.offset, io.SeekStart); err != nil {
			return fmt.Errorf("sink: seek spool %s: %w", name, err)
		}
	}
	lr := newLineReader(f, pr.offset, pr.line, maxLine)
	batch := make([]*event.Event, 0, s.cfg.BatchSize)
	var last spoolLine
	commit := func() error {
		if len(batch) > 0 {
			ins, _, err := s.store(batch)
			if err != nil {
				return err
			}
			s.replayed.Add(uint64(ins))
			batch = batch[:0]
		}
		pr.offset, pr.line = last.end, last.no
		s.progress[name] = pr
		return nil
	}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("sink: read spool %s: %w", name, err)
		}
		last = line
		if len(line.data) == 0 && !line.tooLong {
			continue // blank line
		}
		ev, derr := decodeSpoolLine(line)
		if derr != nil {
			if line.no > pr.reported {
				pr.reported = line.no
				s.corrupt.Add(1)
				s.log.Warn("corrupt spool line skipped", "file", path, "line", line.no, "err", derr)
				s.fail(fmt.Errorf("sink: %s line %d: %w", path, line.no, derr), true)
			}
			continue
		}
		batch = append(batch, ev)
		if len(batch) >= s.cfg.BatchSize {
			if err := commit(); err != nil {
				return err
			}
		}
	}
	if err := commit(); err != nil {
		return err
	}
	delete(s.progress, name)
	return s.spool.remove(name)
}

// decodeSpoolLine decodes one line, explaining why it cannot be used.
func decodeSpoolLine(line spoolLine) (*event.Event, error) {
	if line.tooLong {
		return nil, fmt.Errorf("line longer than %d bytes", maxLine)
	}
	ev, err := decodeLine(line.data)
	if err != nil {
		if !line.complete {
			return nil, fmt.Errorf("truncated last line (crash mid-write?): %w", err)
		}
		return nil, err
	}
	return ev, nil
}
