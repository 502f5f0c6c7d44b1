package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/openflow"
	"github.com/sdnli/sdnli/schema"
)

func init() {
	register("controller", "OpenFlow 1.3 controller: per-protocol mirroring to the IRS nodes", runController)
}

func runController(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("controller", "--listen ADDR --api ADDR [--db DSN] [--config FILE] [flags]", `
The OpenFlow 1.3 controller. Switches (Open vSwitch: set-controller
tcp:HOST:PORT, protocols=OpenFlow13, fail_mode=secure) connect to
--listen; each gets flows that forward with NORMAL and copy the mirrored
protocols, once, at the port where traffic enters, to the IRS ports of
--config. Links between switches are found with LLDP; copies cross other
switches on a mirror VLAN. A reconnecting switch gets exactly the desired
flows back, and every switch's table is checked and repaired every
check_interval. With --db the per-protocol toggles are kept in MySQL
(migrated at start) and survive restarts.

The HTTP API on --api (JSON, see the controller README): GET /healthz,
/api/v1/switches, /api/v1/mirror, /api/v1/flows, /api/v1/topology,
/api/v1/mirror/dynamic; PUT /api/v1/mirror/{protocol} {"enabled":true};
POST /api/v1/mirror/dynamic.`, stderr)
	listen := fs.String("listen", envDefault("SDNLI_CONTROLLER_LISTEN", ":6653"), "OpenFlow address switches connect to (env SDNLI_CONTROLLER_LISTEN)")
	apiAddr := fs.String("api", envDefault("SDNLI_CONTROLLER_API", "127.0.0.1:8081"), "HTTP API address (env SDNLI_CONTROLLER_API)")
	dsn := fs.String("db", envDefault("SDNLI_DB", ""), "MySQL DSN keeping the mirror policy; empty keeps it in memory (env SDNLI_DB)")
	configFile := fs.String("config", envDefault("SDNLI_CONTROLLER_CONFIG", ""), "JSON configuration: IRS ports, protocol defaults, ports (env SDNLI_CONTROLLER_CONFIG)")
	tlsCert := fs.String("tls-cert", envDefault("SDNLI_CONTROLLER_TLS_CERT", ""), "PEM certificate: switches connect with TLS (ssl:HOST:PORT) (env SDNLI_CONTROLLER_TLS_CERT)")
	tlsKey := fs.String("tls-key", envDefault("SDNLI_CONTROLLER_TLS_KEY", ""), "PEM private key of --tls-cert (env SDNLI_CONTROLLER_TLS_KEY)")
	tlsCA := fs.String("tls-ca", envDefault("SDNLI_CONTROLLER_TLS_CA", ""), "PEM CA bundle: switches must present a certificate it signed (env SDNLI_CONTROLLER_TLS_CA)")
	role := fs.String("role", envDefault("SDNLI_CONTROLLER_ROLE", "master"), "OpenFlow role: master, slave (stand by, never programs) or equal (env SDNLI_CONTROLLER_ROLE)")
	genID := fs.String("generation-id", envDefault("SDNLI_CONTROLLER_GENERATION", ""), "generation id of master/slave requests; default: the start time in seconds, so a later master wins (env SDNLI_CONTROLLER_GENERATION)")
	token := fs.String("api-token", envDefault("SDNLI_API_TOKEN", ""), "bearer token required on /api/v1 (env SDNLI_API_TOKEN)")
	echo := fs.Duration("echo-interval", 5*time.Second, "probe a silent switch after this long; drop it after three times as long")
	logLevel := fs.String("log-level", envDefault("SDNLI_LOG_LEVEL", "info"), "debug, info, warn or error (env SDNLI_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	log := newLogger(*logLevel)

	var r openflow.ControllerRole
	switch strings.ToLower(*role) {
	case "master":
		r = openflow.RoleMaster
	case "slave":
		r = openflow.RoleSlave
	case "equal":
		r = openflow.RoleEqual
	default:
		return usageError{fmt.Errorf("--role %q: want master, slave or equal", *role)}
	}
	gen := uint64(time.Now().Unix())
	if *genID != "" {
		v, err := strconv.ParseUint(*genID, 0, 64)
		if err != nil {
			return usageError{fmt.Errorf("--generation-id %q: %v", *genID, err)}
		}
		gen = v
	}

	cfg := &policy.Config{}
	if *configFile != "" {
		var err error
		if cfg, err = policy.LoadConfig(*configFile); err != nil {
			return err
		}
	} else if err := cfg.Normalize(); err != nil {
		return err
	}

	var store policy.Store
	if *dsn != "" {
		db, err := openDB(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := schema.Migrate(ctx, db); err != nil {
			return err
		}
		store = policy.SQLStore{DB: db}
	}

	c, err := controller.New(ctx, controller.Options{
		Config: cfg, Store: store, Role: r, GenerationID: gen,
		Conn: openflow.Config{EchoInterval: *echo}, Logger: log,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("openflow listener: %w", err)
	}
	if *tlsCert != "" || *tlsKey != "" || *tlsCA != "" {
		if *tlsCert == "" || *tlsKey == "" {
			ln.Close()
			return usageError{errors.New("--tls-cert and --tls-key go together")}
		}
		tc, err := controller.TLSConfig(*tlsCert, *tlsKey, *tlsCA)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, tc)
	}
	apiLn, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("api listener: %w", err)
	}
	srv := &http.Server{Handler: c.Handler(*token), ReadHeaderTimeout: 10 * time.Second}
	log.Info("controller started", "openflow", ln.Addr().String(), "api", apiLn.Addr().String(),
		"role", r.String(), "generation", gen, "irs", len(cfg.IRS), "db", *dsn != "")

	apiErr := make(chan error, 1)
	go func() { apiErr <- srv.Serve(apiLn) }()
	ofErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { ofErr <- c.Serve(ctx, ln) }()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-apiErr:
		runErr = fmt.Errorf("api: %w", runErr)
	case runErr = <-ofErr:
	}
	cancel()
	shutCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("api shutdown", "err", err)
	}
	if err := <-ofErr; err != nil && runErr == nil {
		runErr = err
	}
	log.Info("controller stopped")
	return runErr
}
