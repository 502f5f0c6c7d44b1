package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/events"
	"github.com/sdnli/sdnli/controller/apiv1"
	"github.com/sdnli/sdnli/controller/client"
	irsapi "github.com/sdnli/sdnli/irs/api"
)

// protocolName is what a protocol name may look like (as the controller
// and the IRS parsers name them).
var protocolName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// MirrorProtocol is one protocol on the mirroring page: the controller's
// policy and which IRS nodes run its parser (from their heartbeats).
type MirrorProtocol struct {
	apiv1.Protocol
	Parsers map[string]bool `json:"parsers"`
}

// MirrorState answers GET /api/v1/mirror.
type MirrorState struct {
	Protocols []MirrorProtocol `json:"protocols"`
}

func (s *Server) controllerOr503(w http.ResponseWriter) bool {
	if s.cfg.Controller == nil {
		writeError(w, http.StatusServiceUnavailable, "no controller configured (--controller)")
		return false
	}
	return true
}

// controllerError answers with what went wrong at the controller: 404
// for a protocol it does not know, 502 for the rest (with the switches
// that failed, when it says).
func controllerError(w http.ResponseWriter, err error) {
	var ce *client.Error
	if errors.As(err, &ce) {
		if ce.Status == http.StatusNotFound {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeJSON(w, http.StatusBadGateway, struct {
			Error    string               `json:"error"`
			Switches []apiv1.SwitchResult `json:"switches,omitempty"`
		}{err.Error(), ce.Switches})
		return
	}
	writeError(w, http.StatusBadGateway, err.Error())
}

func (s *Server) getMirror(w http.ResponseWriter, r *http.Request) {
	if !s.controllerOr503(w) {
		return
	}
	protos, err := s.cfg.Controller.Mirror(r.Context())
	if err != nil {
		controllerError(w, err)
		return
	}
	nodes, err := s.events.Nodes(r.Context())
	if err != nil {
		s.log.Error("analyzer: nodes", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read IRS nodes")
		return
	}
	parsers := map[string]map[string]bool{} // node → protocol → on
	for _, n := range nodes {
		var st struct {
			Parsers map[string]bool `json:"parsers"`
		}
		if json.Unmarshal(n.Stats, &st) == nil && st.Parsers != nil {
			parsers[n.Name] = st.Parsers
		}
	}
	out := MirrorState{Protocols: []MirrorProtocol{}}
	for _, p := range protos {
		mp := MirrorProtocol{Protocol: p, Parsers: map[string]bool{}}
		for node, ps := range parsers {
			if on, ok := ps[p.Name]; ok {
				mp.Parsers[node] = on
			}
		}
		out.Protocols = append(out.Protocols, mp)
	}
	writeJSON(w, http.StatusOK, out)
}

// NodeResult is what one IRS node did with a parser switch.
type NodeResult struct {
	Node   string `json:"node"`
	Result string `json:"result"` // ok, no-parser, skipped, error
	Error  string `json:"error,omitempty"`
}

// ToggleResult answers PUT /api/v1/mirror/{protocol}.
type ToggleResult struct {
	Protocol   string                    `json:"protocol"`
	Enabled    bool                      `json:"enabled"`
	Controller *apiv1.MirrorUpdateResult `json:"controller"`
	Nodes      []NodeResult              `json:"nodes"`
}

type toggleRequest struct {
	Enabled *bool `json:"enabled"`
}

// setMirror switches a protocol on or off: the parsers on the IRS nodes
// and the mirror flows on every switch. Switching on, the parsers go
// first so that no copy arrives unparsed; switching off, the flows go
// first so that no copy arrives with its parser already off.
func (s *Server) setMirror(w http.ResponseWriter, r *http.Request) {
	proto := chi.URLParam(r, "protocol")
	var req toggleRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Enabled == nil {
		writeError(w, http.StatusBadRequest, `body must be {"enabled": true|false}`)
		return
	}
	if !protocolName.MatchString(proto) {
		writeError(w, http.StatusBadRequest, "bad protocol name")
		return
	}
	if !s.controllerOr503(w) {
		return
	}
	on := *req.Enabled
	e := audit.Entry{Action: audit.ActionMirrorToggle, Target: proto}
	detail := map[string]any{"enabled": on}
	res := ToggleResult{Protocol: proto, Enabled: on, Nodes: []NodeResult{}}

	nodes, err := s.events.Nodes(r.Context())
	if err != nil {
		s.log.Error("analyzer: nodes", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read IRS nodes")
		return
	}
	if on {
		res.Nodes = s.switchParsers(r.Context(), nodes, proto, true)
	}
	cres, err := s.cfg.Controller.SetMirror(r.Context(), proto, on)
	if err != nil {
		e.Outcome = audit.OutcomeFailure
		detail["error"] = err.Error()
		detail["nodes"] = res.Nodes
		s.record(r, e, detail)
		controllerError(w, err)
		return
	}
	res.Controller = cres
	detail["switches"] = len(cres.Switches)
	if !on {
		res.Nodes = s.switchParsers(r.Context(), nodes, proto, false)
	}
	e.Outcome = audit.OutcomeOK
	detail["nodes"] = res.Nodes
	s.record(r, e, detail)
	writeJSON(w, http.StatusOK, res)
}

// switchParsers asks every live IRS node with an API to switch the
// protocol's parser; nodes whose heartbeat is stale are skipped.
func (s *Server) switchParsers(ctx context.Context, nodes []events.Node, proto string, on bool) []NodeResult {
	out := make([]NodeResult, len(nodes))
	done := make(chan struct{}, len(nodes))
	for i, n := range nodes {
		out[i] = NodeResult{Node: n.Name}
		switch {
		case n.APIURL == "":
			out[i].Result, out[i].Error = "skipped", "no API URL"
			done <- struct{}{}
			continue
		case time.Duration(n.HeartbeatAge*float64(time.Second)) > s.cfg.NodeStale:
			out[i].Result, out[i].Error = "skipped", "heartbeat too old"
			done <- struct{}{}
			continue
		}
		go func() {
			defer func() { done <- struct{}{} }()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			err := s.irs.SetParser(cctx, n.APIURL, proto, on)
			switch {
			case err == nil:
				out[i].Result = "ok"
			case errors.Is(err, irsapi.ErrNotFound):
				out[i].Result = "no-parser"
			default:
				out[i].Result, out[i].Error = "error", err.Error()
			}
		}()
	}
	for range nodes {
		<-done
	}
	return out
}

func (s *Server) nodes(w http.ResponseWriter, r *http.Request) {
	nodes, err := s.events.Nodes(r.Context())
	if err != nil {
		s.log.Error("analyzer: nodes", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read IRS nodes")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": nodes, "stale_after_seconds": s.cfg.NodeStale.Seconds()})
}

// controllerPass answers with what the controller says about its
// switches, flows or topology.
func (s *Server) controllerPass(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.controllerOr503(w) {
			return
		}
		var out any
		var err error
		switch what {
		case "switches":
			var sw []apiv1.Switch
			sw, err = s.cfg.Controller.Switches(r.Context())
			out = apiv1.SwitchList{Switches: sw}
		case "flows":
			var fl []apiv1.SwitchFlows
			fl, err = s.cfg.Controller.Flows(r.Context())
			out = apiv1.FlowList{Switches: fl}
		default:
			out, err = s.cfg.Controller.Topology(r.Context())
		}
		if err != nil {
			controllerError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}
