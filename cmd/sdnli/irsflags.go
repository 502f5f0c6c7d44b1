package main

import (
	"flag"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sdnli/sdnli/irs/node"
	"github.com/sdnli/sdnli/irs/parser"
)

// irsFlags are the flags `sdnli irs` and `sdnli inspect` share.
type irsFlags struct {
	db, dataDir, name, disable, logLevel string
	workers, gcPercent                   int
	recordPasswords                      bool
	maxArtifact                          int
}

func (f *irsFlags) register(fs *flag.FlagSet, defaultWorkers int) {
	host, _ := os.Hostname()
	fs.StringVar(&f.db, "db", envDefault("SDNLI_DB", ""), "MySQL DSN for events, e.g. 'sdnli:pw@tcp(db:3306)/sdnli' (env SDNLI_DB)")
	fs.StringVar(&f.name, "name", envDefault("SDNLI_NODE", host), "IRS node name recorded in every event (env SDNLI_NODE)")
	fs.IntVar(&f.workers, "workers", envInt("SDNLI_WORKERS", defaultWorkers), "worker goroutines; flows are spread over them by a symmetric hash (env SDNLI_WORKERS)")
	fs.StringVar(&f.disable, "disable", envDefault("SDNLI_DISABLE", ""), "comma-separated protocols whose parsers start switched off (env SDNLI_DISABLE)")
	fs.BoolVar(&f.recordPasswords, "record-passwords", envDefault("SDNLI_RECORD_PASSWORDS", "") == "true", "store cleartext passwords seen in logins; off unless the warrant covers credentials (env SDNLI_RECORD_PASSWORDS=true)")
	fs.IntVar(&f.maxArtifact, "max-file-size", envInt("SDNLI_MAX_FILE_SIZE", parser.DefaultOptions().MaxArtifactBytes), "largest restored file (email, attachment, transfer) in bytes; larger ones are cut and marked (env SDNLI_MAX_FILE_SIZE)")
	fs.IntVar(&f.gcPercent, "gc-percent", envInt("SDNLI_GC_PERCENT", 400), "Go garbage collector target (GOGC): higher trades memory for CPU; the packet path allocates little, the parsers more (env SDNLI_GC_PERCENT; GOGC, when set, wins)")
	fs.StringVar(&f.logLevel, "log-level", envDefault("SDNLI_LOG_LEVEL", "info"), "debug, info, warn or error (env SDNLI_LOG_LEVEL)")
}

// applyRuntime sets process-wide knobs from the flags.
func (f *irsFlags) applyRuntime() {
	if _, set := os.LookupEnv("GOGC"); !set && f.gcPercent > 0 {
		debug.SetGCPercent(f.gcPercent)
	}
}

func (f *irsFlags) nodeConfig() node.Config {
	f.applyRuntime()
	opts := parser.DefaultOptions()
	opts.RecordPasswords = f.recordPasswords
	opts.MaxArtifactBytes = f.maxArtifact
	var disabled []string
	for _, p := range strings.Split(f.disable, ",") {
		if p = strings.TrimSpace(p); p != "" {
			disabled = append(disabled, p)
		}
	}
	return node.Config{Name: f.name, DataDir: f.dataDir, DSN: f.db, Workers: f.workers, Options: opts, Disabled: disabled}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func defaultWorkerCount() int {
	if n := runtime.NumCPU(); n > 1 {
		return n
	}
	return 1
}
