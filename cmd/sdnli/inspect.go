package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

func init() {
	register("inspect", "run the IRS pipeline over capture files", runInspect)
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", "[flags] FILE...", `
Runs the whole IRS pipeline (decoding, flows, TCP reassembly, protocol
parsers, file restore) over capture files — pcap or pcapng, plain or gzip —
read in order as one capture. Prints one JSON object per event on stdout,
or writes the events to MySQL with --db. Session pcaps and restored files
go under --data-dir (a temporary directory, removed at the end, when not
given). A damaged file is reported by name; the packets before the damage
are processed and the next file is read. Progress goes to stderr when it is
a terminal.`, stderr)
	var f irsFlags
	f.register(fs, 1)
	fs.StringVar(&f.dataDir, "data-dir", envDefault("SDNLI_DATA_DIR", ""), "where session pcaps and restored files go (env SDNLI_DATA_DIR; default: a temporary directory removed at the end)")
	sessionPcaps := fs.Bool("session-pcaps", true, "write a pcap of every intercepted session under --data-dir; false keeps only the events and the restored files")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile (go tool pprof) to this file when the last capture file is read, before the open sessions are ended")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	if fs.NArg() == 0 {
		return usageError{fmt.Errorf("no capture file given")}
	}
	if f.dataDir == "" {
		tmp, err := os.MkdirTemp("", "sdnli-inspect-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		f.dataDir = tmp
	}
	cfg := f.nodeConfig()
	cfg.Engine.NoSessionPcaps = !*sessionPcaps
	cfg.Events = stdout
	cfg.Logger = newLogger(f.logLevel)
	n, err := nodeOpen(ctx, cfg)
	if err != nil {
		return err
	}
	var progress func(string, int, int, int64, int64)
	if !*quiet && isTerminal(stderr) {
		start := time.Now()
		progress = func(file string, i, count int, read, size int64) {
			pct := 100.0
			if size > 0 {
				pct = 100 * float64(read) / float64(size)
			}
			st := n.Engine().Stats()
			rate := float64(st.Packets) / time.Since(start).Seconds()
			fmt.Fprintf(stderr, "\r[%d/%d] %-30.30s %5.1f%%  %d packets  %.0f packets/s  %d events ",
				i+1, count, filepath.Base(file), pct, st.Packets, rate, st.Events)
		}
	}
	runErr := n.RunFiles(ctx, fs.Args(), progress)
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			return err
		}
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closeErr := n.Close(closeCtx)
	if progress != nil {
		fmt.Fprintln(stderr)
	}
	st := n.Status()
	if !*quiet {
		fmt.Fprintf(stderr, "inspect: %d files, %d packets, %d connections parsed, %d events, %d decode errors\n",
			fs.NArg(), st.Engine.Packets, sumConn(st.Engine.Connections), st.Engine.Events, sumMap(st.Engine.DecodeErrors))
		if st.Sink != nil {
			fmt.Fprintf(stderr, "inspect: database: %d written, %d spooled (replayed at the next start), %d duplicates\n",
				st.Sink.Written, st.Sink.Spooled-st.Sink.Replayed, st.Sink.Duplicates)
		}
	}
	if runErr != nil {
		return runErr
	}
	return closeErr
}

// writeHeapProfile writes the live heap as of a fresh collection.
func writeHeapProfile(path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(pf); err != nil {
		pf.Close()
		return fmt.Errorf("heap profile %s: %w", path, err)
	}
	return pf.Close()
}

func sumConn(m map[string]uint64) uint64 { return sumMap(m) }

func sumMap(m map[string]uint64) uint64 {
	var t uint64
	for _, v := range m {
		t += v
	}
	return t
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
