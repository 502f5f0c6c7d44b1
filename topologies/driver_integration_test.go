//go:build integration

package topologies

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/internal/mnlab"
)

// topoNet keeps this suite's networks apart from other suites' (names
// mXXXXs1, subnets 10.60-99.x, DPIDs 0x5d....).
var topoNet = mnlab.Options{Letter: "m", SubnetBase: 60, DPIDBase: 0x5d0000}

func TestMain(m *testing.M) { os.Exit(mnlab.Main(m)) }

// controllerProc is `sdnli controller` running as a process.
type controllerProc struct {
	t       *testing.T
	args    []string
	OFAddr  string
	APIAddr string
	API     *client.Client
	cmd     *exec.Cmd
	done    chan struct{}
}

// startController runs the controller binary on ofAddr with a
// configuration file and, when dsn is set, a database; it is killed in
// t.Cleanup.
func startController(t *testing.T, ofAddr, configFile, dsn string) *controllerProc {
	t.Helper()
	p := &controllerProc{t: t, OFAddr: ofAddr, APIAddr: mnlab.FreeAddr(t)}
	p.args = []string{"controller", "--listen", p.OFAddr, "--api", p.APIAddr, "--config", configFile, "--echo-interval", "1s"}
	if dsn != "" {
		p.args = append(p.args, "--db", dsn)
	}
	p.API = client.New("http://" + p.APIAddr)
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *controllerProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(mnlab.Binary(p.t), p.args...)
	p.cmd.Stdout = logWriter{p.t, "controller"}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start controller: %v", err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(p.cmd, p.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.API.Health(context.Background()); err == nil {
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("controller exited at start")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("controller API did not answer within 30s")
		}
	}
}

// kill ends the controller with SIGKILL: no goodbye to the switches.
func (p *controllerProc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// logWriter streams the controller's output into the test log as it
// comes, so that a restart shows where it stood.
type logWriter struct {
	t      *testing.T
	prefix string
}

func (w logWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.t.Logf("[%s] %s", w.prefix, l)
	}
	return len(b), nil
}
