package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/node"
)

func init() {
	register("irs", "capture mirrored traffic on an interface, parse it and record events", runIRS)
}

// nodeOpen is node.Open; a variable so that tests can wrap it.
var nodeOpen = node.Open

func runIRS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("irs", "--iface IF --db DSN --data-dir DIR [flags]", `
The Interception and Recording System daemon. Captures the mirrored copies
arriving on --iface (AF_PACKET, TPACKET_V3, promiscuous), reassembles them,
runs the protocol parsers, keeps a pcap of every intercepted session and
the restored emails and files under --data-dir, and writes events to
MySQL. When MySQL is unreachable, events are spooled under
--data-dir/spool and written when it is back. Logs capture and drop
counters and updates its row in irs_nodes every --heartbeat. Stops
cleanly on SIGINT/SIGTERM: open sessions are closed and their events
written (or spooled).`, stderr)
	var f irsFlags
	f.register(fs, defaultWorkerCount())
	iface := fs.String("iface", envDefault("SDNLI_IFACE", ""), "interface receiving the mirrored traffic (env SDNLI_IFACE)")
	fs.StringVar(&f.dataDir, "data-dir", envDefault("SDNLI_DATA_DIR", "/var/lib/sdnli/irs"), "data directory: session pcaps, restored files, event spool (env SDNLI_DATA_DIR)")
	heartbeat := fs.Duration("heartbeat", 5*time.Second, "interval of heartbeats in irs_nodes and of counter log lines")
	ring := fs.Int("ring-mb", 64, "capture ring size in MiB; a larger ring rides out longer bursts")
	var api irsAPIFlags
	api.register(fs)
	controllerURL := fs.String("controller", envDefault("SDNLI_CONTROLLER_URL", ""), "controller API URL (e.g. http://ctl:8081): parsers ask it to mirror the connections they learn of (FTP data, PPTP GRE) for a while (env SDNLI_CONTROLLER_URL)")
	controllerToken := fs.String("controller-token", envDefault("SDNLI_CONTROLLER_TOKEN", ""), "bearer token of the controller API (env SDNLI_CONTROLLER_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iface == "" {
		return usageError{fmt.Errorf("--iface is required")}
	}
	if f.db == "" {
		return usageError{fmt.Errorf("--db is required")}
	}
	cfg := f.nodeConfig()
	cfg.Logger = newLogger(f.logLevel)
	cfg.Heartbeat = *heartbeat
	apiURL, err := api.url()
	if err != nil {
		return err
	}
	cfg.APIURL = apiURL
	cfg.ControllerURL, cfg.ControllerToken = *controllerURL, *controllerToken
	n, err := nodeOpen(ctx, cfg)
	if err != nil {
		return err
	}
	stopAPI, err := api.start(n, cfg.Logger)
	if err != nil {
		_ = n.Close(ctx)
		return err
	}
	defer stopAPI()
	runErr := n.RunLive(ctx, capture.LiveConfig{Interface: *iface, NumBlocks: *ring})
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closeErr := n.Close(closeCtx)
	if runErr != nil {
		return runErr
	}
	return closeErr
}
