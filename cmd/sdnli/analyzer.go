package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/sdnli/sdnli/analyzer"
	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/schema"
)

func init() {
	register("analyzer", "serve the analysis API and web UI (search, raw data, mirroring, audit)", runAnalyzer)
}

func runAnalyzer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("analyzer", "--listen ADDR --db DSN --controller URL [flags]", `
The analysis service: a JSON API under /api/v1 (OpenAPI document at
/api/v1/openapi.json) and the web UI. Analysts search the events the IRS
nodes recorded and download their raw data, fetched from the owning IRS
node's API and checked against its SHA-256; administrators toggle
mirroring per protocol (through the controller and the IRS nodes'
parsers) and manage accounts; auditors read the append-only audit log.

Create the first administrator with 'sdnli user add --role admin'; there
is no default account. Serve over TLS (--tls-cert/--tls-key) anywhere but
on a trusted host: the session cookie is marked Secure under TLS.`, stderr)
	listen := fs.String("listen", envDefault("SDNLI_ANALYZER_LISTEN", ":8080"), "address of the API and UI (env SDNLI_ANALYZER_LISTEN)")
	db := fs.String("db", envDefault("SDNLI_DB", ""), "MySQL DSN, e.g. 'sdnli:pw@tcp(db:3306)/sdnli' (env SDNLI_DB)")
	controller := fs.String("controller", envDefault("SDNLI_CONTROLLER", ""), "URL of the controller's API, e.g. http://controller:8081; empty: mirroring and switch pages are unavailable (env SDNLI_CONTROLLER)")
	controllerToken := fs.String("controller-token", envDefault("SDNLI_CONTROLLER_TOKEN", ""), "bearer token of the controller's API (env SDNLI_CONTROLLER_TOKEN)")
	irsToken := fs.String("irs-token", envDefault("SDNLI_IRS_TOKEN", ""), "bearer token of the IRS nodes' API, their --api-token (env SDNLI_IRS_TOKEN)")
	tlsCert := fs.String("tls-cert", envDefault("SDNLI_TLS_CERT", ""), "TLS certificate (PEM); with --tls-key serves HTTPS (env SDNLI_TLS_CERT)")
	tlsKey := fs.String("tls-key", envDefault("SDNLI_TLS_KEY", ""), "TLS private key (PEM) (env SDNLI_TLS_KEY)")
	logLevel := fs.String("log-level", envDefault("SDNLI_LOG_LEVEL", "info"), "debug, info, warn or error (env SDNLI_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return usageError{errors.New("--db is required")}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	if *irsToken == "" {
		fmt.Fprintln(stderr, "sdnli analyzer: warning: no --irs-token: raw-data downloads and parser switches will be refused by the IRS nodes")
	}
	log := newLogger(*logLevel)
	conn, err := openDB(ctx, *db)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := schema.Migrate(ctx, conn); err != nil {
		return err
	}
	cfg := analyzer.Config{DB: conn, IRSToken: *irsToken, SecureCookies: *tlsCert != "", Logger: log}
	if *controller != "" {
		u, err := url.Parse(*controller)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError{fmt.Errorf("--controller %q: want http://host:port", *controller)}
		}
		cfg.Controller = client.New(*controller, client.WithToken(*controllerToken),
			// A toggle waits for every switch's barrier.
			client.WithHTTPClient(&http.Client{Timeout: 60 * time.Second}))
	}
	srv, err := analyzer.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("analyzer: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: nil}
	go srv.PurgeSessions(ctx, 10*time.Minute)
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	log.Info("analyzer: listening", "url", scheme+"://"+ln.Addr().String(), "controller", *controller)
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- hs.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("analyzer: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("analyzer: shutdown: %w", err)
	}
	return nil
}
