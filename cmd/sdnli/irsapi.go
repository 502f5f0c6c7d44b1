package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	irsapi "github.com/sdnli/sdnli/irs/api"
	"github.com/sdnli/sdnli/irs/node"
)

// irsAPIFlags are `sdnli irs`'s flags for the node's HTTP API, through
// which the analyzer downloads raw data and switches parsers.
type irsAPIFlags struct {
	listen, publicURL, token string
}

func (f *irsAPIFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "api", envDefault("SDNLI_IRS_API", ""), "address of the node's HTTP API for the analyzer (raw data, parser switches), e.g. ':8081'; empty: no API (env SDNLI_IRS_API)")
	fs.StringVar(&f.publicURL, "api-url", envDefault("SDNLI_IRS_API_URL", ""), "URL under which the analyzer reaches the API, recorded in irs_nodes; default http://<host name>:<port of --api> (env SDNLI_IRS_API_URL)")
	fs.StringVar(&f.token, "api-token", envDefault("SDNLI_IRS_TOKEN", ""), "shared bearer token the analyzer presents (its --irs-token); required with --api (env SDNLI_IRS_TOKEN)")
}

// url returns the API URL to advertise, or "" without --api.
func (f *irsAPIFlags) url() (string, error) {
	if f.listen == "" {
		return "", nil
	}
	if f.token == "" {
		return "", usageError{errors.New("--api needs --api-token (or SDNLI_IRS_TOKEN)")}
	}
	if f.publicURL != "" {
		return strings.TrimRight(f.publicURL, "/"), nil
	}
	host, port, err := net.SplitHostPort(f.listen)
	if err != nil {
		return "", usageError{fmt.Errorf("--api %q: %w", f.listen, err)}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host, _ = os.Hostname()
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// start serves the API for n until the returned function is called.
func (f *irsAPIFlags) start(n *node.Node, log *slog.Logger) (func(), error) {
	if f.listen == "" {
		return func() {}, nil
	}
	h, err := irsapi.New(irsapi.Config{Store: n.Store(), Registry: n.Registry(), Token: f.token,
		Status: func() any { return n.Status() }, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return nil, fmt.Errorf("irs: --api: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("irs: API server stopped", "err", err)
		}
	}()
	log.Info("irs: API listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
